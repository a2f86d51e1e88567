#!/usr/bin/env python3
"""Baseline for `entrail bench query`: the same SQL in DuckDB over the archive's Parquet files.
argv: archive dir, runs, JSON list of queries. Prints JSON: medians (seconds), rows, version."""
import json, statistics, sys, time
import duckdb

archive, runs, queries = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
con = duckdb.connect()
con.execute("SET threads TO 2")
for table in ["SigninLogs", "AADNonInteractiveUserSignInLogs"]:
    con.execute(
        f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{archive}/{table}/*/*.parquet', hive_partitioning=true)"
    )
medians, rows = [], []
for q in queries:
    times = []
    for _ in range(max(runs, 1)):
        t = time.perf_counter()
        result = con.execute(q).fetchall()
        times.append(time.perf_counter() - t)
    medians.append(statistics.median(times))
    rows.append(len(result))
print(json.dumps({"medians": medians, "rows": rows, "version": duckdb.__version__}))

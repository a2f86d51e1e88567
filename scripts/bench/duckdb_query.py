#!/usr/bin/env python3
"""Baseline for `entrail bench query`: the same SQL in DuckDB over the archive's Parquet files.
argv: archive dir, runs, JSON list of queries, optionally --dedup. Prints JSON: medians (seconds),
rows, version; with --dedup also dedup_medians and dedup_rows: the same queries over views that
keep the latest revision per _Key, as entrail's tables do."""
import json, statistics, sys, time
import duckdb

archive, runs, queries = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
dedup = "--dedup" in sys.argv[4:]
con = duckdb.connect()
con.execute("SET threads TO 2")
TABLES = ["SigninLogs", "AADNonInteractiveUserSignInLogs"]


def raw(table):
    return f"read_parquet('{archive}/{table}/*/*.parquet', hive_partitioning=true)"


def run_all():
    medians, rows = [], []
    for q in queries:
        times = []
        for _ in range(max(runs, 1)):
            t = time.perf_counter()
            result = con.execute(q).fetchall()
            times.append(time.perf_counter() - t)
        medians.append(statistics.median(times))
        rows.append(len(result))
    return medians, rows


for table in TABLES:
    con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {raw(table)}")
medians, rows = run_all()
out = {"medians": medians, "rows": rows, "version": duckdb.__version__}
if dedup:
    # The same semantics as entrail's latest-revision view: drop a row when a higher _Revision
    # of its _Key exists.
    for table in TABLES:
        con.execute(
            f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {raw(table)} t WHERE NOT EXISTS ("
            f"SELECT 1 FROM (SELECT _Key, max(_Revision) AS m FROM {raw(table)} WHERE _Revision > 0 GROUP BY _Key) r "
            f"WHERE r._Key = t._Key AND t._Revision < r.m)"
        )
    out["dedup_medians"], out["dedup_rows"] = run_all()
print(json.dumps(out))

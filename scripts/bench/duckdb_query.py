#!/usr/bin/env python3
"""Baseline for `entrail bench query`: the same SQL in DuckDB over the archive's Parquet files.
argv: archive dir, runs, JSON list of queries, optionally --dedup. Prints JSON: medians (seconds),
rows, version; with --dedup also dedup_medians and dedup_rows: the same queries over views that
keep the latest revision per _Key, as entrail's tables do.

argv: archive dir, --serve: runs one query per request so that the caller can interleave DuckDB's
runs with its own (both then see the same machine load). Prints `{"version": ...}` first; then reads
one JSON object per line, {"sql": ..., "dedup": false}, and answers each with one line,
{"s": seconds, "rows": n} or {"error": text}."""
import json, statistics, sys, time
import duckdb

archive = sys.argv[1]
serve = sys.argv[2:3] == ["--serve"]
if not serve:
    runs, queries = int(sys.argv[2]), json.loads(sys.argv[3])
dedup = "--dedup" in sys.argv[4:]
con = duckdb.connect()
con.execute("SET threads TO 2")
TABLES = ["SigninLogs", "AADNonInteractiveUserSignInLogs"]


def raw(table):
    return f"read_parquet('{archive}/{table}/*/*.parquet', hive_partitioning=true)"


def views(latest):
    """Registers the tables as plain views of the files, or (latest) with entrail's semantics."""
    for table in TABLES:
        if latest:
            # The same semantics as entrail's latest-revision view: drop a row when a higher
            # _Revision of its _Key exists.
            con.execute(
                f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {raw(table)} t WHERE NOT EXISTS ("
                f"SELECT 1 FROM (SELECT _Key, max(_Revision) AS m FROM {raw(table)} WHERE _Revision > 0 GROUP BY _Key) r "
                f"WHERE r._Key = t._Key AND t._Revision < r.m)"
            )
        else:
            con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {raw(table)}")


if serve:
    views(False)
    latest = False
    print(json.dumps({"version": duckdb.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            if bool(request.get("dedup")) != latest:
                latest = bool(request.get("dedup"))
                views(latest)
            t = time.perf_counter()
            n = len(con.execute(request["sql"]).fetchall())
            answer = {"s": time.perf_counter() - t, "rows": n}
        except Exception as e:  # reported to the caller, which fails the benchmark
            answer = {"error": str(e)}
        print(json.dumps(answer), flush=True)
    sys.exit(0)


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


views(False)
medians, rows = run_all()
out = {"medians": medians, "rows": rows, "version": duckdb.__version__}
if dedup:
    views(True)
    out["dedup_medians"], out["dedup_rows"] = run_all()
print(json.dumps(out))

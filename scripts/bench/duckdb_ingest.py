#!/usr/bin/env python3
"""Baseline for `entrail bench ingest`: DuckDB converts the same JSON-lines file to zstd Parquet.
Prints JSON: cpu_seconds (user+system of this process while DuckDB works), parquet_bytes, version."""
import json, os, resource, sys
import duckdb

src, dst = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET threads TO 2")
before = resource.getrusage(resource.RUSAGE_SELF)
con.execute(
    f"COPY (SELECT * FROM read_json('{src}', format='newline_delimited', maximum_object_size=16777216)) "
    f"TO '{dst}' (FORMAT parquet, COMPRESSION zstd)"
)
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"cpu_seconds": cpu, "parquet_bytes": os.path.getsize(dst), "version": duckdb.__version__}))

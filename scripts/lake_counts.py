#!/usr/bin/env python3
"""Counts the rows of an entrail lake (or archive) directory with Spark, the way a lake user would read it.

Usage: lake_counts.py ROOT [ROOT ...]

Each ROOT holds one directory per table, Hive-partitioned by day: ROOT/<Table>/day=YYYY-MM-DD/*.parquet.
Every table directory is read with spark.read.parquet (partition discovery gives the `day` column) in local
mode; the result is printed as one JSON object on stdout:

    {"<ROOT>": {"<Table>": {"rows": N, "latest": L, "days": {"YYYY-MM-DD": N, ...}, "columns": C}, ...}, ...}

`rows` counts every row (every revision: what `entrail query` shows as `<Table>_all`); `latest` drops the rows a
higher `_Revision` of the same `_Key` replaces (what `entrail query` shows as `<Table>`).

Run it with the venv scripts/install-test-deps creates (/var/tmp/entrail-pyspark/bin/python); it needs Java.
Used by crates/pipeline/tests/lake.rs.
"""
import json
import os
import sys


def main(roots):
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("entrail-lake-counts")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        # Keep `day` a string, as the archive writes it (YYYY-MM-DD), not a date.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    out = {}
    for root in roots:
        tables = {}
        for table in sorted(os.listdir(root)):
            path = os.path.join(root, table)
            if table.startswith(("_", ".")) or not os.path.isdir(path):
                continue
            df = spark.read.option("basePath", path).parquet(path)
            if "day" not in df.columns:
                raise SystemExit(f"{path}: no `day` partition column discovered")
            days = {r["day"]: r["count"] for r in df.groupBy("day").count().collect()}
            newest = df.groupBy("_Key").agg(F.max("_Revision").alias("__max_revision"))
            latest = (
                df.join(newest, "_Key")
                .filter(F.col("_Revision") >= F.col("__max_revision"))
                .count()
            )
            tables[table] = {
                "rows": sum(days.values()),
                "latest": latest,
                "days": dict(sorted(days.items())),
                "columns": len(df.columns),
            }
        out[root] = tables
    spark.stop()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1:])

#!/usr/bin/env python3
"""Reads `_Raw` of entrail archive files written with `archive.raw = "residual"` (docs/archive.md).

A stored `_Raw` that does not start with a NUL character is the raw record itself. One that starts with NUL is
a residual: after that NUL, NUL + chr(1) stands for a NUL of the raw text and NUL + chr(2 + k) for the value of
the row's k-th text column, where the text columns are the file's string columns before `_EventTime`, in file
order (at most 126). `_Key` is stored the same way: where it equals the table's id column (`Id`), as a residual
that is one reference to it. `decode` puts the values back; `with_raw` does it for `_Raw` and `_Key` of a Spark
DataFrame:

    import sys; sys.path.insert(0, "scripts")
    from residual_raw import with_raw
    df = with_raw(spark.read.parquet("archive/SigninLogs"))   # `_Raw` is the raw JSON again

Run as a script (`residual_raw.py ROOT`), it reads every table under ROOT (ROOT/<Table>/day=.../*.parquet)
with Spark in local mode and prints one JSON object per row: {"table": T, "key": _Key, "raw": decoded _Raw}.
Run it with the venv scripts/install-test-deps creates (/var/tmp/entrail-pyspark/bin/python); it needs Java.
Used by crates/store/tests/residual_spark.rs.
"""
import json
import os
import sys

MAX_COLUMNS = 126


def text_columns(fields):
    """Names of the columns a residual refers to, from (name, is_string) pairs in file order."""
    names = []
    for name, is_string in fields:
        if name == "_EventTime":
            break
        if is_string:
            names.append(name)
    return names[:MAX_COLUMNS]


def decode(stored, values):
    """The raw text of a stored `_Raw`, given the row's text column values (None for null)."""
    if stored is None or not stored.startswith("\0"):
        return stored
    parts = stored[1:].split("\0")
    out = [parts[0]]
    for part in parts[1:]:
        code = ord(part[0]) if part else -1
        if code == 1:
            out.append("\0")
        elif 2 <= code < 128:
            value = values[code - 2] if code - 2 < len(values) else None
            if value is None:
                raise ValueError(f"the residual refers to text column {code - 2}, which the row does not have")
            out.append(value)
        else:
            raise ValueError("malformed residual")
        out.append(part[1:])
    return "".join(out)


def with_raw(df):
    """`df` (an entrail table read by Spark) with `_Raw` and `_Key` decoded."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    columns = text_columns((f.name, isinstance(f.dataType, T.StringType)) for f in df.schema.fields)
    udf = F.udf(lambda raw, *values: decode(raw, values), T.StringType())
    values = [F.col(c) for c in columns]
    return df.withColumn("_Raw", udf(F.col("_Raw"), *values)).withColumn("_Key", udf(F.col("_Key"), *values))


def main(root):
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # The Python workers that run the UDF use this interpreter (the venv with pyspark), not `python3`.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("entrail-residual-raw")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for table in sorted(os.listdir(root)):
        path = os.path.join(root, table)
        if table.startswith(("_", ".")) or not os.path.isdir(path):
            continue
        df = with_raw(spark.read.option("basePath", path).parquet(path))
        for row in df.select("_Key", "_Raw").toLocalIterator():
            print(json.dumps({"table": table, "key": row["_Key"], "raw": row["_Raw"]}))
    spark.stop()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])

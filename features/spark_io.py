"""Spark's edges: read customers / events / cutoffs (Parquet, CSV, pandas) and write tables.

Types are fixed at the edge, the way ``features.load`` fixes them for DuckDB: contract
columns get their contract type whatever the file says (a CSV has no types; a Parquet file
may hold integer amounts), so the compiled SQL sees the same types on both engines. Files are
read by Spark itself, never through pandas, so a billion events never reach the driver.

Written tables are Parquet folders partitioned by ``cutoff_date`` (the cutoff's UTC date),
while ``cutoff`` itself stays in the files as a timestamp: a reader that ignores the folder
names (``pd.read_parquet(path, partitioning=None)``) still gets every column with its type.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import pandas as pd
import pyarrow as pa

from cxchurn.errors import ConfigError, DataContractError
from features import schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Source: TypeAlias = pd.DataFrame | str | Path
PARTITION_COLUMN = "cutoff_date"
CSV_SUFFIXES = (".csv", ".gz")

# Contract column -> Spark SQL type, per table (other columns keep their own type).
CONTRACT_TYPES: dict[str, dict[str, str]] = {
    "customers": {"customer_id": "string", "signup_date": "timestamp"},
    "events": {"customer_id": "string", "event_time": "timestamp", "event_type": "string",
               "channel": "string", "amount": "double", "score": "double",
               "duration": "double", "text": "string"},
    "cutoffs": {"customer_id": "string", "cutoff": "timestamp"},
}


# Schemes whose URIs carry an authority (bucket, host): ``s3a://bucket/key``. A CLI option
# typed as a path collapses "//" to "/", which is restored here.
_AUTHORITY_SCHEMES = ("s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "hdfs", "oss")
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/+(.*)$")


def location(path: str | Path) -> str:
    """A path or URI as Spark should see it (remote URIs kept remote, local paths as is)."""
    text = str(path)
    match = _URI.match(text)
    if not match:
        return text
    scheme, rest = match.groups()
    return f"{scheme}://{rest}" if scheme.lower() in _AUTHORITY_SCHEMES else text


def is_remote(path: str | Path) -> bool:
    """True for a URI with a scheme (s3a://, hdfs://, dbfs:/ ...), which only Spark can reach."""
    return bool(_URI.match(str(path))) and not str(path).startswith("file:")


def write_text(spark: SparkSession, path: str | Path, text: str) -> str:
    """Write a small text file (the spec JSON) locally or through Hadoop's file system API."""
    where = location(path)
    if not is_remote(where):
        Path(where).parent.mkdir(parents=True, exist_ok=True)
        Path(where).write_text(text, encoding="utf-8")
        return where
    jvm = spark.sparkContext._jvm
    if jvm is None:  # a Spark Connect session has no JVM gateway to Hadoop's file system
        raise ConfigError(f"writing {where} needs a classic Spark session with a JVM; Spark "
                          "Connect sessions can only write local paths")
    target = jvm.org.apache.hadoop.fs.Path(where)
    fs = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = fs.create(target, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
    return where


def _events_csv_schema() -> str:
    return ", ".join(f"`{c}` {t}" for c, t in CONTRACT_TYPES["events"].items())


def _read_path(spark: SparkSession, path: Path | str, table: str) -> DataFrame:
    if is_remote(path):
        where = location(path)
        if where.lower().endswith(CSV_SUFFIXES):
            return spark.read.option("header", True).option("inferSchema", True).csv(where)
        return spark.read.parquet(where)
    path = Path(path)
    if not path.exists():
        raise DataContractError(f"{table} input {str(path)!r} does not exist; expected a "
                                f"Parquet or CSV file, or a folder of Parquet files.")
    if path.is_file() and path.name.lower().endswith(CSV_SUFFIXES):
        reader = spark.read.option("header", True).option("mode", "FAILFAST")
        header = pd.read_csv(path, nrows=0).columns.tolist()
        if table == "events" and header == list(schema.EVENT_COLUMNS):
            return reader.schema(_events_csv_schema()).csv(str(path))
        return reader.option("inferSchema", True).csv(str(path))
    return spark.read.parquet(str(path))


def _from_pandas(spark: SparkSession, frame: pd.DataFrame) -> DataFrame:
    """pandas -> Spark through Arrow (pandas 3 string dtypes convert cleanly via pyarrow)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_large_string(field.type) or pa.types.is_string_view(field.type):
            column = column.cast(pa.string())
        elif pa.types.is_timestamp(field.type):
            column = column.cast(pa.timestamp("us", tz="UTC"))
        elif pa.types.is_dictionary(field.type):
            column = column.cast(field.type.value_type)
        columns.append(column)
    return spark.createDataFrame(pa.table(columns, names=table.column_names))


def read_table(spark: SparkSession, source: Source | DataFrame, table: str) -> DataFrame:
    """A Spark DataFrame for ``source`` with the contract types of ``table`` applied.

    ``table``: 'customers', 'events', 'cutoffs' (types enforced) or any other name (as is).
    """
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import functions as F

    if isinstance(source, SparkFrame):
        frame = source
    elif isinstance(source, pd.DataFrame):
        frame = _from_pandas(spark, source)
    else:
        frame = _read_path(spark, source, table)
    wanted = CONTRACT_TYPES.get(table, {})
    have = dict(frame.dtypes)
    casts = {c: F.col(f"`{c}`").cast(t) for c, t in wanted.items()
             if c in have and have[c] != t}
    if table == "events":  # optional columns absent from the file: typed, all null
        casts |= {c: F.lit(None).cast(wanted[c]) for c in schema.EVENT_COLUMNS
                  if c not in have and c not in schema.EVENT_REQUIRED}
    return frame.withColumns(casts) if casts else frame


def write_partitioned(frame: DataFrame, path: str | Path, mode: str = "overwrite"
                      ) -> Path | str:
    """Write a table with a ``cutoff`` column as Parquet partitioned by its UTC date."""
    from pyspark.sql import functions as F

    if schema.CUTOFF not in frame.columns:
        raise DataContractError(f"cannot partition by cutoff: the table has no "
                                f"{schema.CUTOFF!r} column; got {frame.columns}.")
    (frame.withColumn(PARTITION_COLUMN, F.date_format(schema.CUTOFF, "yyyy-MM-dd"))
     .write.mode(mode).partitionBy(PARTITION_COLUMN).parquet(location(path)))
    return path if isinstance(path, Path) and not is_remote(path) else location(path)


def read_partitioned(spark: SparkSession, path: str | Path) -> DataFrame:
    """Read a table written by ``write_partitioned`` (the partition column dropped again)."""
    frame = _read_path(spark, path, "table")
    return frame.drop(PARTITION_COLUMN) if PARTITION_COLUMN in frame.columns else frame

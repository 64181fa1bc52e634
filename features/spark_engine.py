"""Features, eligibility and labels on Apache Spark: the same compiled SQL, another engine.

Nothing here defines a feature or a label. ``features.compile`` and ``features.labels`` write
the SQL once (DuckDB dialect); ``features.spark_sql`` transpiles it; this module only does
what differs between engines: registering inputs as views, binding parameters (Spark's named
``:name`` markers, values passed as ``args`` and never pasted into SQL text) and handing
results back. The DuckDB twins are ``features.pipeline`` and ``features.labels``.

Spark results stay Spark DataFrames (lazy, distributed); ``to_pandas`` is the one hand-off to
pandas and gives the project's dtypes (``cutoff`` as ``datetime64[us, UTC]``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from cxchurn.errors import DataContractError
from features import schema
from features.btyd_features import add_btyd_features, btyd_specs, summary_sql
from features.compile import CUSTOMERS_TABLE, CUTOFFS_TABLE, EVENTS_TABLE, compile_features
from features.default_specs import DEFAULT_SPECS
from features.labels import LabelConfig, check_horizon, eligibility_sql, labels_sql
from features.spark_io import Source, read_table
from features.spark_sql import to_spark
from features.spec import FeatureSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DATES_TABLE = "cx_dates"
# Settings that make Spark agree with DuckDB (UTC, like ``pit.connect``) and keep a laptop
# or CI run light. A cluster overrides the sizes (``conf``), never the time zone.
DEFAULT_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Parquet timestamps as UTC-adjusted microseconds (not legacy INT96), so pandas/pyarrow
    # readers get tz-aware UTC times, the project convention.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.memory": "2g",
}


def spark_session(master: str = "local[*]", app_name: str = "cxchurn",
                  conf: Mapping[str, str] | None = None) -> SparkSession:
    """Get or create the SparkSession with the project's settings (UTC above all).

    On a cluster (spark-submit, Databricks) a session already exists and its master wins;
    the time zone is still set, because interval arithmetic must not follow local DST.
    """
    from pyspark.sql import SparkSession

    settings = {**DEFAULT_CONF, **(conf or {})}
    if master.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        # Python workers (UDFs, mapInPandas) must run this interpreter, with its packages;
        # pyspark reads only the environment variable for that (not spark.pyspark.python).
        os.environ["PYSPARK_PYTHON"] = sys.executable
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_sql(spark: SparkSession, sql: str, params: Mapping[str, Any],
            *, keep_order: bool = False) -> DataFrame:
    """Run one compiler statement (DuckDB dialect) on Spark with its bound parameters."""
    return spark.sql(to_spark(sql, keep_order=keep_order), args=dict(params))


_ROLES = {CUSTOMERS_TABLE: "customers", EVENTS_TABLE: "events", CUTOFFS_TABLE: "cutoffs"}


def _view(spark: SparkSession, name: str, source: Source | DataFrame) -> DataFrame:
    frame = read_table(spark, source, _ROLES[name])
    frame.createOrReplaceTempView(name)
    return frame


def _require(frame: DataFrame, needed: Sequence[str], table: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataContractError(f"{table} table lacks column(s) {missing}; expected at least "
                                f"{list(needed)}, got {frame.columns}. Rename the columns or "
                                f"load the files through `cxchurn features validate` first.")


def _distinct_cutoffs(cutoffs: DataFrame) -> list[pd.Timestamp]:
    """Distinct cutoff instants, collected as UTC microseconds.

    Not as datetimes: pyspark converts collected timestamps to the *Python process's* local
    time zone, which need not be UTC.
    """
    from pyspark.sql import functions as F

    rows = cutoffs.select(F.unix_micros(schema.CUTOFF).alias("us")).distinct().collect()
    return sorted(pd.Timestamp(r["us"], unit="us", tz="UTC") for r in rows
                  if r["us"] is not None)


def build_feature_table(spark: SparkSession, customers: Source | DataFrame,
                        events: Source | DataFrame, cutoffs: Source | DataFrame,
                        specs: Sequence[FeatureSpec] = DEFAULT_SPECS,
                        *, keep_order: bool = False) -> DataFrame:
    """Spark twin of ``features.pipeline.build_feature_table``: same SQL, same columns."""
    cust = _view(spark, CUSTOMERS_TABLE, customers)
    _require(cust, schema.CUSTOMER_COLUMNS, "customers")
    _require(_view(spark, EVENTS_TABLE, events), schema.EVENT_REQUIRED, "events")
    cut = read_table(spark, cutoffs, "cutoffs")
    _require(cut, (schema.CUSTOMER_ID, schema.CUTOFF), "cutoff")
    cut = cut.select(schema.CUSTOMER_ID, schema.CUTOFF)
    cut.createOrReplaceTempView(CUTOFFS_TABLE)
    dates = _distinct_cutoffs(cut)
    if not dates:
        return _with_btyd(spark, _empty_features(spark, cust, specs), specs, keep_order)
    query = compile_features(specs, dates, static_columns=cust.columns)
    return _with_btyd(spark, run_sql(spark, query.sql, query.params,
                                     keep_order=keep_order).toDF(*query.columns),
                      specs, keep_order)


def _with_btyd(spark: SparkSession, features: DataFrame, specs: Sequence[FeatureSpec],
               keep_order: bool) -> DataFrame:
    """The BG/NBD columns (``features.btyd_features``): the same summary SQL runs on Spark;
    the summaries and the row keys (two columns) come to the driver, where the fit runs as in
    the DuckDB build, and the figures are joined back."""
    wanted = btyd_specs(specs)
    if not wanted:
        return features
    columns = [*features.columns, *(s.name for s in wanted)]
    keys = to_pandas(features.select(schema.CUSTOMER_ID, schema.CUTOFF), sort=False)
    derived = add_btyd_features(keys, specs, lambda event_type, lag_days: to_pandas(
        run_sql(spark, summary_sql(lag_days=lag_days), {"btyd_type": event_type}),
        sort=False))
    schema_ddl = ", ".join([f"{schema.CUSTOMER_ID} STRING", f"{schema.CUTOFF} TIMESTAMP",
                            *(f"{s.name} DOUBLE" for s in wanted)])
    derived[schema.CUSTOMER_ID] = derived[schema.CUSTOMER_ID].astype(str)
    extra = spark.createDataFrame(derived.astype({s.name: "float64" for s in wanted}),
                                  schema=schema_ddl)
    joined = features.join(extra, on=[schema.CUSTOMER_ID, schema.CUTOFF], how="left")
    joined = joined.select(*columns)
    return joined.orderBy(schema.CUSTOMER_ID, schema.CUTOFF) if keep_order else joined


def _empty_features(spark: SparkSession, cust: DataFrame,
                    specs: Sequence[FeatureSpec]) -> DataFrame:
    """No eligible rows: the right columns, zero rows (compile needs at least one cutoff)."""
    query = compile_features(specs, [pd.Timestamp("2000-01-01", tz="UTC")],
                             static_columns=cust.columns)
    return run_sql(spark, query.sql, query.params).toDF(*query.columns).limit(0)


def _dates_view(spark: SparkSession, dates: Sequence[pd.Timestamp]) -> None:
    from pyspark.sql.types import StructField, StructType, TimestampType

    values = sorted({pd.Timestamp(d).tz_convert("UTC").to_pydatetime() for d in dates})
    struct = StructType([StructField(schema.CUTOFF, TimestampType(), False)])
    spark.createDataFrame([(v,) for v in values], struct).createOrReplaceTempView(DATES_TABLE)


def eligible_cutoffs(spark: SparkSession, customers: Source | DataFrame,
                     events: Source | DataFrame, dates: Sequence[pd.Timestamp],
                     config: LabelConfig) -> DataFrame:
    """Spark twin of ``features.labels.eligible_cutoffs`` (the same eligibility SQL)."""
    check_horizon(dates, config)
    _require(_view(spark, CUSTOMERS_TABLE, customers), schema.CUSTOMER_COLUMNS, "customers")
    _require(_view(spark, EVENTS_TABLE, events), schema.EVENT_REQUIRED, "events")
    _dates_view(spark, dates)
    sql, params = eligibility_sql(config)
    return run_sql(spark, sql, params)


def make_labels(spark: SparkSession, events: Source | DataFrame, cutoffs: DataFrame,
                config: LabelConfig) -> DataFrame:
    """Spark twin of ``features.labels.make_labels`` (the same label SQL)."""
    _require(_view(spark, EVENTS_TABLE, events), schema.EVENT_REQUIRED, "events")
    cutoffs.select(schema.CUSTOMER_ID, schema.CUTOFF).createOrReplaceTempView(CUTOFFS_TABLE)
    sql, params = labels_sql(config)
    return run_sql(spark, sql, params)


def build_examples(spark: SparkSession, customers: Source | DataFrame,
                   events: Source | DataFrame, dates: Sequence[pd.Timestamp],
                   label_config: LabelConfig | None = None,
                   specs: Sequence[FeatureSpec] = DEFAULT_SPECS,
                   ) -> tuple[DataFrame, DataFrame]:
    """(features, labels) for every eligible (customer, cutoff): Spark twin of the pipeline's.

    The eligible cutoff table is cached: both the labels and the features read it, and
    recomputing it would scan the events twice more.
    """
    config = label_config or LabelConfig()
    cust = read_table(spark, customers, "customers")
    ev = read_table(spark, events, "events")
    eligible = eligible_cutoffs(spark, cust, ev, dates, config).cache()
    labels = make_labels(spark, ev, eligible, config)
    features = build_feature_table(spark, cust, ev, eligible, specs)
    return features, labels


def to_pandas(frame: DataFrame, *, sort: bool = True) -> pd.DataFrame:
    """The hand-off to pandas (Arrow), with the project's dtypes and row order.

    Spark gives timestamps back as naive wall-clock times of the session zone (UTC here) and
    text as plain strings; ``cutoff`` becomes ``datetime64[us, UTC]`` like the DuckDB path.
    """
    out = cast(pd.DataFrame, frame.toPandas())
    for name, dtype in frame.dtypes:
        if dtype.startswith("timestamp"):
            out[name] = _utc(out[name])
    keys = [c for c in (schema.CUSTOMER_ID, schema.CUTOFF) if c in out.columns]
    if sort and keys:
        out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    return out


def _utc(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values)
    stamps = stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
    return stamps.astype("datetime64[us, UTC]")

"""``cxchurn features build --engine spark``: files in, a partitioned feature build out.

The output folder mirrors the DuckDB build (``features.pipeline.write_outputs``) with Spark's
native layout: ``features/``, ``labels/`` and ``examples/`` are Parquet folders partitioned by
the cutoff's date (see ``features.spark_io``), plus the same ``feature_spec.json``.

Validation: the DuckDB path validates every row through pandas and quarantines bad ones,
which does not scale to billions of events. Here one aggregate pass per table counts what
would break the features (missing ids or times, unknown event types or channels, duplicate
customers) and stops with the counts; quarantining row by row stays
``cxchurn features validate``'s job.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cxchurn.errors import ConfigError, DataContractError
from features import schema, spark_engine
from features.build_sources import SOURCES_KEY, BuildSources
from features.labels import LabelConfig
from features.spark_io import Source, is_remote, location, read_table, write_partitioned, write_text
from features.spec import FeatureSpec, spec_version, specs_to_data

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, Row, SparkSession
    from rich.console import Console

SPEC_FILE = "feature_spec.json"


@dataclass(frozen=True)
class SparkBuild:
    """What a Spark build wrote, with counts (for the CLI line and the benchmark)."""

    paths: dict[str, Path | str]
    n_rows: int
    n_features: int
    churn_rate: float


def _one(row: Row | None) -> Row:
    """The single row of a global aggregate (Spark types ``first()`` as optional)."""
    if row is None:
        raise DataContractError("a global aggregate returned no row; the input may be unreadable")
    return row


def check_contract(customers: DataFrame, events: DataFrame) -> None:
    """Raise DataContractError with counts if the tables break the data contract's core rules."""
    from pyspark.sql import functions as F

    def n_where(condition: Column) -> Column:
        return F.sum(F.when(condition, 1).otherwise(0))

    c = customers.agg(
        n_where(F.col("customer_id").isNull()).alias("blank customer_id"),
        n_where(F.col("signup_date").isNull()).alias("blank or unparsable signup_date"),
        (F.count("*") - F.countDistinct("customer_id")).alias("duplicate customer_id"),
    ).first()
    e = events.agg(
        n_where(F.col("customer_id").isNull()).alias("blank customer_id"),
        n_where(F.col("event_time").isNull()).alias("blank or unparsable event_time"),
        n_where(~F.col("event_type").isin(list(schema.EVENT_TYPES))
                | F.col("event_type").isNull()).alias("unknown event_type"),
        n_where(~F.col("channel").isin(list(schema.CHANNELS))
                | F.col("channel").isNull()).alias("unknown channel"),
    ).first()
    problems = [f"{table}: {n:,} row(s) with {what}"
                for table, row in (("customers", _one(c)), ("events", _one(e)))
                for what, n in row.asDict().items() if n]
    if problems:
        raise DataContractError("the input breaks the data contract: " + "; ".join(problems)
                                + ". Run `cxchurn features validate` to quarantine the bad rows "
                                  "and build from the accepted files.")


def spec_document(specs: Sequence[FeatureSpec], config: LabelConfig | None) -> dict:
    """The feature_spec.json content, as ``features.pipeline.write_outputs`` writes it."""
    doc: dict = {"version": spec_version(specs), "specs": specs_to_data(specs),
                 "monotone": {s.name: s.monotone for s in specs if s.monotone}}
    if config is not None:
        doc["label"] = {k: (str(v) if isinstance(v, pd.Timestamp) else v)
                        for k, v in asdict(config).items()}
    return doc


def build_to_folder(spark: SparkSession, customers: Source | DataFrame,
                    events: Source | DataFrame, dates: Sequence[pd.Timestamp],
                    config: LabelConfig, specs: Sequence[FeatureSpec], out_dir: str | Path,
                    *, check: bool = True) -> SparkBuild:
    """Build features, labels and examples on Spark and write them (partitioned) to out_dir."""
    from pyspark.sql import functions as F

    cust = read_table(spark, customers, "customers")
    ev = read_table(spark, events, "events")
    if check:
        check_contract(cust, ev)
    features, labels = spark_engine.build_examples(spark, cust, ev, dates, config, specs)
    root = location(out_dir).rstrip("/")
    if not is_remote(root):
        Path(root).mkdir(parents=True, exist_ok=True)

    def out(name: str) -> Path | str:
        return f"{root}/{name}" if is_remote(root) else Path(root) / name

    keys = [schema.CUSTOMER_ID, schema.CUTOFF]
    features, labels = features.cache(), labels.cache()  # each is written twice
    paths = {"features": write_partitioned(features, out("features")),
             "labels": write_partitioned(labels, out("labels"))}
    examples = features.join(labels.select(*keys, schema.LABEL), on=keys, how="inner")
    paths["examples"] = write_partitioned(examples, out("examples"))
    stats = labels.agg(F.count("*").alias("n"), F.avg(schema.LABEL).alias("rate")).first()
    features.unpersist()
    labels.unpersist()
    paths["spec"] = out(SPEC_FILE)
    doc = spec_document(specs, config)
    if isinstance(customers, str | Path) and isinstance(events, str | Path) \
            and not is_remote(str(events)):
        doc[SOURCES_KEY] = BuildSources.of(customers, events).to_dict()  # for BG/NBD
    write_text(spark, paths["spec"], json.dumps(doc, indent=2, ensure_ascii=False))
    row = _one(stats)
    return SparkBuild(paths=paths, n_rows=int(row["n"]), n_features=len(specs),
                      churn_rate=float(row["rate"] or 0.0))


def build_command_spark(engine: str, master: str, customers: Path, events: Path,
                        dates: Sequence[pd.Timestamp], config: LabelConfig,
                        specs: Sequence[FeatureSpec], out_dir: Path, console: Console) -> None:
    """The Spark branch of ``cxchurn features build`` (options parsed by features.commands)."""
    if engine != "spark":
        raise ConfigError(f"--engine must be 'duckdb' or 'spark'; got {engine!r}.")
    with console.status(f"starting Spark ({master})"):
        spark = spark_engine.spark_session(master)
    with console.status(f"building {len(specs)} features and {config.kind} labels at "
                        f"{len(dates)} cutoffs on Spark"):
        build = build_to_folder(spark, customers, events, dates, config, specs, out_dir)
    console.print(f"{build.n_rows:,} rows x {build.n_features} features, churn rate "
                  f"{build.churn_rate:.3f} -> {out_dir} (Spark, partitioned by cutoff date)")

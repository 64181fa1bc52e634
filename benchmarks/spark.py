"""The same feature build on DuckDB and on Spark local, and Spark batch scoring.

Why: to know what one machine does with each engine, so that a cluster can be sized from
a measurement rather than a guess. For a simulated world it prints wall seconds and events per
second of the full build (eligibility, labels, every default feature, written to disk) with
DuckDB (``features.pipeline``) and with Spark local (``features.spark_build``, the same SQL
transpiled), then trains a small model, registers it, and prints the rows per second of
``cxchurn spark score`` (``spark_udf`` probabilities + SHAP drivers in ``mapInPandas``).

Events per second = rows of the events file / wall seconds of the build, reading the Parquet
files and writing the outputs included. The world is simulated once and reused; it is an
input, not what is measured.

Run: ``.venv/bin/python benchmarks/spark.py [--customers N] [--activity X] [--master URL]``;
see ``benchmarks/README.md``. ``--customers 300`` is a one-minute smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: import the project packages
    sys.path.insert(0, str(ROOT))

_T0 = time.perf_counter()


def log(message: str) -> None:
    """Progress on stderr with elapsed time, so a long run shows where it is."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def n_events(world: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(world / "events.parquet").metadata.num_rows


def run_duckdb(world: Path, dates: list, config: Any, out: Path) -> dict[str, Any]:
    from features.default_specs import DEFAULT_SPECS
    from features.pipeline import build_examples, write_outputs

    t0 = time.perf_counter()
    features, labels = build_examples(world / "customers.parquet", world / "events.parquet",
                                      dates, config, DEFAULT_SPECS)
    write_outputs(features, labels, DEFAULT_SPECS, out, config)
    return {"wall_s": time.perf_counter() - t0, "rows": len(features)}


def run_spark_build(spark: Any, world: Path, dates: list, config: Any, out: Path
                    ) -> dict[str, Any]:
    from features.default_specs import DEFAULT_SPECS
    from features.spark_build import build_to_folder

    t0 = time.perf_counter()
    build = build_to_folder(spark, world / "customers.parquet", world / "events.parquet", dates,
                            config, DEFAULT_SPECS, out)
    return {"wall_s": time.perf_counter() - t0, "rows": build.n_rows}


def register_model(examples_path: Path, home: Path, max_rows: int) -> str:
    """A small model on (at most max_rows of) the DuckDB examples, registered as champion."""
    import mlflow
    import pandas as pd

    from training.dataset import feature_columns
    from training.model import ChurnModel
    from training.pyfunc import log_churn_model
    from training.tracking import setup_tracking

    examples = pd.read_parquet(examples_path)
    examples = examples.sample(n=min(max_rows, len(examples)), random_state=0)
    names = feature_columns(examples)
    last = examples["cutoff"].max()
    train, valid = examples[examples["cutoff"] < last], examples[examples["cutoff"] == last]
    model = ChurnModel(n_estimators=300, early_stopping_rounds=30).fit(
        train[names], train["churned"], valid[names], valid["churned"])
    os.environ.pop("MLFLOW_TRACKING_URI", None)  # the benchmark's own store, in its home
    setup_tracking("spark-benchmark", root=home)
    with mlflow.start_run():
        info = log_churn_model(model, examples, registered_model_name="cxchurn-spark-bench")
    mlflow.MlflowClient().set_registered_model_alias("cxchurn-spark-bench", "champion",
                                                     info.registered_model_version)
    return "models:/cxchurn-spark-bench@champion"


def run_scoring(spark: Any, features: Path, uri: str, out: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from training.spark_score import score_to_folder

    t0 = time.perf_counter()
    score_to_folder(spark, features, uri, out)
    wall = time.perf_counter() - t0
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in out.rglob("*.parquet"))
    return {"wall_s": wall, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--activity", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)

    import pandas as pd

    from features.labels import LabelConfig
    from features.spark_engine import spark_session

    home = Path(os.environ.get("CXCHURN_HOME", "output")).resolve()
    work = (args.workdir or home / "bench").resolve()
    world = work / f"world-{args.customers}-s{args.seed}-a{args.activity}"
    from features.simulate import SimConfig
    from features.world_cache import cached_world

    meta = cached_world(world, SimConfig(n_customers=args.customers, seed=args.seed,
                                         activity=args.activity), say=log)
    dates = [pd.Timestamp(c, tz="UTC") for c in meta["cutoffs"]]
    config = LabelConfig(horizon_days=int(meta.get("horizon_days", 30)),
                         data_end=pd.Timestamp(meta["end"], tz="UTC"))
    events = n_events(world)
    runs = work / f"spark-bench-{args.customers}"
    figures: dict[str, Any] = {"customers": args.customers, "events": events,
                               "cutoffs": len(dates), "cores": os.cpu_count(),
                               "master": args.master, "load_avg_1m": os.getloadavg()[0]}
    if not args.skip_duckdb or not (runs / "duckdb" / "examples.parquet").exists():
        log("DuckDB build")
        figures["duckdb"] = run_duckdb(world, dates, config, runs / "duckdb")
    log(f"starting Spark {args.master}")
    spark = spark_session(args.master, app_name="cxchurn-benchmark",
                          conf={"spark.driver.memory": args.driver_memory,
                                "spark.sql.shuffle.partitions": "16"})
    log("Spark build")
    figures["spark"] = run_spark_build(spark, world, dates, config, runs / "spark")
    log("training and registering a small model")
    uri = register_model(runs / "duckdb" / "examples.parquet", runs, args.train_rows)
    log("Spark batch scoring")
    figures["scoring"] = run_scoring(spark, runs / "spark" / "features", uri, runs / "scores")
    spark.stop()

    print(f"world: {args.customers:,} customers, {events:,} events, {len(dates)} cutoffs, "
          f"{figures['cores']} cores, load average at start {figures['load_avg_1m']:.1f}")
    for name, label in (("duckdb", "DuckDB"), ("spark", f"Spark {args.master}")):
        if name in figures:
            f = figures[name]
            f["events_per_s"] = events / f["wall_s"]
            print(f"  features build, {label:<16} {f['rows']:>10,} rows  {f['wall_s']:8.1f} s  "
                  f"{f['events_per_s']:>12,.0f} ev/s")
    s = figures["scoring"]
    s["rows_per_s"] = s["rows"] / s["wall_s"]
    print(f"  batch scoring + SHAP drivers, Spark {args.master}  {s['rows']:>10,} rows  "
          f"{s['wall_s']:8.1f} s  {s['rows_per_s']:>12,.0f} rows/s")
    (work / "spark-benchmark.json").write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()

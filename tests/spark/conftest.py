"""One SparkSession for the whole Spark test package (a JVM start costs seconds).

``local[2]``, UI off, four shuffle partitions: the settings of a laptop run, not a cluster.
Spark tests are few and each is a whole pipeline, because JVM warm-up, not data, dominates.
Skips, saying why, when pyspark or Java is missing. The small world (300 customers) is
written to Parquet once, because the engines are compared on files, as a user runs them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

# C1-only JIT: a short-lived test JVM spends much of its time compiling; measured ~30% less
# wall time for the parity build.
SPARK_CONF = {"spark.sql.shuffle.partitions": "4", "spark.driver.memory": "2g",
              "spark.default.parallelism": "2",
              "spark.driver.extraJavaOptions": "-Duser.timezone=UTC -XX:TieredStopAtLevel=1"}


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[spark]')")
    pytest.importorskip("sqlglot", reason="sqlglot is not installed (pip install '.[spark]')")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH; Spark needs Java 17+")
    from features.spark_engine import spark_session

    session = spark_session("local[2]", app_name="cxchurn-tests", conf=SPARK_CONF)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def small_world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from features.simulate import SimConfig, simulate, write_world

    folder = tmp_path_factory.mktemp("spark_world")
    return write_world(simulate(SimConfig(n_customers=300, seed=11)), folder)


@pytest.fixture(scope="session")
def small_world_dates(small_world_dir: Path) -> list[pd.Timestamp]:
    import json

    meta = json.loads((small_world_dir / "world.json").read_text())
    return [pd.Timestamp(c, tz="UTC") for c in meta["cutoffs"]]

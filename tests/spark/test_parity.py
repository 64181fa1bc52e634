"""One spec, two engines: Spark and DuckDB build the same feature table from the same files.

Both builds run through ``cxchurn features build`` (``--engine spark --master local[2]`` for
Spark) on a simulated world, and the Spark output is read back from its partitioned Parquet
folders. Every spec in DEFAULT_SPECS is compared, so a newly added feature kind is covered
without touching this test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features import schema
from features.default_specs import DEFAULT_SPECS

pytestmark = pytest.mark.slow
KEYS = [schema.CUSTOMER_ID, schema.CUTOFF]


def assert_same_table(duck: pd.DataFrame, spark: pd.DataFrame, what: str) -> None:
    """Same columns (in order), rows, nulls; floats equal to 1e-9 (relative for large values)."""
    assert list(spark.columns) == list(duck.columns), what
    assert len(spark) == len(duck), what
    duck = duck.sort_values(KEYS, kind="stable").reset_index(drop=True)
    spark = spark.sort_values(KEYS, kind="stable").reset_index(drop=True)
    for col in duck.columns:
        a, b = duck[col], spark[col]
        assert (a.isna().to_numpy() == b.isna().to_numpy()).all(), f"{what}.{col}: nulls differ"
        if pd.api.types.is_float_dtype(a):
            x, y = a.to_numpy(float), b.to_numpy(float)
            close = np.isclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True)
            assert close.all(), f"{what}.{col}: {(~close).sum()} value(s) differ, e.g. " \
                                f"{x[~close][:3]} vs {y[~close][:3]}"
        else:
            assert a.dropna().astype(str).tolist() == b.dropna().astype(str).tolist(), \
                f"{what}.{col}: values differ"
        assert a.dtype == b.dtype or (pd.api.types.is_string_dtype(a) and \
            pd.api.types.is_string_dtype(b)), f"{what}.{col}: {a.dtype} vs {b.dtype}"


def _read_spark_table(folder: Path) -> pd.DataFrame:
    """A Spark build's table as any pandas user reads it (partition folders ignored)."""
    frame = pd.read_parquet(folder, partitioning=None)
    frame[schema.CUTOFF] = frame[schema.CUTOFF].astype("datetime64[us, UTC]")
    return frame


@pytest.fixture()
def builds(spark, small_world_dir: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[Path, Path]:
    from cxchurn.cli import app

    out = tmp_path_factory.mktemp("parity")
    duck, sprk = out / "duckdb", out / "spark"
    for args in (["--out", str(duck)],
                 ["--out", str(sprk), "--engine", "spark", "--master", "local[2]"]):
        result = CliRunner().invoke(app, ["features", "build", "--world", str(small_world_dir),
                                          *args])
        assert result.exit_code == 0, result.output + repr(result.exception)
    return duck, sprk


def test_spark_build_equals_duckdb_build_for_every_spec(builds: tuple[Path, Path]) -> None:
    """Features, labels (eligibility included) and examples; one test, so one pair of builds."""
    duck, sprk = builds
    d = pd.read_parquet(duck / "features.parquet")
    assert len(d) > 500 and d[schema.CUTOFF].nunique() > 1
    assert {sp.name for sp in DEFAULT_SPECS} <= set(d.columns)
    for name in ("features", "labels", "examples"):
        assert_same_table(pd.read_parquet(duck / f"{name}.parquet"),
                          _read_spark_table(sprk / name), name)
    labels = pd.read_parquet(duck / "labels.parquet")
    assert 0 < labels[schema.LABEL].sum() < len(labels)  # both classes: the labels are tested
    # partitioned by cutoff date, and the same spec file beside the table
    parts = sorted(p.name for p in (sprk / "features").glob("cutoff_date=*"))
    assert parts == sorted(f"cutoff_date={c:%Y-%m-%d}" for c in d[schema.CUTOFF].unique())
    assert (sprk / "feature_spec.json").read_text() == (duck / "feature_spec.json").read_text()


def test_spark_build_stops_on_a_contract_breach(spark, small_world_dir: Path,
                                               small_world_dates: list[pd.Timestamp],
                                               tmp_path: Path) -> None:
    from cxchurn.errors import DataContractError
    from features.labels import LabelConfig
    from features.spark_build import build_to_folder

    events = pd.read_parquet(small_world_dir / "events.parquet").head(50)
    events.loc[3, "event_type"] = "teleport"
    with pytest.raises(DataContractError, match=r"events: 1 row\(s\) with unknown event_type"):
        build_to_folder(spark, small_world_dir / "customers.parquet", events,
                        small_world_dates[:1], LabelConfig(), DEFAULT_SPECS, tmp_path)

"""Build options are never silently ignored."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cxchurn.cli import app
from cxchurn.errors import ConfigError


def test_spark_build_refuses_an_actions_file_it_would_not_read(tmp_path: Path) -> None:
    args = ["features", "build", "--customers", str(tmp_path / "c.parquet"),
            "--events", str(tmp_path / "e.parquet"), "--actions", str(tmp_path / "a.csv"),
            "--cutoffs", "2025-01-01", "--engine", "spark", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, ConfigError)  # `cxchurn` prints it and exits with 2
    assert "--actions is not read by --engine spark" in str(result.exception)
    assert "cxchurn features validate" in str(result.exception)
    assert not (tmp_path / "out").exists()

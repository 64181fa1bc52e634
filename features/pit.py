"""Run compiled point-in-time SQL on DuckDB (thin I/O; the logic lives in ``compile``).

Inputs may be pandas frames or file paths. Paths are read by DuckDB directly (Parquet or
CSV), so a 10-million-event file never has to pass through pandas. Paths are handed to
DuckDB's reader API, never pasted into SQL text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import duckdb
import pandas as pd

from cxchurn.errors import DataContractError
from features import schema
from features.compile import CompiledQuery

Source: TypeAlias = pd.DataFrame | str | Path


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection in UTC (interval arithmetic must not follow local DST)."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def register(con: duckdb.DuckDBPyConnection, name: str, source: Source) -> list[str]:
    """Expose a frame or a Parquet/CSV file as view ``name``; return its column names."""
    if isinstance(source, pd.DataFrame):
        con.register(name, source)
    else:
        path = Path(source)
        if not path.exists():
            raise DataContractError(f"input file {str(path)!r} does not exist; expected a "
                                    f"Parquet or CSV file (or a folder of Parquet files).")
        if path.is_dir():
            relation = con.read_parquet(str(path / "*.parquet"))
        elif path.suffix.lower() in (".csv", ".gz"):
            relation = con.read_csv(str(path))
        else:
            relation = con.read_parquet(str(path))
        relation.create_view(name, replace=True)
    return [row[0] for row in con.execute(f'DESCRIBE "{name}"').fetchall()]


def require(columns: list[str], needed: tuple[str, ...], table: str) -> None:
    missing = [c for c in needed if c not in columns]
    if missing:
        raise DataContractError(f"{table} table lacks column(s) {missing}; expected at least "
                                f"{list(needed)}, got {columns}. Load files through "
                                f"features.load or rename the columns.")


def run(con: duckdb.DuckDBPyConnection, query: CompiledQuery) -> pd.DataFrame:
    """Execute a compiled query and return a frame with the declared columns."""
    frame = con.sql(query.sql, params=query.params).to_arrow_table().to_pandas()
    frame = frame.rename(columns=dict(zip(frame.columns, query.columns, strict=True)))
    return utc_cutoffs(frame)


def utc_cutoffs(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps back as ``datetime64[us, UTC]``, the project convention."""
    if schema.CUTOFF in frame.columns:
        frame[schema.CUTOFF] = pd.to_datetime(frame[schema.CUTOFF], utc=True).astype(
            "datetime64[us, UTC]")
    return frame

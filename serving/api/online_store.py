"""The online feature store: every customer's latest feature vector, in one DuckDB file.

``materialize`` runs the training feature pipeline (``features.pipeline.build_feature_table``)
at one cutoff for every customer still eligible then (signed up before it, not cancelled), so
the service scores exactly the features the model was trained on: no feature is computed a
second way. The file is written beside and then renamed over the old one, so a running service
never reads a half-written store. The service reads the whole table into memory once (tens of
thousands of rows) and looks customers up by id from a dict: no database call per request.
A ready-made snapshot table (customer_id + feature columns, e.g. a real-data export) can be
stored as it is with ``store_table``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError, DataContractError
from cxchurn.settings import DEFAULT_CONTACT_COLUMNS
from features import pit
from features.schema import CUSTOMER_ID, CUTOFF

STORE_FILE = "online_store.duckdb"
TABLE = "online_features"
META_TABLE = "store_meta"


def store_path(home: Path) -> Path:
    """Where the service looks for the store by default."""
    return Path(home) / "online" / STORE_FILE


def default_cutoff(events: pd.DataFrame) -> pd.Timestamp:
    """"Now" for a data set: midnight after its latest event (the wall clock for live feeds).

    A historical or simulated data set ends in the past; scoring it at today's date would make
    every customer look long inactive, so "now" is where the data ends.
    """
    if len(events) == 0:
        return pd.Timestamp.now(tz="UTC").normalize()
    latest = pd.to_datetime(events["event_time"], utc=True).max()
    return (latest.floor("D") + pd.Timedelta(days=1)).as_unit("us")


def latest_features(customers: pd.DataFrame, events: pd.DataFrame, cutoff: pd.Timestamp,
                    specs: Sequence[Any] | None = None, label_kind: str = "contractual",
                    contact_names: Sequence[str] = DEFAULT_CONTACT_COLUMNS) -> pd.DataFrame:
    """One feature row per customer eligible at ``cutoff``, from the training pipeline."""
    from features.default_specs import DEFAULT_SPECS
    from features.labels import LabelConfig, eligible_cutoffs
    from features.pipeline import build_feature_table

    eligible = eligible_cutoffs(customers, events, [cutoff], LabelConfig(kind=label_kind))
    if len(eligible) == 0:
        raise DataContractError(
            f"no customer is eligible at cutoff {cutoff.isoformat()} (all signed up later or "
            "cancelled before); pick a later --cutoff or check the customers file"
        )
    return build_feature_table(customers, events, eligible, specs or DEFAULT_SPECS,
                               contact_names=contact_names)


def write_store(table: pd.DataFrame, path: Path, meta: dict[str, Any]) -> Path:
    """Write ``table`` (must hold unique customer ids) and ``meta`` atomically to ``path``."""
    if CUSTOMER_ID not in table.columns:
        raise DataContractError(
            f"the online table needs a '{CUSTOMER_ID}' column; got {list(table.columns)[:10]}")
    ids = table[CUSTOMER_ID].astype(str)
    if ids.duplicated().any():
        raise DataContractError(
            f"the online table holds {int(ids.duplicated().sum())} duplicate customer ids; "
            "keep one row (the latest) per customer")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    frame = table.copy()
    frame[CUSTOMER_ID] = ids
    doc = {**meta, "n_customers": len(frame),
           "materialized_at": datetime.now(tz=UTC).isoformat()}
    con = duckdb.connect(str(tmp))
    try:
        con.register("frame_view", frame)
        con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM frame_view")
        con.execute(f"CREATE TABLE {META_TABLE} (doc VARCHAR)")
        con.execute(f"INSERT INTO {META_TABLE} VALUES (?)", [json.dumps(doc)])
    finally:
        con.close()
    os.replace(tmp, path)
    return path


def store_table(source: Path, path: Path) -> Path:
    """Store a ready feature snapshot (Parquet/CSV with customer_id + features) as it is."""
    source = Path(source)
    if not source.is_file():
        raise ConfigError(f"--table {str(source)!r} does not exist; pass a Parquet or CSV file")
    table = (pd.read_parquet(source) if source.suffix.lower() == ".parquet"
             else pd.read_csv(source))
    cutoff = None
    if CUTOFF in table.columns and len(table):
        cutoff = str(pd.to_datetime(table[CUTOFF], utc=True).max().isoformat())
    return write_store(table, path, {"source": str(source), "cutoff": cutoff,
                                     "spec_version": None})


@dataclass
class OnlineStore:
    """The store in memory: the table, an id -> row position index, and its metadata."""

    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> OnlineStore:
        """Read the whole store (read-only, so a materialize may run meanwhile)."""
        con = duckdb.connect(str(path), read_only=True)
        try:
            table = pit.utc_cutoffs(
                con.sql(f"SELECT * FROM {TABLE}").to_arrow_table().to_pandas())
            meta = json.loads(con.execute(f"SELECT doc FROM {META_TABLE}").fetchall()[0][0])
        finally:
            con.close()
        ids = table[CUSTOMER_ID].astype(str).to_numpy()
        return cls(table=table, meta=meta, positions={c: i for i, c in enumerate(ids)})

    def __len__(self) -> int:
        return len(self.table)

    def kept_mask(self, rows: pd.DataFrame, removed: Sequence[str]) -> np.ndarray:
        """Rows of the table that ``with_rows(rows, removed)`` keeps (others are replaced).

        Found through ``positions`` (a live update replaces a few rows of a large table),
        unless ids repeat in the table (a snapshot given as it is): then every row of them.
        """
        if len(self.positions) != len(self.table):
            gone_ids = set(rows[CUSTOMER_ID].astype(str)) | {str(c) for c in removed}
            return ~self.table[CUSTOMER_ID].astype(str).isin(gone_ids).to_numpy(dtype=bool)
        keep = np.ones(len(self.table), dtype=bool)
        gone = [self.positions.get(str(c)) for c in (*rows[CUSTOMER_ID], *removed)]
        keep[[p for p in gone if p is not None]] = False
        return keep

    def with_rows(self, rows: pd.DataFrame, removed: Sequence[str],
                  keep: np.ndarray | None = None) -> OnlineStore:
        """A new store: ``rows`` replace (or add) their customers' rows, ``removed`` leave.

        The kept rows stay in order and the new rows follow them, so callers can patch
        arrays aligned with the table the same way (``kept_mask``, then append); ``keep`` is
        that mask when the caller has it already.
        """
        if len(rows) and list(rows.columns) != list(self.table.columns):
            raise DataContractError(
                "live feature rows do not have the online store's columns; re-run `cxchurn "
                "online materialize` with the spec and customers file the service uses")
        if keep is None:
            keep = self.kept_mask(rows, removed)
        kept = self.table.loc[keep]
        table = pd.concat([kept, rows], ignore_index=True) if len(rows) else kept.reset_index(
            drop=True)
        ids = table[CUSTOMER_ID].astype(str).to_numpy()
        return OnlineStore(table=table, meta=dict(self.meta),
                           positions=dict(zip(ids.tolist(), range(len(ids)), strict=True)))

    def lookup(self, ids: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
        """Rows of the known ids (in request order, duplicates kept) and the unknown ids."""
        found = [self.positions.get(str(c)) for c in ids]
        unknown = [str(c) for c, p in zip(ids, found, strict=True) if p is None]
        rows = np.array([p for p in found if p is not None], dtype=np.int64)
        return self.table.iloc[rows].reset_index(drop=True), unknown

"""The event store: every event ``POST /events`` accepted, kept durably and only appended to.

SQLite file ``$CXCHURN_HOME/live/events.db`` by default (WAL journal, ``synchronous=FULL``: a
POST is answered only after its events are committed, so neither ``kill -9`` nor a power cut
loses an acknowledged event), or any SQLAlchemy URL in ``CXCHURN_EVENT_STORE_URL`` (e.g.
``postgresql+psycopg://user:pw@host/db``) in production.

Rows are the contract's event columns (``features.schema.EVENT_COLUMNS``) plus ``event_id``,
``received_at`` and ``seq`` (the order of arrival). Idempotent on ``event_id``: a client
gives its own id, or the store derives one from the event's content (``content_id``: a hash
of customer id, UTC event time to the microsecond, type, channel, amount, score, duration and
text), so a retried POST stores nothing twice. Two genuinely distinct events with identical
content need client ids to be kept apart.

The store also keeps each live-updated online row (``live_rows``: the customer's feature row
as JSON, the cutoff it was computed at, the newest ``seq`` it includes), so every service
worker, and a restarted service, serve the same rows (``serving/live/feed.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from cxchurn.errors import CxChurnError
from cxchurn.settings import Settings
from features import schema
from serving.retention.outcomes import create_tables

DB_FILE: Final = "events.db"
ID_LENGTH: Final = 128
ROW_TABLE: Final = "live_rows"
COMMIT_MARGIN: Final = 10_000  # see EventStore.commit_margin
_SEQ = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only


class EventStoreUnavailableError(CxChurnError):
    """The event database cannot be reached or written."""

    http_status = 503


metadata = MetaData()
events_table = Table(
    "live_events", metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("event_id", String(ID_LENGTH), nullable=False, unique=True),
    Column("customer_id", String(ID_LENGTH), nullable=False, index=True),
    # indexed: every ingest asks for the newest event time (the live cutoff)
    Column("event_time", DateTime(timezone=True), nullable=False, index=True),
    Column("event_type", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("amount", Float, nullable=True),
    Column("score", Float, nullable=True),
    Column("duration", Float, nullable=True),
    Column("text", Text, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
rows_table = Table(
    ROW_TABLE, metadata,
    Column("customer_id", String(ID_LENGTH), primary_key=True),
    Column("cutoff", DateTime(timezone=True), nullable=False),
    Column("through_seq", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False, index=True),
    Column("removed", Boolean, nullable=False),
    Column("features", Text, nullable=False),
)


def default_url(settings: Settings) -> str:
    """``CXCHURN_EVENT_STORE_URL``, else a SQLite file under the home."""
    if settings.event_store_url:
        return settings.event_store_url
    folder = Path(settings.home) / "live"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / DB_FILE}"


def _number_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value))


def content_id(row: dict[str, Any]) -> str:
    """The id of an event without a client id: SHA-256 of its normalised content.

    Normalised as the contract stores it (UTC time in microseconds, numbers as floats), so
    the same event posted as ``"2025-01-01T10:00:00+03:00"`` or ``"2025-01-01 07:00"`` gets the
    same id. Prefixed ``h:`` so it never collides with a client's own id space by accident.
    """
    when = pd.Timestamp(row["event_time"]).tz_convert("UTC").isoformat(timespec="microseconds")
    text = row.get("text")
    parts = [str(row["customer_id"]), when, str(row["event_type"]), str(row["channel"]),
             *(_number_text(row.get(c)) for c in ("amount", "score", "duration")),
             "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)]
    return "h:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _utc(values: Iterable[Any]) -> pd.Series:
    """Timestamps read back from any backend as ``datetime64[us, UTC]`` (SQLite: naive UTC)."""
    return pd.Series(pd.to_datetime(list(values), utc=True)).astype("datetime64[us, UTC]")


_FRAME_COLUMNS: Final = ("seq", "event_id", *schema.EVENT_COLUMNS)


def _typed_events(values: dict[str, Sequence[Any]]) -> pd.DataFrame:
    """Stored events' columns (as read back from any backend) typed as the contract's."""
    def typed(name: str) -> Any:
        if name == "seq":
            return np.array(values[name], dtype="int64")
        if name == "event_time":
            return _utc(values[name])
        if name in ("amount", "score", "duration"):
            return np.array(values[name], dtype="float64")  # None -> NaN
        return pd.Series(values[name], dtype="str")

    return pd.DataFrame({n: typed(n) for n in _FRAME_COLUMNS})


_EMPTY_EVENTS: Final = _typed_events({n: () for n in _FRAME_COLUMNS})


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


class EventStore:
    """Append-only events plus the live online rows, in one SQL database."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            create_tables(self.engine, metadata)
            for index in events_table.indexes:  # stores made before an index existed
                _create_index(self.engine, index)
        except SQLAlchemyError as err:
            raise EventStoreUnavailableError(
                f"the event store at {self.backend} cannot be opened ({type(err).__name__}); "
                "check CXCHURN_EVENT_STORE_URL and that the database server is up") from err

    @classmethod
    def from_settings(cls, settings: Settings) -> EventStore:
        return cls(default_url(settings))

    @property
    def backend(self) -> str:
        """The database kind and where it is, without any password."""
        return self.url.split("://", 1)[0] + "://" + self.url.rsplit("@", 1)[-1].split(
            "://", 1)[-1]

    @property
    def commit_margin(self) -> int:
        """How many sequence numbers before the newest one seen a reader of "events stored
        since" must look again. SQLite writes one transaction at a time, so a ``seq`` is
        visible only after every smaller one: none. On PostgreSQL a sequence number is taken
        before its transaction commits, so workers' commits may land out of order; each
        worker appends one request (at most ``CXCHURN_MAX_EVENTS``) at a time."""
        return 0 if self.engine.dialect.name == "sqlite" else COMMIT_MARGIN

    def _insert(self) -> Any:
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        return dialect.insert(events_table)

    def append(self, events: pd.DataFrame) -> list[bool]:
        """Store contract rows with an ``event_id`` column; True per row newly stored.

        A row whose id is already stored (or repeats an earlier row of the same call) is a
        duplicate: nothing is written for it. Committed before returning.
        """
        if len(events) == 0:
            return []
        ids = events["event_id"].astype(str).tolist()
        first = ~pd.Series(ids).duplicated().to_numpy()
        now = datetime.now(tz=UTC)
        records = []
        for keep, row in zip(first, events.to_dict(orient="records"), strict=True):
            if keep:
                records.append({
                    "event_id": str(row["event_id"]), "customer_id": str(row["customer_id"]),
                    "event_time": pd.Timestamp(row["event_time"]).to_pydatetime(),
                    "event_type": row["event_type"], "channel": row["channel"],
                    **{c: _plain(row.get(c)) for c in ("amount", "score", "duration", "text")},
                    "received_at": now})
        statement = self._insert().on_conflict_do_nothing(index_elements=["event_id"])
        try:
            with self.engine.begin() as con:
                stored = {r[0] for r in con.execute(
                    statement.returning(events_table.c.event_id), records)}
        except SQLAlchemyError as err:
            raise EventStoreUnavailableError(
                f"the event store at {self.backend} could not store the events "
                f"({type(err).__name__}); nothing was acknowledged, retry the POST") from err
        seen: set[str] = set()
        out = []
        for event_id in ids:
            out.append(event_id in stored and event_id not in seen)
            seen.add(event_id)
        return out

    def _frame(self, rows: Sequence[Any]) -> pd.DataFrame:
        """Rows of (seq, event_id, contract columns) as typed columns, built column-wise."""
        if not rows:
            return _EMPTY_EVENTS.copy()
        return _typed_events(dict(zip(_FRAME_COLUMNS, zip(*rows, strict=True), strict=True)))

    def events(self, customer_ids: Sequence[str] | None = None,
               event_types: Sequence[str] | None = None, *, after_seq: int | None = None
               ) -> pd.DataFrame:
        """Stored events (of some customers, of some types, stored after ``after_seq``),
        oldest seq first: seq, event_id, contract columns."""
        columns = [events_table.c[c] for c in ("seq", "event_id", *schema.EVENT_COLUMNS)]
        query = select(*columns).order_by(events_table.c.seq)
        if customer_ids is not None:
            query = query.where(events_table.c.customer_id.in_(list(customer_ids)))
        if event_types is not None:
            query = query.where(events_table.c.event_type.in_(list(event_types)))
        if after_seq is not None:
            query = query.where(events_table.c.seq > int(after_seq))
        try:
            with self.engine.connect() as con:
                return self._frame(con.execute(query).fetchall())
        except SQLAlchemyError as err:
            raise EventStoreUnavailableError(
                f"the event store at {self.backend} cannot be read ({type(err).__name__})"
            ) from err

    def count(self) -> int:
        with self.engine.connect() as con:
            return int(con.execute(select(func.count()).select_from(events_table)).scalar_one())

    def newest_event_time(self) -> pd.Timestamp | None:
        with self.engine.connect() as con:
            value = con.execute(select(func.max(events_table.c.event_time))).scalar_one()
        return None if value is None else _utc([value]).iloc[0]

    # ------------------------------------------------------------------ live rows
    def save_rows(self, rows: pd.DataFrame, removed: Sequence[str],
                  through: dict[str, int], cutoff: pd.Timestamp) -> int:
        """Upsert live online rows (``removed``: customers no longer eligible at ``cutoff``).

        A row computed from fewer events than the kept one (another worker was faster) does
        not replace it. Returns the rows' ``updated_us`` stamp.
        """
        now = time.time_ns() // 1000
        at = pd.Timestamp(cutoff).to_pydatetime()
        names = list(rows.columns)
        records = []
        for values in rows.to_numpy(dtype=object):  # one conversion, not one per column
            row = dict(zip(names, values, strict=True))
            cid = str(row[schema.CUSTOMER_ID])
            records.append({"customer_id": cid, "cutoff": at, "through_seq": int(through[cid]),
                            "updated_us": now, "removed": False, "features": row_json(row)})
        records += [{"customer_id": c, "cutoff": at, "through_seq": int(through[c]),
                     "updated_us": now, "removed": True, "features": "{}"} for c in removed]
        if not records:
            return now
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(rows_table)
        statement = statement.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={c: statement.excluded[c] for c in
                  ("cutoff", "through_seq", "updated_us", "removed", "features")},
            where=rows_table.c.through_seq <= statement.excluded.through_seq)
        try:
            with self.engine.begin() as con:
                con.execute(statement, records)
        except SQLAlchemyError as err:
            raise EventStoreUnavailableError(
                f"the event store at {self.backend} could not keep the updated online rows "
                f"({type(err).__name__}); the events are stored and a restart recomputes them"
            ) from err
        return now

    def rows_since(self, updated_us: int = 0) -> list[dict[str, Any]]:
        """Live rows written at or after ``updated_us`` (0: all), oldest first."""
        query = (select(rows_table).where(rows_table.c.updated_us >= updated_us)
                 .order_by(rows_table.c.updated_us))
        with self.engine.connect() as con:
            return [dict(r._mapping) for r in con.execute(query)]

    def kept_after(self, instant: pd.Timestamp) -> dict[str, pd.Timestamp]:
        """Customers whose kept live row was computed at a cutoff after ``instant``, with
        that cutoff (removed ones left out)."""
        query = select(rows_table.c.customer_id, rows_table.c.cutoff).where(
            rows_table.c.removed.is_(False))
        with self.engine.connect() as con:
            records = con.execute(query).fetchall()
        if not records:
            return {}
        at = _utc([r[1] for r in records])
        after = pd.Timestamp(instant).tz_convert("UTC")
        return {str(r[0]): c for r, c in zip(records, at, strict=True) if c > after}

    def stale_customers(self) -> dict[str, int]:
        """Customers with stored events newer than their live row: id -> newest seq.

        After a crash between storing events and keeping the recomputed row, these are the
        rows a restart recomputes.
        """
        newest = (select(events_table.c.customer_id, func.max(events_table.c.seq).label("m"))
                  .group_by(events_table.c.customer_id).subquery())
        query = (select(newest.c.customer_id, newest.c.m)
                 .select_from(newest.outerjoin(
                     rows_table, rows_table.c.customer_id == newest.c.customer_id))
                 .where((rows_table.c.through_seq.is_(None))
                        | (rows_table.c.through_seq < newest.c.m)))
        with self.engine.connect() as con:
            return {str(c): int(m) for c, m in con.execute(query)}

    def dispose(self) -> None:
        self.engine.dispose()


def _create_index(engine: Engine, index: Index) -> None:
    try:
        index.create(engine, checkfirst=True)
    except SQLAlchemyError:
        index.create(engine, checkfirst=True)  # lost the race: the second look finds it


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")  # two workers write the same file
    cursor.close()


def row_json(row: dict[str, Any]) -> str:
    """One feature row as JSON: floats exactly (repr round-trips), NaN as null, times ISO."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, pd.Timestamp | datetime):
            out[key] = pd.Timestamp(value).isoformat()
        elif isinstance(value, float | np.floating):
            out[key] = None if math.isnan(value) else float(value)
        elif value is None or value is pd.NA:
            out[key] = None
        elif isinstance(value, np.integer):
            out[key] = int(value)
        else:
            out[key] = value
    return json.dumps(out, ensure_ascii=False)


__all__ = ["EventStore", "EventStoreUnavailableError", "content_id", "default_url",
           "events_table", "row_json", "rows_table"]

"""The outcome store: what the retention team did and what happened, kept in a real database.

SQLite file ``$CXCHURN_HOME/outcomes.db`` by default (embedded, survives restarts), or any
SQLAlchemy URL in ``CXCHURN_OUTCOMES_URL`` (e.g. ``postgresql+psycopg://user:pw@host/db``).
Recorded outcomes come back as ``actions`` rows of the data contract (customer_id, action_time,
action_type, cost, outcome) so that later training can learn which action works for whom.
Nothing here logs customer ids or notes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

import pandas as pd
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from cxchurn.errors import ConfigError, CxChurnError, DataContractError
from cxchurn.settings import DEFAULT_MAX_ACTION_COST, Settings
from features import schema

ENV_VAR: Final = "CXCHURN_OUTCOMES_URL"
DB_FILE: Final = "outcomes.db"
RESULTS: Final = ("pending", "accepted", "declined", "no_answer", "retained", "churned")
MAX_TEXT: Final = 2000
EARLIEST_ACTION: Final = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK: Final = pd.Timedelta(days=1)  # clocks and time zones of the people recording


class OutcomeStoreUnavailableError(CxChurnError):
    """The outcome database cannot be reached or written."""

    http_status = 503


metadata = MetaData()
outcomes_table = Table(
    "retention_outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(128), nullable=False, index=True),
    Column("action_type", String(64), nullable=False),
    Column("action_time", DateTime(timezone=True), nullable=False),
    Column("cost", Float, nullable=True),
    Column("result", String(32), nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("note", Text, nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Outcome:
    """One recorded action and its result (``result`` one of ``RESULTS``)."""

    customer_id: str
    action_type: str
    action_time: datetime
    result: str
    recorded_by: str
    cost: float | None = None
    note: str | None = None
    id: int | None = None
    recorded_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("action_time", "recorded_at"):
            if out[key] is not None:
                out[key] = out[key].isoformat()
        return out


T = TypeVar("T")


def create_tables(engine: Engine, tables: MetaData = metadata) -> None:
    """Create the missing ``tables`` (the outcome tables by default; the sessions, owners and
    alerts live in the same database); tolerate another worker creating them meanwhile."""
    try:
        tables.create_all(engine)
    except SQLAlchemyError:
        tables.create_all(engine)  # lost the race: the second look finds the tables


def run_in_transaction(engine: Engine, fn: Callable[[Connection], T], what: str) -> T:
    """``fn`` in one transaction; a database failure is an ``OutcomeStoreUnavailableError``
    naming ``what`` and the setting to check (never the SQL's parameters)."""
    try:
        with engine.begin() as con:
            return fn(con)
    except SQLAlchemyError as err:
        raise OutcomeStoreUnavailableError(
            f"the {what} could not be used: {str(err)[:200]}; check that the outcome "
            "database (CXCHURN_OUTCOMES_URL) is reachable") from err


def default_url(settings: Settings) -> str:
    """``settings.outcomes_url`` (``CXCHURN_OUTCOMES_URL``), else SQLite in the working folder."""
    if settings.outcomes_url:
        return settings.outcomes_url
    folder = settings.home
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / DB_FILE}"


def _utc(value: datetime) -> datetime:
    """Aware UTC (naive = already UTC: SQLite drops the zone on the way back)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def validate_outcome(outcome: Outcome, action_types: Sequence[str] | None = None,
                     max_cost: float = DEFAULT_MAX_ACTION_COST) -> Outcome:
    """Check a record before it is stored; raise DataContractError saying what to fix.

    ``cost`` must be a finite number from 0 to ``max_cost`` (``CXCHURN_MAX_ACTION_COST``);
    ``action_time`` from 2000-01-01 to one day ahead of now.
    """
    problems = []
    if not outcome.customer_id.strip():
        problems.append("customer_id is empty")
    if action_types is not None and outcome.action_type not in action_types:
        problems.append(f"action_type {outcome.action_type!r} is not in the catalogue "
                        f"{list(action_types)}")
    if not outcome.action_type.strip():
        problems.append("action_type is empty")
    if outcome.result not in RESULTS:
        problems.append(f"result must be one of {list(RESULTS)}, got {outcome.result!r}")
    if not outcome.recorded_by.strip():
        problems.append("recorded_by is empty: say who took the action")
    if outcome.cost is not None and not (outcome.cost >= 0):
        problems.append(f"cost must be >= 0, got {outcome.cost!r}")
    elif outcome.cost is not None and not (outcome.cost <= max_cost):
        problems.append(f"cost must be a finite number at most {max_cost:g} "
                        f"(CXCHURN_MAX_ACTION_COST), got {outcome.cost!r}")
    if outcome.note is not None and len(outcome.note) > MAX_TEXT:
        problems.append(f"note is longer than {MAX_TEXT} characters")
    when = _utc(outcome.action_time)
    if when > datetime.now(UTC) + FUTURE_SLACK:
        problems.append("action_time is in the future: give when the action was taken "
                        "(at most one day ahead of now, in UTC)")
    elif when < EARLIEST_ACTION:
        problems.append(f"action_time {when.date().isoformat()} is before "
                        f"{EARLIEST_ACTION.date().isoformat()}: check the year")
    if problems:
        raise DataContractError("cannot record the outcome: " + "; ".join(problems) + ".")
    return Outcome(**{**asdict(outcome), "action_time": when,
                      "customer_id": outcome.customer_id.strip(),
                      "recorded_by": outcome.recorded_by.strip()})


class OutcomeStore:
    """Append-only store of outcomes in SQLite (default) or PostgreSQL."""

    def __init__(self, url: str, engine: Engine | None = None,
                 max_cost: float = DEFAULT_MAX_ACTION_COST) -> None:
        """``url``: a SQLAlchemy URL, e.g. ``default_url(settings)``; ``max_cost``: the highest
        cost a record may carry (``Settings.max_action_cost``)."""
        self.url = url
        self.max_cost = max_cost
        try:
            self.engine = engine or create_engine(self.url, pool_pre_ping=True)
            create_tables(self.engine)
        except (SQLAlchemyError, ImportError) as err:
            raise ConfigError(
                f"cannot open the outcome store {self.safe_url()}: {str(err)[:300]}; check "
                f"{ENV_VAR} (a SQLAlchemy URL such as postgresql+psycopg://user:pw@host/db) "
                f"or unset it to use the SQLite file in CXCHURN_HOME."
            ) from err

    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        try:
            from sqlalchemy.engine import make_url

            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "<unparseable url>"

    def _run(self, fn: Any) -> Any:
        try:
            return fn()
        except SQLAlchemyError as err:
            raise OutcomeStoreUnavailableError(
                f"the outcome store {self.safe_url()} failed: {str(err)[:200]}; check that the "
                f"database is reachable."
            ) from err

    def record(self, outcome: Outcome, action_types: Sequence[str] | None = None,
               max_cost: float | None = None) -> Outcome:
        """Validate and store one outcome; returns it with its id and recorded_at.

        ``max_cost`` overrides the store's own limit (the service passes its settings')."""
        clean = validate_outcome(outcome, action_types,
                                 self.max_cost if max_cost is None else max_cost)
        now = datetime.now(UTC)
        values = {k: v for k, v in asdict(clean).items() if k not in ("id", "recorded_at")}

        def write() -> int:
            with self.engine.begin() as con:
                result = con.execute(insert(outcomes_table).values(**values, recorded_at=now))
                key = result.inserted_primary_key
                if key is None:
                    raise CxChurnError("the outcome store returned no id for the new row")
                return int(key[0])

        new_id = self._run(write)
        return Outcome(**{**asdict(clean), "id": new_id, "recorded_at": now})

    def list(self, customer_id: str | None = None, limit: int | None = None,
             since: datetime | None = None) -> list[Outcome]:
        """Outcomes, newest first; of one customer when ``customer_id`` is given; with an
        ``action_time`` from ``since`` on when it is given."""
        query = select(outcomes_table).order_by(outcomes_table.c.action_time.desc(),
                                                outcomes_table.c.id.desc())
        if customer_id is not None:
            query = query.where(outcomes_table.c.customer_id == customer_id)
        if since is not None:
            query = query.where(outcomes_table.c.action_time >= _utc(since))
        if limit is not None:
            query = query.limit(limit)

        def read() -> list[Outcome]:
            with self.engine.connect() as con:
                rows = con.execute(query).mappings().all()
            return [
                Outcome(**{**dict(r), "action_time": _utc(r["action_time"]),
                           "recorded_at": _utc(r["recorded_at"])})
                for r in rows
            ]

        return self._run(read)

    def as_actions(self) -> pd.DataFrame:
        """All outcomes as an ``actions`` table of the data contract, oldest first."""
        records = self.list()
        frame = pd.DataFrame({
            schema.CUSTOMER_ID: pd.Series([r.customer_id for r in records], dtype="str"),
            "action_time": pd.Series([r.action_time for r in records],
                                     dtype="datetime64[us, UTC]"),
            "action_type": pd.Series([r.action_type for r in records], dtype="str"),
            "cost": pd.Series([r.cost for r in records], dtype="float64"),
            "outcome": pd.Series([r.result for r in records], dtype="str"),
        })[list(schema.ACTION_COLUMNS)]
        return frame.sort_values("action_time", kind="stable").reset_index(drop=True)

    def export_actions(self, path: str | Path) -> Path:
        """Write the actions table as CSV or Parquet (by suffix) for the loaders to read."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = self.as_actions()
        if path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            out = frame.copy()
            out["action_time"] = out["action_time"].map(lambda t: t.isoformat())
            out.to_csv(path, index=False)
        return path

    def dispose(self) -> None:
        self.engine.dispose()

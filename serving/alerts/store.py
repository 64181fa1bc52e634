"""The alert store: every alert, who owns it, how it was resolved, and its webhook delivery.

One table in the outcome database (SQLite ``outcomes.db`` in ``CXCHURN_HOME`` by default,
``CXCHURN_OUTCOMES_URL`` for PostgreSQL), so the inbox survives a restart and every worker
process sees the same alerts. States: ``open`` -> ``assigned`` (an owner) -> ``resolved``
(a note), each with its time.

De-duplication is the database's job, not a read-then-write: while an alert is open or
assigned its ``open_key`` (rule + customer) is set and unique, so a second insert for the
same rule and customer is skipped by the database (``ON CONFLICT DO NOTHING``) even when two
processes race; resolving clears the key and the next change may raise a new alert.

Webhook delivery (``pending`` / ``delivered`` / ``failed``, attempts, last status) is kept on
the alert's row; a worker takes due rows with a short lease (``claim_due``) so that two
processes never post the same alert at the same time. Nothing here logs customer data.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cxchurn.errors import ConfigError, CxChurnError, NotFoundError
from serving.alerts.rules import Alert
from serving.retention.outcomes import create_tables

STATES: Final = ("open", "assigned", "resolved")
ACTIVE: Final = ("open", "assigned")
DELIVERY_STATES: Final = ("pending", "delivered", "failed")
MAX_NOTE: Final = 2000
MAX_OWNER: Final = 128

T = TypeVar("T")


class AlertStoreUnavailableError(CxChurnError):
    """The alert database cannot be reached or written."""

    http_status = 503


class AlertStateError(CxChurnError):
    """The alert is not in a state that allows the change (e.g. resolving it twice)."""

    http_status = 409


metadata = MetaData()
alerts_table = Table(
    "retention_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("customer_id", String(128), nullable=False, index=True),
    Column("why", Text, nullable=False),  # JSON: lang -> text
    Column("details", Text, nullable=False),  # JSON list: what changed, in plain words
    Column("old_score", Float, nullable=True),
    Column("new_score", Float, nullable=True),
    Column("new_band", String(16), nullable=True),
    Column("state", String(16), nullable=False, index=True),
    Column("open_key", String(200), nullable=True, unique=True),
    Column("owner", String(MAX_OWNER), nullable=True),
    Column("resolution", Text, nullable=True),
    Column("resolved_by", String(MAX_OWNER), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("delivery", String(16), nullable=True, index=True),
    Column("delivery_attempts", Integer, nullable=False, default=0),
    Column("delivery_status", Integer, nullable=True),
    Column("delivery_error", String(300), nullable=True),
    Column("delivery_next_at", DateTime(timezone=True), nullable=True),
    Column("delivery_lease", DateTime(timezone=True), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
)
TIMES: Final = ("created_at", "due_at", "assigned_at", "resolved_at", "delivery_next_at",
                "delivery_lease", "delivered_at")


def _utc(value: datetime | None) -> datetime | None:
    """Aware UTC (naive = already UTC: SQLite drops the zone on the way back)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class StoredAlert:
    """An alert as the store holds it: the rule's finding plus its state and delivery."""

    id: int
    rule_id: str
    kind: str
    severity: str
    customer_id: str
    why: dict[str, str]
    details: list[str]
    old_score: float | None
    new_score: float | None
    new_band: str | None
    state: str
    owner: str | None
    resolution: str | None
    resolved_by: str | None
    created_at: datetime
    due_at: datetime
    assigned_at: datetime | None
    resolved_at: datetime | None
    delivery: str | None
    delivery_attempts: int
    delivery_status: int | None
    delivery_error: str | None
    delivery_next_at: datetime | None
    delivered_at: datetime | None

    def reason(self, lang: str) -> str:
        return self.why.get(lang) or self.why.get("en") or ""

    def overdue(self, now: datetime) -> bool:
        """Still waiting for someone after its due time."""
        return self.state != "resolved" and self.due_at < now

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
        return out


def _stored(row: Any) -> StoredAlert:
    data = dict(row)
    data.pop("open_key", None)
    data.pop("delivery_lease", None)
    data["why"] = json.loads(data["why"])
    data["details"] = json.loads(data["details"])
    for key in TIMES:
        if key in data:
            data[key] = _utc(data[key])
    return StoredAlert(**data)


def _cause(err: Exception) -> str:
    """The driver's own words, without the SQL statement and its parameters (customer ids)."""
    return str(getattr(err, "orig", None) or type(err).__name__).split("\n")[0][:200]


def _open_key(rule_id: str, customer_id: str) -> str:
    return f"{rule_id}|{customer_id}"[:200]


class AlertStore:
    """Alerts in SQLite (default) or PostgreSQL; see the module docstring."""

    def __init__(self, url: str | None = None, engine: Engine | None = None) -> None:
        """``url``: a SQLAlchemy URL; or ``engine``: an open one (the outcome store's)."""
        if engine is None and url is None:
            raise ValueError("AlertStore needs a url or an engine")
        try:
            self.engine = engine if engine is not None else create_engine(
                str(url), pool_pre_ping=True, hide_parameters=True)
            self._own_engine = engine is None
            create_tables(self.engine, metadata)
        except (SQLAlchemyError, ImportError) as err:
            raise ConfigError(
                f"cannot open the alert store {self.safe_url()}: {str(err)[:300]}; check "
                "CXCHURN_OUTCOMES_URL (alerts live in the outcome database)") from err

    def safe_url(self) -> str:
        try:
            return self.engine.url.render_as_string(hide_password=True)
        except AttributeError:
            return "<alert database>"

    def _run(self, fn: Callable[[Connection], T]) -> T:
        try:
            with self.engine.begin() as con:
                return fn(con)
        except SQLAlchemyError as err:
            raise AlertStoreUnavailableError(
                f"the alert store {self.safe_url()} failed: {_cause(err)}; check that the "
                "outcome database (CXCHURN_OUTCOMES_URL) is reachable") from err

    # ------------------------------------------------------------------------ writing alerts
    def add(self, alerts: Sequence[Alert], deliver: bool = False) -> list[StoredAlert]:
        """Store the alerts no open alert already covers; returns only the new ones.

        One transaction for the whole batch (one commit, not one per alert: an ingest of a
        hundred events waits for one disk flush). ``deliver``: mark each new alert
        ``pending`` for the webhook.
        """
        if not alerts:
            return []
        now = datetime.now(UTC)
        rows = [{
            "rule_id": alert.rule_id, "kind": alert.kind, "severity": alert.severity,
            "customer_id": alert.customer_id, "why": json.dumps(dict(alert.why)),
            "details": json.dumps(list(alert.details)), "old_score": alert.old_score,
            "new_score": alert.new_score, "new_band": alert.new_band, "state": "open",
            "open_key": _open_key(alert.rule_id, alert.customer_id),
            "created_at": _utc(alert.created_at), "due_at": _utc(alert.due_at),
            "delivery": "pending" if deliver else None, "delivery_attempts": 0,
            "delivery_next_at": now if deliver else None,
        } for alert in alerts]
        statement = self._insert_new()

        def write(con: Connection) -> builtins.list[StoredAlert]:
            if statement is not None:  # one multi-row INSERT; duplicates return no id
                found = [int(i) for i in con.execute(statement, rows).scalars().all()]
            else:  # another database: one savepoint per alert
                found = []
                for row in rows:
                    try:
                        with con.begin_nested():
                            key = con.execute(insert(alerts_table).values(**row)
                                              ).inserted_primary_key
                    except IntegrityError:
                        continue
                    if key is not None:
                        found.append(int(key[0]))
            if not found:
                return []
            query = select(alerts_table).where(alerts_table.c.id.in_(found)).order_by(
                alerts_table.c.id)
            return [_stored(r) for r in con.execute(query).mappings().all()]

        return self._run(write)

    def _insert_new(self) -> Any:
        """INSERT ... ON CONFLICT DO NOTHING RETURNING id, where the database has it: a
        duplicate (an open alert of the rule for the customer) is skipped inside the batch's
        transaction instead of aborting it."""
        name = self.engine.dialect.name
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        elif name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
        else:
            return None
        return dialect_insert(alerts_table).on_conflict_do_nothing().returning(
            alerts_table.c.id)

    def _get(self, con: Connection, alert_id: int) -> StoredAlert:
        row = con.execute(select(alerts_table).where(alerts_table.c.id == alert_id)
                          ).mappings().first()
        if row is None:
            raise NotFoundError(f"no alert with id {alert_id}; GET /alerts lists them")
        return _stored(row)

    def get(self, alert_id: int) -> StoredAlert:
        return self._run(lambda con: self._get(con, alert_id))

    def list(self, states: Sequence[str] = ACTIVE, customer_id: str | None = None,
             limit: int = 500) -> list[StoredAlert]:
        """Alerts in ``states``, soonest due first (resolved ones: newest first)."""
        unknown = [s for s in states if s not in STATES]
        if unknown:
            raise ConfigError(f"unknown alert state(s) {unknown}: use {list(STATES)}")
        c = alerts_table.c
        query = select(alerts_table).where(c.state.in_(list(states)))
        if customer_id is not None:
            query = query.where(c.customer_id == customer_id)
        order = ([c.due_at.asc(), c.id.asc()] if "resolved" not in states
                 else [c.created_at.desc(), c.id.desc()])
        query = query.order_by(*order).limit(limit)
        rows = self._run(lambda con: con.execute(query).mappings().all())
        return [_stored(r) for r in rows]

    # ------------------------------------------------------------------------ the workflow
    def _change(self, alert_id: int, allowed: Sequence[str], values: dict[str, Any],
                refusal: str) -> StoredAlert:
        c = alerts_table.c

        def write(con: Connection) -> StoredAlert:
            done = con.execute(update(alerts_table).where(
                and_(c.id == alert_id, c.state.in_(list(allowed)))).values(**values))
            current = self._get(con, alert_id)  # NotFoundError for an unknown id
            if done.rowcount != 1:
                raise AlertStateError(refusal.format(state=current.state))
            return current

        return self._run(write)

    def assign(self, alert_id: int, owner: str, now: datetime | None = None) -> StoredAlert:
        """Give an open (or already assigned) alert to ``owner``."""
        owner = (owner or "").strip()
        if not owner or len(owner) > MAX_OWNER or "\x00" in owner:
            raise ConfigError(f"owner must be a name of 1 to {MAX_OWNER} characters: say who "
                              "takes the alert")
        return self._change(alert_id, ACTIVE, {
            "state": "assigned", "owner": owner, "assigned_at": now or datetime.now(UTC)},
            f"alert {alert_id} is {{state}}: only open or assigned alerts can be assigned")

    def resolve(self, alert_id: int, note: str, by: str | None = None,
                now: datetime | None = None) -> StoredAlert:
        """Close an alert with what was done; the rule may fire again for the customer."""
        note = (note or "").replace("\x00", "").strip()
        if not note or len(note) > MAX_NOTE:
            raise ConfigError(f"a resolution note of 1 to {MAX_NOTE} characters is required: "
                              "say what was done (e.g. 'called, offered a voucher')")
        by = (by or "").replace("\x00", "").strip() or None
        if by is not None and len(by) > MAX_OWNER:
            raise ConfigError(f"'by' must be at most {MAX_OWNER} characters")
        return self._change(alert_id, ACTIVE, {
            "state": "resolved", "resolution": note, "resolved_by": by, "open_key": None,
            "resolved_at": now or datetime.now(UTC)},
            f"alert {alert_id} is already {{state}}")

    # ------------------------------------------------------------------------ webhook delivery
    def claim_due(self, now: datetime | None = None, lease: timedelta = timedelta(minutes=2),
                  limit: int = 20) -> builtins.list[StoredAlert]:
        """Pending deliveries whose next attempt is due, leased to the caller for ``lease``.

        Each row is claimed with its own conditional update, so of two processes claiming
        at once only one gets it; an unfinished lease (a killed process) expires by itself.
        """
        now = now or datetime.now(UTC)
        c = alerts_table.c
        due = and_(c.delivery == "pending", c.delivery_next_at <= now,
                   or_(c.delivery_lease.is_(None), c.delivery_lease < now))

        def claim(con: Connection) -> builtins.list[StoredAlert]:
            ids = con.execute(select(c.id).where(due).order_by(c.delivery_next_at, c.id)
                              .limit(limit)).scalars().all()
            taken = []
            for alert_id in ids:
                done = con.execute(update(alerts_table).where(and_(c.id == alert_id, due))
                                   .values(delivery_lease=now + lease))
                if done.rowcount == 1:
                    taken.append(self._get(con, alert_id))
            return taken

        return self._run(claim)

    def next_due(self) -> datetime | None:
        """When the earliest pending delivery is due (None: nothing pending)."""
        c = alerts_table.c
        query = select(c.delivery_next_at).where(c.delivery == "pending").order_by(
            c.delivery_next_at).limit(1)
        return _utc(self._run(lambda con: con.execute(query).scalar()))

    def record_delivery(self, alert_id: int, state: str, attempts: int, status: int | None,
                        error: str | None, next_at: datetime | None = None) -> None:
        """The outcome of one attempt; ``pending`` with ``next_at`` schedules the retry."""
        if state not in DELIVERY_STATES:
            raise ValueError(f"delivery state must be one of {DELIVERY_STATES}")
        values: dict[str, Any] = {
            "delivery": state, "delivery_attempts": attempts, "delivery_status": status,
            "delivery_error": (error or None) and str(error)[:300], "delivery_lease": None,
            "delivery_next_at": next_at}
        if state == "delivered":
            values["delivered_at"] = datetime.now(UTC)
        self._run(lambda con: con.execute(update(alerts_table).where(
            alerts_table.c.id == alert_id).values(**values)))

    def dispose(self) -> None:
        if self._own_engine:
            self.engine.dispose()

"""Who works a customer and how far they got: owner and status, kept in the outcome database.

Two agents must not call the same person, and a status must outlive the service: so each
customer has at most one row here (owner, status new / contacted / won_back / lost, when it
last changed and when the customer was last contacted), in the same SQLite or PostgreSQL
database as the outcomes (``serving.retention.outcomes``). A claim by a second agent is a
409 naming the owner; the owner releases, or sets a status, which claims an unowned customer.
Nothing here logs customer ids, owners or notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from sqlalchemy import Column, DateTime, MetaData, String, Table, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from cxchurn.errors import CxChurnError, DataContractError
from serving.retention.outcomes import (
    OutcomeStoreUnavailableError,
    create_tables,
    run_in_transaction,
)

STATUSES: Final = ("new", "contacted", "won_back", "lost")
# statuses that mean somebody spoke to the customer (the "contacted recently" filter)
CONTACT_STATUSES: Final = frozenset({"contacted", "won_back", "lost"})
MAX_OWNER: Final = 128
T = TypeVar("T")


class ClaimConflictError(CxChurnError):
    """Another agent owns the customer: the caller must not work it."""

    http_status = 409


metadata = MetaData()
assignments_table = Table(
    "retention_assignments",
    metadata,
    Column("customer_id", String(128), primary_key=True),
    Column("owner", String(MAX_OWNER), nullable=True),
    Column("status", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(MAX_OWNER), nullable=False),
    Column("contacted_at", DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class Assignment:
    """A customer's owner (None: free to claim) and status."""

    customer_id: str
    owner: str | None = None
    status: str = "new"
    updated_at: datetime | None = None
    updated_by: str | None = None
    contacted_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("updated_at", "contacted_at"):
            if out[key] is not None:
                out[key] = out[key].isoformat()
        return out


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _agent(agent: str) -> str:
    clean = (agent or "").strip()
    if not clean:
        raise DataContractError("agent is empty: say who claims or changes the customer "
                                "(e.g. your name or login)")
    if len(clean) > MAX_OWNER:
        raise DataContractError(f"agent is longer than {MAX_OWNER} characters")
    return clean


class AssignmentStore:
    """Owner and status per customer in the outcome database (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_tables(engine, metadata)

    def _run(self, fn: Callable[[Connection], T]) -> T:
        return run_in_transaction(self.engine, fn, "assignment table")

    @staticmethod
    def _read(con: Connection, customer_id: str, lock: bool = False) -> Assignment | None:
        query = select(assignments_table).where(assignments_table.c.customer_id == customer_id)
        if lock and con.dialect.name == "postgresql":
            query = query.with_for_update()
        row = con.execute(query).mappings().first()
        if row is None:
            return None
        return Assignment(**{**dict(row), "updated_at": _utc(row["updated_at"]),
                             "contacted_at": _utc(row["contacted_at"])})

    def get(self, customer_id: str) -> Assignment:
        """The customer's assignment; unowned and "new" when nobody touched it yet."""
        found = self._run(lambda con: self._read(con, customer_id))
        return found or Assignment(customer_id=customer_id)

    def all(self, customer_ids: Iterable[str] | None = None) -> dict[str, Assignment]:
        """Every stored assignment (of ``customer_ids`` when given), by customer id."""
        query = select(assignments_table)
        if customer_ids is not None:
            query = query.where(assignments_table.c.customer_id.in_(list(customer_ids)))

        def read(con: Connection) -> dict[str, Assignment]:
            return {r["customer_id"]: Assignment(**{**dict(r), "updated_at": _utc(r["updated_at"]),
                                                    "contacted_at": _utc(r["contacted_at"])})
                    for r in con.execute(query).mappings()}

        return self._run(read)

    def _change(self, customer_id: str, agent: str, change: Callable[[Assignment], Assignment]
                ) -> Assignment:
        """Read, check and write one customer's row in one transaction (row lock on
        PostgreSQL; SQLite serialises writers), inserting it the first time."""
        def write(con: Connection) -> Assignment:
            current = self._read(con, customer_id, lock=True)
            new = change(current or Assignment(customer_id=customer_id))
            values = {k: v for k, v in asdict(new).items() if k != "customer_id"}
            if current is None:
                con.execute(assignments_table.insert().values(customer_id=customer_id,
                                                              **values))
            else:
                con.execute(update(assignments_table)
                            .where(assignments_table.c.customer_id == customer_id)
                            .values(**values))
            return new

        try:
            return self._run(write)
        except OutcomeStoreUnavailableError as err:
            if isinstance(err.__cause__, IntegrityError):  # two first claims at once: re-read
                return self._run(write)
            raise

    def claim(self, customer_id: str, agent: str) -> Assignment:
        """``agent`` owns the customer from now on; 409 when another agent already does."""
        agent = _agent(agent)

        def change(a: Assignment) -> Assignment:
            _check_owner(a, agent)
            return Assignment(**{**asdict(a), "owner": agent, "updated_at": datetime.now(UTC),
                                 "updated_by": agent})

        return self._change(customer_id, agent, change)

    def release(self, customer_id: str, agent: str) -> Assignment:
        """The owner gives the customer back (status kept); 409 for anybody else."""
        agent = _agent(agent)

        def change(a: Assignment) -> Assignment:
            _check_owner(a, agent)
            return Assignment(**{**asdict(a), "owner": None, "updated_at": datetime.now(UTC),
                                 "updated_by": agent})

        return self._change(customer_id, agent, change)

    def set_status(self, customer_id: str, status: str, agent: str) -> Assignment:
        """Set the status; an unowned customer becomes ``agent``'s, another's is a 409."""
        agent = _agent(agent)
        if status not in STATUSES:
            raise DataContractError(f"status must be one of {list(STATUSES)}; got "
                                    f"{status[:40]!r}")

        def change(a: Assignment) -> Assignment:
            _check_owner(a, agent)
            now = datetime.now(UTC)
            contacted = now if status in CONTACT_STATUSES else a.contacted_at
            return Assignment(customer_id=a.customer_id, owner=agent, status=status,
                              updated_at=now, updated_by=agent, contacted_at=contacted)

        return self._change(customer_id, agent, change)


def _check_owner(current: Assignment, agent: str) -> None:
    if current.owner is not None and current.owner != agent:
        raise ClaimConflictError(
            f"this customer is already claimed by {current.owner!r}; ask them to release it "
            f"before you call (two agents must not call the same person)")


__all__ = ["CONTACT_STATUSES", "STATUSES", "Assignment", "AssignmentStore",
           "ClaimConflictError", "assignments_table"]

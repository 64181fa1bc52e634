"""Browser sign-in sessions: a random id in the cookie, its hash and expiry in the database.

The sign-in form checks the API key once and hands the browser a random session id (never the
key). The table lives in the outcome database (SQLite by default, ``CXCHURN_OUTCOMES_URL``
otherwise), so every worker process and a restarted service see the same sessions and a
sign-out ends a session everywhere. Only the id's SHA-256 is stored: a copy of the database
lets nobody sign in.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, insert, select
from sqlalchemy.engine import Connection, Engine

from serving.retention.outcomes import (
    create_tables,
    run_in_transaction,
)

SESSION_TTL: Final = timedelta(hours=12)
T = TypeVar("T")

metadata = MetaData()
sessions_table = Table(
    "retention_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SessionStore:
    """Create, check and end sign-in sessions (see the module docstring)."""

    def __init__(self, engine: Engine, ttl: timedelta = SESSION_TTL) -> None:
        self.engine = engine
        self.ttl = ttl
        create_tables(engine, metadata)

    def _run(self, fn: Callable[[Connection], T]) -> T:
        return run_in_transaction(self.engine, fn, "session table")

    def create(self) -> str:
        """A new session id, valid for ``ttl``; expired sessions are dropped on the way."""
        now = datetime.now(UTC)
        session_id = secrets.token_urlsafe(32)

        def write(con: Connection) -> None:
            con.execute(delete(sessions_table).where(sessions_table.c.expires_at < now))
            con.execute(insert(sessions_table).values(id_hash=_hash(session_id),
                                                      expires_at=now + self.ttl))

        self._run(write)
        return session_id

    def valid(self, session_id: str | None) -> bool:
        """True for an id that ``create`` made, not ended and not expired."""
        if not session_id or len(session_id) > 100:
            return False
        query = select(sessions_table.c.expires_at).where(
            sessions_table.c.id_hash == _hash(session_id))
        expires = self._run(lambda con: con.execute(query).scalar())
        return expires is not None and _utc(expires) > datetime.now(UTC)

    def end(self, session_id: str | None) -> None:
        """Forget the session (sign-out); unknown ids are ignored."""
        if session_id:
            gone = delete(sessions_table).where(sessions_table.c.id_hash == _hash(session_id))
            self._run(lambda con: con.execute(gone))

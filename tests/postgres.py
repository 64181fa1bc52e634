"""A real PostgreSQL server for the tests that store things in a database.

One throwaway server per test session (``initdb`` + ``pg_ctl`` in a temp dir on a free port,
run as the ``postgres`` user when the suite runs as root, since postgres refuses root), and a
fresh database per test, so the stores are tested against the server they meet in production
and not only SQLite. ``CXCHURN_TEST_PG_URL`` points the tests at an existing server instead.
Where PostgreSQL is not installed (``make test`` installs it as root with apt) the tests that
need it skip and say why.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _initdb() -> str | None:
    """``initdb`` on PATH, or Debian's versioned one (not on PATH by default)."""
    found = shutil.which("initdb")
    if found:
        return found
    versioned = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return versioned[-1] if versioned else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running server's ``postgres`` database (started once per session)."""
    if os.environ.get("CXCHURN_TEST_PG_URL"):
        yield os.environ["CXCHURN_TEST_PG_URL"]
        return
    initdb = _initdb()
    if initdb is None:
        pytest.skip("PostgreSQL (initdb) is not installed: `make test` installs Debian's "
                    "postgresql as root; or set CXCHURN_TEST_PG_URL to a server")
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
    # Not pytest's tmp_path: its parents are private to root, and postgres must reach it.
    folder = Path(tempfile.mkdtemp(prefix="cxchurn-pg-"))
    folder.chmod(0o777)
    data, port = folder / "pg", _free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "cx", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-o", opts, "-w", "start",
                    "-l", str(folder / "pg.log")], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://cx@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def postgres_url(postgres_server: str) -> str:
    """A new, empty database on the session's server (tests never see each other's rows)."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as con:
            con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return postgres_server.rsplit("/", 1)[0] + f"/{name}"

"""Browser-test fixtures: a trained demo home, the real service in a subprocess, Chromium.

The service is the one people run (``bentoml serve serving.api.service:ChurnService``), with the
retention app mounted at ``/``, on a free local port and a temporary CXCHURN_HOME holding a
small trained champion (``tests/api/trained_home.py``), the online store and the world's
events (for the customer timeline). Chromium is Debian's (``make browser`` installs it);
Playwright downloads nothing. Without it the tests skip and say why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
START_TIMEOUT = 120


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_service(home: Path) -> Iterator[str]:
    """Start the BentoML service on ``home``; yield its base URL once /ready answers 200."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", "CXCHURN_API_KEY", "CXCHURN_OUTCOMES_URL")}
    env["CXCHURN_HOME"] = str(home)
    log = (home / f"service-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bentoml", "serve", "serving.api.service:ChurnService",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the service exited early; see {log.name}")
            try:
                with urllib.request.urlopen(url + "/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service was not ready in {START_TIMEOUT} s; see "
                                   f"{log.name}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (run `make browser` or apt-get install "
                    "chromium); browser tests need Debian's Chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def retention_home(browser: Any, default_world: Any, default_examples: Any,
                   default_training_examples: Any,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with a trained champion, the online store and the world (built once)."""
    from tests.retention.home import shared_retention_home

    return shared_retention_home(tmp_path_factory, default_world, default_examples,
                                 default_training_examples)

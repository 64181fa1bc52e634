"""Start the real scoring service as a subprocess on a free loopback port, for tests.

Usage (also from ``tests/browser``)::

    from tests.api.server import start_service
    with start_service(home, env={"CXCHURN_API_KEY": "k"}) as svc:
        httpx.get(svc.url + "/health")

The service runs exactly as ``bentoml serve serving.api.service:ChurnService`` would in
production, from the project root, with ``CXCHURN_HOME=home``. Waiting ends when ``/health``
answers (the service has finished loading, ready or not); if the process dies first, the
error carries the tail of its log. Stopping sends SIGTERM to the whole process group (BentoML
runs a supervisor plus workers), then SIGKILL if needed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICE = "serving.api.service:ChurnService"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A running service: its base URL, process and log file."""

    url: str
    process: subprocess.Popen
    log_path: Path
    api_key: str | None = None

    def headers(self, key: str | None = "default") -> dict[str, str]:
        key = self.api_key if key == "default" else key
        return {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, path: str, key: str | None = "default", **kw: object) -> httpx.Response:
        return httpx.get(self.url + path, headers=self.headers(key), timeout=60, **kw)

    def post(self, path: str, json: object = None, key: str | None = "default",
             **kw: object) -> httpx.Response:
        return httpx.post(self.url + path, json=json, headers=self.headers(key), timeout=120,
                          **kw)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def service_env(home: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the service runs with: home, no telemetry, caller's overrides."""
    out = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", "CXCHURN_API_KEY", "CXCHURN_MODEL_NAME",
                        "CXCHURN_ONLINE_STORE")}
    out.update({"CXCHURN_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true",
                "BENTOML_HOME": str(Path(home) / ".bentoml"), "PYTHONUNBUFFERED": "1"})
    out.update(env or {})
    return out


def _wait(service: Service, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"the service exited with code {service.process.returncode}; "
                               f"log tail:\n{service.log_text()[-3000:]}")
        try:
            if httpx.get(service.url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"the service did not answer /health within {timeout:.0f}s; log tail:\n"
                       f"{service.log_text()[-3000:]}")


def stop(service: Service) -> None:
    """SIGTERM the process group, SIGKILL after 20 s."""
    if service.process.poll() is not None:
        return
    pgid = os.getpgid(service.process.pid)
    os.killpg(pgid, signal.SIGTERM)
    try:
        service.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        service.process.wait(timeout=10)


def launch(home: Path, env: Mapping[str, str] | None = None, port: int | None = None
           ) -> Service:
    """Start the service without waiting (``wait_ready`` / ``stop`` complete it)."""
    port = port or free_port()
    full_env = service_env(Path(home), env)
    log_path = Path(home) / f"service-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    cmd = [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", "127.0.0.1",
           "--port", str(port)]
    process = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=full_env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return Service(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path,
                   api_key=full_env.get("CXCHURN_API_KEY"))


def wait_ready(service: Service, timeout: float = 180) -> Service:
    try:
        _wait(service, timeout)
    except BaseException:
        stop(service)
        raise
    return service


PORT_TAKEN = "Address already in use"


def launch_ready(home: Path, env: Mapping[str, str] | None = None, timeout: float = 180,
                 attempts: int = 3) -> Service:
    """Launch and wait; when another process took the free port first, try a new one.

    ``free_port`` releases the port before BentoML binds it, so a server started at the same
    moment (the other test worker) can take it in between.
    """
    for attempt in range(attempts):
        service = launch(home, env)
        try:
            return wait_ready(service, timeout)
        except RuntimeError:
            if attempt + 1 == attempts or PORT_TAKEN not in service.log_text():
                raise
    raise AssertionError("unreachable")


@contextmanager
def start_service(home: Path, env: Mapping[str, str] | None = None, timeout: float = 180
                  ) -> Iterator[Service]:
    """Run the service on ``home`` for the duration of the block."""
    service = launch_ready(home, env, timeout)
    try:
        yield service
    finally:
        stop(service)

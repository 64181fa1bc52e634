"""Does one heavy allowed request slow everyone else down? Small /score latency under load.

Loopback, bounded: starts the real service (``tests/api/server.py``, as the tests do) on a home
with a champion and an online store, then for ``--seconds`` keeps the largest /explain the
service allows (``CXCHURN_MAX_EXPLAIN_CELLS`` drivers: customers x top_k) running in a loop on
one connection while timing one-id /score requests on another. Prints p50/p99 of the small
request alone and under load (goal: p99 < 200 ms under load), and the heavy request's time.

Usage::

    .venv/bin/python benchmarks/serving_isolation.py --home output   # champion + store there
    .venv/bin/python benchmarks/serving_isolation.py                 # builds a small home

``--workers`` sets ``CXCHURN_WORKERS`` for the started service (default: the service's own).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def small_requests(url: str, cid: str, stop: threading.Event, seconds: float) -> list[float]:
    out: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < deadline and not stop.is_set():
            t0 = time.perf_counter()
            client.post("/score", json={"customer_ids": [cid]}).raise_for_status()
            out.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a home with a champion and a store")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase (<= 30)")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--workers", type=int, help="CXCHURN_WORKERS for the service")
    parser.add_argument("--trees", type=int, default=200, help="trees when building a home")
    args = parser.parse_args()
    seconds = min(args.seconds, 30.0)

    from cxchurn.settings import DEFAULT_MAX_EXPLAIN_CELLS
    from tests.api.server import launch, stop, wait_ready

    home = args.home
    if home is None:
        import importlib.util

        spec = importlib.util.spec_from_file_location("bench_serving", ROOT / "benchmarks" /
                                                      "serving.py")
        assert spec is not None and spec.loader is not None
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        build_home = bench.build_home
        home = Path(tempfile.mkdtemp(prefix="cxchurn-isolation-"))
        build_home(home, args.trees)
    env = {"CXCHURN_WORKERS": str(args.workers)} if args.workers else {}
    svc = wait_ready(launch(home, env=env))
    try:
        meta = httpx.get(svc.url + "/metadata", timeout=30).json()
        if not meta["ready"]:
            raise SystemExit(f"the service is not ready: {meta['reason']}")
        with httpx.Client(base_url=svc.url, timeout=60) as client:
            page = client.get("/retention/at-risk", params={"limit": 10_000}).json()
        ids = [c["customer_id"] for c in page["customers"]]
        n_heavy = min(len(ids), DEFAULT_MAX_EXPLAIN_CELLS // args.top_k)
        heavy_body = {"customer_ids": ids[:n_heavy], "top_k": args.top_k}
        idle = small_requests(svc.url, ids[0], threading.Event(), seconds)

        stop_event = threading.Event()
        heavy_ms: list[float] = []

        def heavy() -> None:
            with httpx.Client(base_url=svc.url, timeout=120) as client:
                while not stop_event.is_set():
                    t0 = time.perf_counter()
                    client.post("/explain", json=heavy_body).raise_for_status()
                    heavy_ms.append((time.perf_counter() - t0) * 1000)

        worker = threading.Thread(target=heavy, daemon=True)
        worker.start()
        time.sleep(0.5)
        loaded = small_requests(svc.url, ids[0], stop_event, seconds)
        stop_event.set()
        worker.join(timeout=120)
    finally:
        stop(svc)
    workers = len(set(re.findall(r"entry_service:cxchurn:(\d+)", svc.log_text())))
    print(f"service workers            {workers}")
    print(f"heavy /explain             {n_heavy} customers x top_k {args.top_k}; "
          f"{len(heavy_ms)} done, median {statistics.median(heavy_ms or [0]):.0f} ms")
    for name, ms in (("idle", idle), ("under load", loaded)):
        print(f"one-id /score {name:<12} n={len(ms):<4} p50 {percentile(ms, 50):7.1f} ms   "
              f"p99 {percentile(ms, 99):7.1f} ms")
    print(f"goal p99 < 200 ms under load: {'met' if percentile(loaded, 99) < 200 else 'NOT met'}")


if __name__ == "__main__":
    main()

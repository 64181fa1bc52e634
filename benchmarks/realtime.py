"""Real time: event-to-new-score latency and events/s through ``POST /events``, on loopback.

Builds a home (a simulated world, a small champion, the online store materialised at
``--cutoff``, the world's events before it as the history), starts the real service (BentoML,
``--workers`` processes) and measures, bounded in requests:

- one event per request, answered with the customer's new score: latency p50/p95/p99 for
  customers with ~10 past events and with ~1,000 past events (``--heavy`` customers get about
  1,000 extra sessions in their history before the cutoff, since the simulator's customers
  have at most a few hundred events);
- the world's later events in batches of ``--batch`` (100), by one client and by two at once:
  events/s with every affected score updated;
- the baseline the live path replaces: ``build_feature_table`` for one customer in process,
  as the issue measured it (compiling and planning the 102-feature query per call).

Figures come with 95% bootstrap intervals (resampling the requests). Usage::

    .venv/bin/python benchmarks/realtime.py                  # ~3 minutes on two cores
    .venv/bin/python benchmarks/realtime.py --customers 500 --single 20 --events 300
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_home(home: Path, customers: int, cutoff: pd.Timestamp, heavy: int,
               heavy_events: int) -> tuple[Any, list[str]]:
    """World + champion + store at ``cutoff``; returns the world and the heavy customers."""
    from features.simulate import SimConfig, simulate
    from tests.api.live_home import materialize_at
    from tests.api.trained_home import train_champion, world_examples

    world = simulate(SimConfig(n_customers=customers))
    train_champion(home, world_examples(world), "cxchurn")
    events, heavy_ids = _with_heavy(world, cutoff, heavy, heavy_events)
    rich = SimpleNamespace(customers=world.customers, events=events)
    materialize_at(home, rich, cutoff)
    return rich, heavy_ids


def _with_heavy(world: Any, cutoff: pd.Timestamp, n: int, per: int
                ) -> tuple[pd.DataFrame, list[str]]:
    """The world's events plus ``per`` sessions in the year before ``cutoff`` for ``n``
    long-standing customers who never cancel."""
    rng = np.random.default_rng(7)
    events, customers = world.events, world.customers
    gone = set(events.loc[events["event_type"] == "cancellation", "customer_id"])
    old = customers[(customers["signup_date"] < cutoff - pd.Timedelta(days=400))
                    & ~customers["customer_id"].isin(gone)]
    ids = sorted(old["customer_id"].astype(str))[:n]
    seconds = rng.integers(1, 365 * 86400, size=(len(ids), per))
    extra = pd.DataFrame({
        "customer_id": np.repeat(ids, per),
        "event_time": (cutoff - pd.to_timedelta(seconds.ravel(), unit="s")).astype(
            "datetime64[us, UTC]"),
        "event_type": "session", "channel": "app", "amount": np.nan, "score": np.nan,
        "duration": rng.uniform(1, 30, len(ids) * per).round(2),
        "text": pd.Series([None] * (len(ids) * per), dtype="str")})
    merged = pd.concat([events, extra[events.columns]], ignore_index=True)
    return merged.sort_values(["event_time", "customer_id"], kind="stable").reset_index(
        drop=True), ids


def bootstrap(values: np.ndarray, stat: Any, n: int = 1000, seed: int = 0) -> tuple[float, ...]:
    """(estimate, low, high): 95% percentile bootstrap over the requests."""
    rng = np.random.default_rng(seed)
    values = np.asarray(values, dtype=float)
    draws = [stat(values[rng.integers(0, len(values), len(values))]) for _ in range(n)]
    return float(stat(values)), float(np.percentile(draws, 2.5)), float(
        np.percentile(draws, 97.5))


def fmt(est: tuple[float, ...], unit: str = "") -> str:
    return f"{est[0]:,.1f}{unit} [{est[1]:,.1f}, {est[2]:,.1f}]"


def latency_case(svc: Any, ids: list[str], n: int, at: pd.Timestamp, tag: str) -> np.ndarray:
    """One event per request (a session), cycling through ``ids``; ms per answered request."""
    import httpx

    out = []
    with httpx.Client(base_url=svc.url, headers=svc.headers(), timeout=120) as client:
        for i in range(n):
            event = {"event_id": f"{tag}-{i}", "customer_id": ids[i % len(ids)],
                     "event_time": (at + pd.Timedelta(seconds=i)).isoformat(),
                     "event_type": "session", "channel": "web", "duration": 5.0}
            t0 = time.perf_counter()
            answer = client.post("/events", json={"events": [event]})
            out.append((time.perf_counter() - t0) * 1000)
            body = answer.json()
            if answer.status_code != 200 or body["stored"] != 1 or not body["customers"]:
                raise RuntimeError(f"unexpected answer {answer.status_code}: {answer.text[:300]}")
    return np.array(out)


def throughput_case(svc: Any, events: pd.DataFrame, batch: int, clients: int
                    ) -> tuple[float, np.ndarray, int]:
    """(wall seconds, ms per request, customers updated) for ``clients`` concurrent clients."""
    import httpx

    from serving.live.replay import as_posted

    posted = as_posted(events)
    parts = [posted[i:i + batch] for i in range(0, len(posted), batch)]
    times: list[float] = []
    updated = [0]
    lock = threading.Lock()

    def run(mine: list[list[dict[str, Any]]]) -> None:
        with httpx.Client(base_url=svc.url, headers=svc.headers(), timeout=300) as client:
            for part in mine:
                t0 = time.perf_counter()
                answer = client.post("/events", json={"events": part})
                ms = (time.perf_counter() - t0) * 1000
                if answer.status_code != 200:
                    raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")
                with lock:
                    times.append(ms)
                    updated[0] += len(answer.json()["customers"])

    threads = [threading.Thread(target=run, args=(parts[k::clients],)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, np.array(times), updated[0]


def baseline(world: Any, cutoff: pd.Timestamp, ids: list[str], n: int) -> np.ndarray:
    """``build_feature_table`` for one customer from its own events, in process (ms)."""
    from features.pipeline import build_feature_table

    out = []
    for i in range(n):
        cid = ids[i % len(ids)]
        events = world.events[world.events["customer_id"] == cid]
        customers = world.customers[world.customers["customer_id"] == cid]
        t0 = time.perf_counter()
        build_feature_table(customers, events, pd.DataFrame({"customer_id": [cid],
                                                             "cutoff": [cutoff]}))
        out.append((time.perf_counter() - t0) * 1000)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000, help="simulated customers")
    parser.add_argument("--cutoff", default="2025-06-01", help="the store's cutoff")
    parser.add_argument("--single", type=int, default=100, help="requests per latency case")
    parser.add_argument("--events", type=int, default=2000, help="events per throughput case")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--heavy", type=int, default=10, help="customers with ~1,000 events")
    parser.add_argument("--heavy-events", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args()

    from serving.live.compute import LiveFeatures  # noqa: F401  (fail early if broken)
    from tests.api.server import launch_ready, stop

    cutoff = pd.Timestamp(args.cutoff, tz="UTC")
    home = Path(tempfile.mkdtemp(prefix="cxchurn-realtime-")) / "home"
    t0 = time.perf_counter()
    world, heavy = build_home(home, args.customers, cutoff, args.heavy, args.heavy_events)
    history = world.events[world.events["event_time"] < cutoff]
    counts = history["customer_id"].value_counts()
    gone = set(world.events.loc[world.events["event_type"] == "cancellation", "customer_id"])
    light = sorted(c for c, k in counts.items() if 8 <= k <= 12 and c not in gone)[:20]
    print(f"built {home} in {time.perf_counter() - t0:.0f}s: {args.customers:,} customers, "
          f"{len(history):,} history events; light customers {len(light)} "
          f"(~{counts[light].mean():.0f} events), heavy {len(heavy)} "
          f"(~{counts[heavy].mean():.0f} events)", flush=True)

    figures: dict[str, Any] = {}
    base_light = baseline(world, cutoff, light, 20)
    base_heavy = baseline(world, cutoff, heavy, 20)
    figures["baseline_build_feature_table_ms"] = {
        "10": bootstrap(base_light, np.median), "1000": bootstrap(base_heavy, np.median)}
    svc = launch_ready(home, env={"CXCHURN_WORKERS": str(args.workers)})
    try:
        # the service prebuilds the at-risk page in the background after its start: wait for
        # it (each worker), so it does not share the CPU with the measured requests
        for _ in range(2 * args.workers):
            svc.get("/retention/at-risk?limit=1")
        # the first event of a day costs each worker the day's BG/NBD population and fit
        # (~0.3 s, once per worker and day): warm every worker at the measured day. One
        # client keeps one connection (one worker), so several clients, one request each.
        for k in range(4 * args.workers):
            latency_case(svc, light, 1, cutoff + pd.Timedelta(hours=1, seconds=k), f"warm{k}")
        at = cutoff + pd.Timedelta(hours=2)
        for name, ids in (("10", light), ("1000", heavy)):
            ms = latency_case(svc, ids, args.single, at, f"lat{name}")
            figures[f"single_event_ms_{name}"] = {
                "p50": bootstrap(ms, np.median), "p95": bootstrap(ms, lambda x: np.percentile(
                    x, 95)), "p99": bootstrap(ms, lambda x: np.percentile(x, 99)),
                "n": len(ms)}
        later = world.events[world.events["event_time"] >= cutoff + pd.Timedelta(days=1)]
        later = later.sort_values("event_time", kind="stable")
        for clients, part in ((1, later.iloc[:args.events]),
                              (2, later.iloc[args.events:2 * args.events])):
            wall, ms, updated = throughput_case(svc, part, args.batch, clients)
            per_request = args.batch / (ms / 1000)
            figures[f"throughput_{clients}_clients"] = {
                "events_per_s": len(part) / wall, "wall_s": wall, "events": len(part),
                "customers_updated": updated,
                "request_ms": {"p50": bootstrap(ms, np.median),
                               "p99": bootstrap(ms, lambda x: np.percentile(x, 99))},
                "events_per_s_per_client": bootstrap(per_request, np.mean)}
    finally:
        stop(svc)

    print("\nbaseline: build_feature_table for one customer, in process (median ms, 95% CI)")
    for k, v in figures["baseline_build_feature_table_ms"].items():
        print(f"  ~{k} past events: {fmt(v, ' ms')}")
    print("\none event per POST /events -> new score (ms, 95% CI)")
    for k in ("10", "1000"):
        f = figures[f"single_event_ms_{k}"]
        print(f"  ~{k} past events: p50 {fmt(f['p50'])}  p95 {fmt(f['p95'])}  "
              f"p99 {fmt(f['p99'])}  (n={f['n']})")
    print(f"\nbatches of {args.batch} events, scores updated")
    for clients in (1, 2):
        f = figures[f"throughput_{clients}_clients"]
        print(f"  {clients} client(s): {f['events_per_s']:,.0f} events/s over {f['events']:,} "
              f"events ({f['customers_updated']:,} customer updates); request p50 "
              f"{fmt(f['request_ms']['p50'], ' ms')}, p99 {fmt(f['request_ms']['p99'], ' ms')}")
    print("goal (issue): p99 < 50 ms for one event, >= 2,000 events/s in batches of 100")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

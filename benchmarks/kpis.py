"""CX KPI speed and memory: ``kpi_table`` and ``cxchurn kpis`` on 100,000 customers / 10M events.

Why this exists: the KPI command must stay interactive (goal: under 10 s) on a realistic
export. The input is synthesised directly with numpy and written as a world folder of
Parquet files (customers, events, world.json): much faster than the simulator, and KPIs need
only the contract's shape, not its dynamics. The mix of event types follows the simulator
(sessions, orders and deliveries dominate; about 3% survey answers with scores on their
scales; at most one cancellation per customer). Synthesis is not timed.

Each measurement runs in a child process, so the peak memory printed (``ru_maxrss`` of that
child) is its own, not the synthesiser's: first ``kpi_table`` by month, by month x segment
and by touchpoint on the Parquet paths (reading included), then ``kpi_tables`` with four
groupings sharing one pass over the events, then the whole command
(``cxchurn kpis --world DIR --by segment``: two tables, six charts, CSVs, console table,
interpreter start-up included).

Run: ``.venv/bin/python benchmarks/kpis.py [--customers N] [--events N] [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 10.0
EVENT_MIX = {  # share of events, close to the simulator's default world
    "session": 0.36, "order": 0.18, "delivery": 0.18, "email_open": 0.17,
    "support_ticket": 0.04, "survey_csat": 0.014, "return": 0.011, "feedback": 0.01,
    "price_change": 0.009, "survey_nps": 0.008, "survey_ces": 0.008, "ticket_reopened": 0.005,
    "complaint": 0.004, "payment_failed": 0.003,
}
SCALES = {"survey_nps": (0, 10), "survey_csat": (1, 5), "survey_ces": (1, 7)}
START, END = np.datetime64("2023-07-01", "us"), np.datetime64("2025-07-01", "us")


def synthesise(folder: Path, n_customers: int, n_events: int, seed: int = 7) -> None:
    """Write customers.parquet, events.parquet and world.json (a KPI-ready world folder)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = pa.array([f"C{i:08d}" for i in range(n_customers)])
    span = (END - START).astype(np.int64)
    signup = START.astype(np.int64) - rng.integers(0, 3 * 365 * 86_400_000_000, n_customers)
    signup += rng.integers(0, span, n_customers) * (rng.random(n_customers) < 0.4)
    ts = pa.timestamp("us", tz="UTC")
    pq.write_table(pa.table({
        "customer_id": ids,
        "signup_date": pa.array(signup, ts),
        "segment": rng.choice(["consumer", "family", "business"], n_customers, p=[.6, .25, .15]),
        "region": rng.choice(["north", "south", "east", "west"], n_customers),
        "plan": rng.choice(["basic", "plus", "premium"], n_customers, p=[.5, .3, .2]),
    }), folder / "customers.parquet")
    n_cancel = n_customers // 4  # a quarter of the customers cancel once over two years
    n_other = n_events - n_cancel
    who = np.concatenate([rng.integers(0, n_customers, n_other),
                          rng.choice(n_customers, n_cancel, replace=False)])
    kinds = list(EVENT_MIX)
    p = np.array(list(EVENT_MIX.values()))
    kind_idx = rng.choice(len(kinds), n_other, p=p / p.sum())
    types = np.array([*kinds, "cancellation"])[np.concatenate(
        [kind_idx, np.full(n_cancel, len(kinds))])]
    times = np.maximum(START.astype(np.int64) + rng.integers(0, span, n_events), signup[who] + 1)
    times = np.minimum(times, END.astype(np.int64) - 1)
    score = np.full(n_events, np.nan)
    for kind, (low, high) in SCALES.items():
        hit = types == kind
        score[hit] = rng.integers(low, high + 1, hit.sum())
    order = np.argsort(who, kind="stable")
    pq.write_table(pa.table({
        "customer_id": ids.take(pa.array(who[order])),
        "event_time": pa.array(times[order], ts),
        "event_type": pa.array(types[order]).dictionary_encode().cast(pa.string()),
        "channel": rng.choice(["web", "app", "email", "chat", "store", "call_centre"], n_events),
        "amount": pa.nulls(n_events, pa.float64()),
        "score": score[order],
        "duration": pa.nulls(n_events, pa.float64()),
        "text": pa.nulls(n_events, pa.string()),
    }), folder / "events.parquet", row_group_size=1_000_000)
    (folder / "world.json").write_text(json.dumps({"horizon_days": 30, "synthetic": True,
                                                   "n_customers": n_customers,
                                                   "n_events": n_events}))


def child(folder: Path) -> None:
    """Time kpi_table in this process and print seconds and peak RSS as JSON."""
    sys.path.insert(0, str(ROOT))
    from features.kpis import kpi_table, kpi_tables

    customers, events = folder / "customers.parquet", folder / "events.parquet"
    out = {}
    for by in (("month",), ("month", "segment"), ("touchpoint",)):
        began = time.perf_counter()
        table = kpi_table(customers, events, by=by)
        out[" x ".join(by)] = {"seconds": time.perf_counter() - began, "rows": len(table)}
    began = time.perf_counter()
    tables = kpi_tables(customers, events, [("month",), ("month", "segment"),
                                            ("month", "region"), ("touchpoint",)])
    out["all four at once"] = {"seconds": time.perf_counter() - began,
                               "rows": sum(len(t) for t in tables)}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get(
        "CXCHURN_HOME", "output")) / "bench")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    folder = args.workdir / f"kpi-world-{args.customers}-{args.events}"
    if not (folder / "world.json").exists():
        began = time.perf_counter()
        synthesise(folder, args.customers, args.events)
        print(f"synthesised {args.customers:,} customers / {args.events:,} events with numpy "
              f"in {time.perf_counter() - began:.1f}s -> {folder} (not timed below)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, __file__, "--child", str(folder)], env=env,
                          capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"kpi_table on {args.customers:,} customers / {args.events:,} events (Parquet, "
          f"reading included):")
    for name, row in figures.items():
        if isinstance(row, dict):
            print(f"  by {name:<18} {row['seconds']:6.2f} s   {row['rows']:,} rows")
    startup = subprocess.run([sys.executable, "-c",
                              "import time; t = time.perf_counter(); import cxchurn.cli; "
                              "print(time.perf_counter() - t)"], env=env, capture_output=True,
                             text=True, check=True)
    print(f"  (CLI start-up alone, importing cxchurn.cli: {float(startup.stdout):.2f} s)")
    print(f"  peak memory (RSS)     {figures['peak_rss_mb']:6.0f} MB")
    began = time.perf_counter()
    command = [sys.executable, "-c", "from cxchurn.cli import main; main()", "kpis", "--world",
               str(folder), "--by", "segment", "--out", str(folder / "kpis-out")]
    subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - began
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    verdict = "within" if seconds < GOAL_S else "OVER"
    print(f"cxchurn kpis --by segment (whole command, start-up included): {seconds:.2f} s, "
          f"{verdict} the {GOAL_S:.0f} s goal; peak memory of the largest child {rss:.0f} MB")


if __name__ == "__main__":
    main()

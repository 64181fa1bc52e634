"""Feature-build speed and memory, and the same features built with featuretools.

Why this exists: the build's speed should be a number, not a feeling. For a large synthetic world
(default 100,000 customers, ~10 million events, 6 monthly cutoffs) it prints wall seconds,
events per second and peak memory of ``features.pipeline.build_feature_table``, for the full
default spec set and for the subset featuretools can express (count / sum / mean of one event
type's amount, score or duration over a 7/30/90/180-day window). On a customer sample it then
builds that same subset with featuretools (DFS with cutoff times and training windows, in its
own pandas-2 venv, see ``ft_runner.py``) and our engine, checks the two agree cell by cell, and
prints the speed ratio.

Every measurement runs in a child process, so its peak RSS (``ru_maxrss`` of that child) is
its own and not the simulator's or another engine's. Events per second = rows of the events
file given to the engine / wall seconds of the build (reading the Parquet files included on
both sides).

Run: ``.venv/bin/python benchmarks/features.py [--customers N] [--sample N]
[--skip-featuretools]``; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FT_VENV = HERE / ".venv-featuretools"
FT_REQUIREMENTS = HERE / "requirements-featuretools.txt"
FT_AGGREGATIONS = ("count", "sum", "mean")
TARGET_EVENTS_PER_S = 1_000_000
TARGET_RATIO = 10.0
BUDGET_S = 15 * 60

_T0 = time.perf_counter()


def log(message: str) -> None:
    """Progress on stderr with elapsed time, so a long run shows where it is."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


# --- which specs featuretools can express ---------------------------------------------------

def featuretools_subset(specs: Sequence[Any]) -> tuple[Any, ...]:
    """Aggregate specs featuretools DFS expresses directly: one event type, count/sum/mean,
    a trailing window, no numeric/channel/text filter (those would need custom primitives)."""
    return tuple(
        s for s in specs
        if s.kind == "aggregate" and len(s.event_types) == 1
        and s.aggregation in FT_AGGREGATIONS and s.window_days is not None
        and s.filter is None and s.channel is None and s.text_signal is None
    )


def ft_spec_data(specs: Sequence[Any]) -> list[dict[str, Any]]:
    """The subset as the plain JSON ``ft_runner.py`` reads (it cannot import cxchurn)."""
    return [{"name": s.name, "event_type": s.event_types[0], "agg": s.aggregation,
             "column": s.column, "window_days": s.window_days} for s in specs]


# --- inputs: the world, the cutoff table, the sample ---------------------------------------

def _sql_path(path: Path) -> str:
    """A file name as a DuckDB string literal (COPY ... TO takes no parameter)."""
    return "'" + str(path).replace("'", "''") + "'"


def write_cutoffs(world: Path, meta: dict[str, Any], out: Path) -> int:
    """The eligible (customer, cutoff) table, built by the project's own label module."""
    import pandas as pd

    from features.labels import LabelConfig, eligible_cutoffs

    dates = [pd.Timestamp(c, tz="UTC") for c in meta["cutoffs"]]
    config = LabelConfig(horizon_days=int(meta.get("horizon_days", 30)))
    table = eligible_cutoffs(world / "customers.parquet", world / "events.parquet", dates,
                             config)
    table.to_parquet(out, index=False)
    return len(table)


def write_sample(world: Path, cutoffs: Path, n: int, seed: int, out: Path) -> dict[str, int]:
    """A seeded random subset of customers with all their events and cutoff rows."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("""CREATE TEMP TABLE ids AS
        SELECT customer_id FROM read_parquet(?) ORDER BY hash(customer_id || ?) LIMIT ?""",
                [str(world / "customers.parquet"), str(seed), n])
    counts = {}
    for name, src in (("customers", world / "customers.parquet"),
                      ("events", world / "events.parquet"), ("cutoffs", cutoffs)):
        target = out / f"{name}.parquet"
        con.execute(f"""COPY (SELECT t.* FROM read_parquet(?) t SEMI JOIN ids USING (customer_id))
                        TO {_sql_path(target)} (FORMAT parquet)""", [str(src)])
        counts[name] = parquet_rows(target)
    return counts


def parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


# --- the featuretools venv ---------------------------------------------------------------

def ensure_ft_venv() -> Path:
    """Create benchmarks/.venv-featuretools from the pinned requirements (once, ~1-2 min)."""
    python = FT_VENV / "bin" / "python"
    stamp = FT_VENV / ".requirements-sha256"
    wanted = hashlib.sha256(FT_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    log(f"creating {FT_VENV} (featuretools needs pandas 2.x; one-off, a minute or two)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(FT_VENV)], check=True)
    pip_log = FT_VENV / "pip-install.log"
    with pip_log.open("w") as sink:
        done = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                               "-r", str(FT_REQUIREMENTS)], stdout=sink, stderr=sink, check=False)
    if done.returncode != 0:
        raise SystemExit(f"installing {FT_REQUIREMENTS.name} into {FT_VENV} failed (exit "
                         f"{done.returncode}); see {pip_log}, or rerun with --skip-featuretools.")
    stamp.write_text(wanted)
    return python


# --- measurements, each in its own child process -------------------------------------------

def measure_ours(inputs: Path, specs_file: Path, out: Path | None = None) -> dict[str, Any]:
    """Child-process entry: time build_feature_table on one input folder; print JSON."""
    import pandas as pd

    from features.pipeline import build_feature_table
    from features.spec import load_specs

    specs = load_specs(specs_file)
    cutoffs = pd.read_parquet(inputs / "cutoffs.parquet")
    t0 = time.perf_counter()
    table = build_feature_table(inputs / "customers.parquet", inputs / "events.parquet",
                                cutoffs, specs)
    wall = time.perf_counter() - t0
    if out is not None:
        table.to_parquet(out, index=False)
    return {"engine": "cxchurn", "wall_s": round(wall, 3), "n_rows": len(table),
            "n_features": len(specs),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_child(cmd: list[str], timeout_s: float) -> dict[str, Any] | None:
    """Run one measurement; its last stdout line is JSON. None if it ran out of time."""
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True,
                              timeout=max(timeout_s, 1), check=False)
    except subprocess.TimeoutExpired:
        log(f"gave up after {timeout_s:.0f}s: {' '.join(cmd[1:3])} ...")
        return None
    if done.returncode != 0:
        raise SystemExit(f"measurement failed (exit {done.returncode}): {' '.join(cmd)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ours(inputs: Path, specs_file: Path, timeout_s: float, out: Path | None = None):
    cmd = [sys.executable, str(Path(__file__).resolve()), "_measure", "--inputs", str(inputs),
           "--specs", str(specs_file)]
    if out is not None:
        cmd += ["--out", str(out)]
    return run_child(cmd, timeout_s)


def theirs(python: Path, inputs: Path, ft_specs: Path, timeout_s: float, out: Path):
    cmd = [str(python), str(HERE / "ft_runner.py"), "--customers",
           str(inputs / "customers.parquet"), "--events", str(inputs / "events.parquet"),
           "--cutoffs", str(inputs / "cutoffs.parquet"), "--features", str(ft_specs),
           "--out", str(out)]
    return run_child(cmd, timeout_s)


def compare_values(ours_path: Path, theirs_path: Path, specs: Sequence[Any]) -> dict[str, Any]:
    """Cells where the engines disagree. featuretools gives 0 for a count or sum over no
    events; our table may say NaN (no data) there, so that pair counts as agreement."""
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(ours_path)
    b = pd.read_parquet(theirs_path)
    for frame in (a, b):
        frame["customer_id"] = frame["customer_id"].astype(str)
        frame["cutoff"] = pd.to_datetime(frame["cutoff"], utc=True).astype("datetime64[us, UTC]")
    merged = a.merge(b, on=["customer_id", "cutoff"], suffixes=("", "__ft"), how="outer",
                     indicator=True)
    bad: dict[str, int] = {}
    for s in specs:
        x = pd.to_numeric(merged[s.name], errors="coerce").astype(float).to_numpy()
        y = pd.to_numeric(merged[f"{s.name}__ft"], errors="coerce").astype(float).to_numpy()
        if s.aggregation in ("count", "sum"):
            x, y = np.nan_to_num(x, nan=0.0), np.nan_to_num(y, nan=0.0)
        same = np.isclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True)
        if (~same).any():
            bad[s.name] = int((~same).sum())
    return {"rows_only_one_side": int((merged["_merge"] != "both").sum()),
            "features_compared": len(specs), "cells_differing": bad}


# --- the report --------------------------------------------------------------------------

def rate(n_events: int, result: dict[str, Any] | None) -> float | None:
    return None if result is None else n_events / result["wall_s"]


def fmt_row(label: str, n_events: int, result: dict[str, Any] | None) -> str:
    if result is None:
        return f"  {label:<44} did not finish in its time budget"
    return (f"  {label:<44} {result['n_features']:>4} feats {result['n_rows']:>9,} rows "
            f"{result['wall_s']:>8.2f} s {rate(n_events, result):>12,.0f} ev/s "
            f"{result['peak_rss_mb']:>8,.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="feature-build speed vs featuretools")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=20_000,
                        help="customers in the featuretools comparison sample")
    parser.add_argument("--skip-featuretools", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--activity", type=float, default=1.4,
                        help="simulator activity (sessions, email opens); 1.4 gives ~100 events "
                             "per customer")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where worlds and results go (default: $CXCHURN_HOME/bench)")
    args = parser.parse_args(argv)

    from cxchurn.paths import home
    from features.default_specs import DEFAULT_SPECS
    from features.spec import dump_specs

    work = (args.workdir or home() / "bench").resolve()
    world = work / f"world-{args.customers}-s{args.seed}-a{args.activity:g}"
    from features.simulate import SimConfig
    from features.world_cache import cached_world

    meta = cached_world(world, SimConfig(n_customers=args.customers, seed=args.seed,
                                         activity=args.activity), say=log)
    started = time.perf_counter()
    cutoffs_file = world / "cutoffs.parquet"
    n_rows = write_cutoffs(world, meta, cutoffs_file)
    n_events = parquet_rows(world / "events.parquet")
    log(f"world: {args.customers:,} customers, {n_events:,} events, "
        f"{len(meta['cutoffs'])} cutoffs, {n_rows:,} eligible (customer, cutoff) rows")

    full, subset = DEFAULT_SPECS, featuretools_subset(DEFAULT_SPECS)
    full_file = dump_specs(full, work / "specs-full.json")
    subset_file = dump_specs(subset, work / "specs-ft-subset.json")
    results: dict[str, Any] = {"customers": args.customers, "events": n_events,
                               "cutoffs": len(meta["cutoffs"]), "rows": n_rows}

    def remaining() -> float:  # the budget counts from here: a cached world costs nothing
        return BUDGET_S - (time.perf_counter() - started)

    log(f"ours, full spec set ({len(full)} features) ...")
    results["ours_full"] = ours(world, full_file, remaining())
    log(f"ours, featuretools-expressible subset ({len(subset)} features) ...")
    results["ours_subset"] = ours(world, subset_file, remaining())

    lines = ["", f"feature build: {args.customers:,} customers, {n_events:,} events, "
             f"{len(meta['cutoffs'])} cutoffs, {n_rows:,} (customer, cutoff) rows, "
             f"{os.cpu_count()} cores",
             fmt_row("cxchurn, full default spec set", n_events, results["ours_full"]),
             fmt_row("cxchurn, featuretools-expressible subset", n_events,
                     results["ours_subset"])]

    if not args.skip_featuretools:
        python = ensure_ft_venv()
        sample_dir = work / f"sample-{world.name}-{args.sample}"
        counts = write_sample(world, cutoffs_file, args.sample, args.seed, sample_dir)
        ft_specs = sample_dir / "ft-specs.json"
        ft_specs.write_text(json.dumps(ft_spec_data(subset)))
        log(f"sample: {counts['customers']:,} customers, {counts['events']:,} events, "
            f"{counts['cutoffs']:,} rows; ours on the subset ...")
        ours_s = ours(sample_dir, subset_file, remaining(), out=sample_dir / "ours.parquet")
        log("featuretools on the subset (one DFS per window) ...")
        ft_s = theirs(python, sample_dir, ft_specs, remaining() - 5,
                      out=sample_dir / "featuretools.parquet")
        results.update(sample=counts, ours_sample=ours_s, featuretools_sample=ft_s)
        ev = counts["events"]
        lines += ["", f"same features on a sample: {counts['customers']:,} customers, "
                  f"{ev:,} events, {counts['cutoffs']:,} rows",
                  fmt_row("cxchurn", ev, ours_s),
                  fmt_row(f"featuretools {ft_s['version'] if ft_s else ''}", ev, ft_s)]
        if ours_s and ft_s:
            ratio = ft_s["wall_s"] / ours_s["wall_s"]
            results["speed_ratio"] = round(ratio, 2)
            results["agreement"] = compare_values(sample_dir / "ours.parquet",
                                                  sample_dir / "featuretools.parquet", subset)
            lines += [f"  speed ratio (events/s ours / featuretools): {ratio:.1f}x "
                      f"(target >= {TARGET_RATIO:.0f}x) -> "
                      f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}",
                      f"  featuretools wall by window: {ft_s['dfs_s']} s, "
                      f"loading + EntitySet {ft_s['load_s']} s",
                      f"  values: {results['agreement']}"]

    if results["ours_full"]:
        eps = rate(n_events, results["ours_full"])
        verdict = "PASS" if eps >= TARGET_EVENTS_PER_S else "FAIL"
        lines.append(f"\n  events/s, full spec set: {eps:,.0f} (target >= "
                     f"{TARGET_EVENTS_PER_S:,}) -> {verdict}")
    lines.append(f"  total benchmark time {time.perf_counter() - _T0:.0f} s")
    print("\n".join(lines), flush=True)
    results_file = work / "features-benchmark.json"
    results_file.write_text(json.dumps(results, indent=2))
    print(f"  results: {results_file}")
    return 0


def _measure_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="features.py _measure")
    parser.add_argument("--inputs", type=Path, required=True)
    parser.add_argument("--specs", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    print(json.dumps(measure_ours(args.inputs, args.specs, args.out)), flush=True)
    return 0


if __name__ == "__main__":
    # Run as a script, this file's folder comes first on sys.path and its name would shadow
    # the project's ``features`` package; drop it so ``import features`` finds the package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    if len(sys.argv) > 1 and sys.argv[1] == "_measure":
        sys.exit(_measure_main(sys.argv[2:]))
    sys.exit(main())

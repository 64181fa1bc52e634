"""The featuretools side of the feature-build benchmark, run in its own virtual environment.

Why a separate process and venv: featuretools 1.31 (woodwork 0.31) does not initialise under
pandas 3, which cxchurn needs, so ``benchmarks/features.py`` runs this file with
``benchmarks/.venv-featuretools/bin/python`` (pandas 2.x, pinned in
``requirements-featuretools.txt``). It must therefore import nothing from cxchurn.

What it computes: the features listed in ``--features`` (JSON list of objects
``{"name", "event_type", "agg": "count"|"sum"|"mean", "column": null|"amount"|"score"|
"duration", "window_days"}``), each an aggregation over one customer's events of one type in
a trailing window. featuretools takes one training window per calculation, so it runs one DFS
per distinct window. Feature definitions come from ``ft.dfs`` (agg and where primitives,
``event_type`` interesting values) and are then restricted to exactly the requested ones, so
neither side computes extra features.

Point in time, like cxchurn: ``include_cutoff_time=False`` makes featuretools use
``cutoff - window <= event_time < cutoff`` (see ``EntitySet._handle_time``).

Output: one JSON line on stdout (timings, rows, features, peak RSS of this process);
progress goes to stderr. ``--out`` also writes the feature matrix (for value comparisons).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import warnings
from pathlib import Path

AGG_PRIMITIVES = {"count": "count", "sum": "sum", "mean": "mean"}


def _log(message: str) -> None:
    print(f"[featuretools] {message}", file=sys.stderr, flush=True)


def _naive_utc(series):
    """featuretools/woodwork handle tz-naive datetimes best; all inputs are UTC already."""
    import pandas as pd

    series = pd.to_datetime(series, utc=True)
    return series.dt.tz_convert("UTC").dt.tz_localize(None)


def ft_feature_name(spec: dict) -> str:
    """The name ``ft.dfs`` gives the feature that matches one of our specs."""
    where = f"WHERE event_type = {spec['event_type']}"
    if spec["agg"] == "count":
        return f"COUNT(events {where})"
    return f"{spec['agg'].upper()}(events.{spec['column']} {where})"


def load_inputs(customers_path: Path, events_path: Path, cutoffs_path: Path):
    """Read the Parquet files the way a featuretools user would: whole frames into pandas.

    Customer ids become int64 codes: featuretools' per-cutoff ``isin`` and pandas' string
    validation on text ids cost it ~3x here (profiled), and a fair comparison gives the other
    side its best reasonable setup. The ids are mapped back in the output.
    """
    import pandas as pd

    customers = pd.read_parquet(customers_path, columns=["customer_id"])
    ids = pd.Index(customers["customer_id"].astype(str).to_numpy(dtype=object))
    events = pd.read_parquet(
        events_path, columns=["customer_id", "event_time", "event_type", "amount", "score",
                              "duration"],
    )
    n_events = len(events)
    events["customer_id"] = ids.get_indexer(events["customer_id"].astype(str).to_numpy(object))
    events["event_time"] = _naive_utc(events["event_time"])
    events = events.reset_index(drop=True)
    events.insert(0, "event_id", range(len(events)))
    cutoffs = pd.read_parquet(cutoffs_path, columns=["customer_id", "cutoff"])
    cutoff_time = pd.DataFrame({
        "customer_id": ids.get_indexer(cutoffs["customer_id"].astype(str).to_numpy(object)),
        "time": _naive_utc(cutoffs["cutoff"]),
    })
    customers = pd.DataFrame({"customer_id": range(len(ids))})
    return customers, events, cutoff_time, n_events, ids


def build_entityset(customers, events, event_types):
    """Two dataframes, one relationship, ``event_type`` values as DFS interesting values.

    No ``add_last_time_indexes``: only events carry a time index and their last time index
    equals it, so the training-window result is the same and 8 s cheaper on 2M events.
    """
    import featuretools as ft
    from woodwork.logical_types import Categorical, Datetime, Double, Integer

    es = ft.EntitySet(id="cx")
    es.add_dataframe(dataframe_name="customers", dataframe=customers, index="customer_id",
                     logical_types={"customer_id": Integer})
    es.add_dataframe(
        dataframe_name="events", dataframe=events, index="event_id", time_index="event_time",
        logical_types={"customer_id": Integer, "event_time": Datetime,
                       "event_type": Categorical, "amount": Double, "score": Double,
                       "duration": Double},
    )
    es.add_relationship("customers", "customer_id", "events", "customer_id")
    es.add_interesting_values(dataframe_name="events",
                              values={"event_type": sorted(event_types)})
    return es


def definitions_for(es, specs: list[dict]):
    """Run DFS for definitions only, then keep exactly the requested features, in order."""
    import featuretools as ft

    aggs = sorted({AGG_PRIMITIVES[s["agg"]] for s in specs})
    generated = ft.dfs(
        entityset=es, target_dataframe_name="customers", agg_primitives=aggs,
        where_primitives=aggs, trans_primitives=[], max_depth=1, features_only=True,
    )
    by_name = {f.get_name(): f for f in generated}
    chosen = []
    for spec in specs:
        name = ft_feature_name(spec)
        if name not in by_name:
            raise SystemExit(
                f"featuretools DFS did not generate {name!r} for spec {spec['name']!r}; "
                f"generated e.g. {sorted(by_name)[:5]}. Check the spec's event_type/column.")
        chosen.append(by_name[name])
    return chosen


def run(customers_path: Path, events_path: Path, cutoffs_path: Path, specs: list[dict],
        out: Path | None = None) -> dict:
    """Build the features with featuretools; return timings and sizes as a dict."""
    import featuretools as ft
    import pandas as pd

    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    event_types = {s["event_type"] for s in specs}
    customers, events, cutoff_time, n_events, ids = load_inputs(
        customers_path, events_path, cutoffs_path)
    es = build_entityset(customers, events, event_types)
    load_s = time.perf_counter() - started
    _log(f"entityset ready: {n_events:,} events, {len(cutoff_time):,} (customer, cutoff) rows, "
         f"{load_s:.1f}s")

    windows: dict[int, list[dict]] = {}
    for spec in specs:
        windows.setdefault(int(spec["window_days"]), []).append(spec)
    per_window = {}
    matrices = []
    for days, window_specs in sorted(windows.items()):
        t0 = time.perf_counter()
        features = definitions_for(es, window_specs)
        matrix = ft.calculate_feature_matrix(
            features, entityset=es, cutoff_time=cutoff_time, cutoff_time_in_index=True,
            training_window=f"{days} days", include_cutoff_time=False,
        )
        matrix.columns = [s["name"] for s in window_specs]
        matrices.append(matrix)
        per_window[str(days)] = round(time.perf_counter() - t0, 3)
        _log(f"window {days:>3}d: {len(window_specs)} features in {per_window[str(days)]:.1f}s")
    result = pd.concat(matrices, axis=1)
    wall_s = time.perf_counter() - started
    if out is not None:
        frame = result.reset_index().rename(columns={"time": "cutoff"})
        frame["customer_id"] = ids.take(frame["customer_id"].to_numpy())
        frame["cutoff"] = frame["cutoff"].dt.tz_localize("UTC")
        frame.to_parquet(out, index=False)
    return {
        "engine": "featuretools",
        "version": ft.__version__,
        "pandas": pd.__version__,
        "wall_s": round(wall_s, 3),
        "load_s": round(load_s, 3),
        "dfs_s": per_window,
        "n_events": n_events,
        "n_rows": len(result),
        "n_features": result.shape[1],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=Path, required=True)
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--cutoffs", type=Path, required=True,
                        help="Parquet with customer_id, cutoff (eligible rows)")
    parser.add_argument("--features", type=Path, required=True, help="JSON list of specs")
    parser.add_argument("--out", type=Path, default=None, help="write the feature matrix here")
    args = parser.parse_args(argv)
    specs = json.loads(args.features.read_text())
    report = run(args.customers, args.events, args.cutoffs, specs, args.out)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()

"""Retention targeting versus the truth: does the policy save more customers for the money?

Simulates the default world (or ``--customers N``), builds features at every month start,
trains the churn model on all but the newest cutoff (``training.train``), scores the newest
cutoff with exact TreeSHAP, plans actions with ``serving.policy`` and judges every strategy
with the simulator's true action effects (``serving.targeting.compare_strategies``). Prints
one table per budget; the figures go in the issue's closing note.

    .venv/bin/python benchmarks/retention.py                      # 5,000 customers, ~1 minute
    .venv/bin/python benchmarks/retention.py --budgets 500 2000   # other budgets (EUR)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.labels import LabelConfig  # noqa: E402
from features.pipeline import build_examples, write_outputs  # noqa: E402
from features.simulate import SimConfig, simulate  # noqa: E402
from features.spec import DEFAULT_SPECS  # noqa: E402
from serving.catalogue import load_catalogue  # noqa: E402
from serving.policy import policy_inputs  # noqa: E402
from serving.targeting import compare_strategies, truth_matrix  # noqa: E402
from training.dataset import load_examples  # noqa: E402
from training.train import TrainConfig, train_churn_model  # noqa: E402


def _log(t0: float, message: str) -> None:
    print(f"[{time.perf_counter() - t0:6.1f}s] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budgets", type=float, nargs="+", default=[500.0, 1000.0, 2000.0])
    parser.add_argument("--draws", type=int, default=200, help="random-targeting draws")
    parser.add_argument("--actions", default=None, help="catalogue YAML (default: built-in)")
    parser.add_argument("--work", default=None, help="work folder (default $CXCHURN_HOME/bench)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    home = Path(os.environ.get("CXCHURN_HOME", ROOT / "output"))
    work = Path(args.work) if args.work else home / "bench" / "retention"
    work.mkdir(parents=True, exist_ok=True)

    world = simulate(SimConfig(n_customers=args.customers, seed=args.seed))
    _log(t0, f"simulated {args.customers} customers, {len(world.events):,} events")
    config = world.config
    labels = LabelConfig(horizon_days=config.horizon_days)
    first = pd.Timestamp(config.start, tz="UTC") + pd.DateOffset(months=3)
    dates = list(pd.date_range(first, pd.Timestamp(config.cutoffs[-1], tz="UTC"), freq="MS"))
    features, label_frame = build_examples(world.customers, world.events, dates, labels)
    write_outputs(features, label_frame, DEFAULT_SPECS, work / "features", labels)
    _log(t0, f"built features at {len(dates)} cutoffs")
    result = train_churn_model(load_examples(work / "features"), DEFAULT_SPECS,
                               TrainConfig(write_plots=False, seed=0), work / "train")
    rows = result.split.test
    _log(t0, f"trained; test cutoff {result.split.test_cutoffs[0].date()}, "
             f"ROC-AUC {result.headline()['roc_auc']:.3f}")

    catalogue = load_catalogue(args.actions)
    customers, shares = policy_inputs(result.model, rows)
    effects = world.truth_action_effects
    effects = effects[effects["cutoff"] == result.split.test_cutoffs[0]]
    truth = truth_matrix(effects, customers["customer_id"], catalogue)
    tables = [compare_strategies(customers, shares, catalogue, truth, b, args.draws)
              for b in args.budgets]
    table = pd.concat(tables, ignore_index=True)
    print(f"retention targeting on the synthetic world: {len(customers)} customers at "
          f"{result.split.test_cutoffs[0].date()}, true effects from the simulator, "
          f"catalogue {catalogue.source}")
    for budget, part in table.groupby("budget", sort=False):
        print(f"\nbudget {budget:,.0f} {catalogue.currency}")
        print(f"  {'strategy':<34} {'contacted':>9} {'cost':>8} {'saved':>8} {'value saved':>12}")
        for r in part.itertuples():
            print(f"  {r.strategy:<34} {r.contacted:>9.0f} {r.cost:>8.0f} {r.saved:>8.2f} "
                  f"{r.value_saved:>12,.0f}")
        fixed = part[part["strategy"].str.startswith("highest risk")]
        best_fixed = fixed.loc[fixed["saved"].idxmax()]
        rand = part[part["strategy"].str.startswith("random")].iloc[0]
        for name in ("policy (value)", "policy (customers)"):
            pol = part[part["strategy"] == name].iloc[0]
            print(f"  {name}: saves {pol.saved:.2f} customers vs {best_fixed.saved:.2f} for the "
                  f"best fixed action ({best_fixed.strategy}) and {rand.saved:.2f} for random; "
                  f"value saved {pol.value_saved:,.0f} vs {best_fixed.value_saved:,.0f} and "
                  f"{rand.value_saved:,.0f}")
    out = work / "retention-benchmark.json"
    out.write_text(json.dumps(table.to_dict(orient="records"), indent=2), encoding="utf-8")
    _log(t0, f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

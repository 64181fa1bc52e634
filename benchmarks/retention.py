"""Retention targeting versus the truth: does the policy save more customers for the money?

Three parts, each printing tables (the figures quoted in benchmarks/README.md).

1. **Targeting** (always): simulates the default world (``--customers``, ``--seed``), builds
   features at every month start, trains the churn model on all but the newest cutoff
   (``training.train``), scores the newest cutoff with exact TreeSHAP, plans actions with
   ``serving.retention.policy`` and the shipped catalogue, and judges every strategy with the
   simulator's true action effects at that cutoff
   (``serving.retention.targeting.compare_strategies``).
2. **Learning from a pilot** (``--pilot-share`` > 0, default 0.2): the same world with a
   randomised retention pilot (each month that share of customers gets one random action);
   the effects are learned from the pilot's outcomes at the training cutoffs by cross-fitting
   (``uplift.effects``) and the policy with learned effects is judged beside the priors.
3. **Calibrating the priors** (``--calibrate-seeds``): fits each action's effect and general
   effect to the true effects of *other* worlds (other seeds), writes a catalogue and judges
   it in parts 1 and 2; the shipped ``serving/retention/actions.yaml`` holds the fit on seeds 11, 23
   and 31, so part 1 (seed 7) judges it out of sample.

    .venv/bin/python benchmarks/retention.py                       # ~2 minutes
    .venv/bin/python benchmarks/retention.py --pilot-share 0       # part 1 only, ~1 minute
    .venv/bin/python benchmarks/retention.py --calibrate-seeds 11 23 31 --pilot-share 0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.default_specs import DEFAULT_SPECS  # noqa: E402
from features.labels import LabelConfig  # noqa: E402
from features.pipeline import build_examples, write_outputs  # noqa: E402
from features.simulate import SimConfig, World, monthly_cutoffs, simulate  # noqa: E402
from serving.retention.catalogue import Catalogue, load_catalogue, write_catalogue  # noqa: E402
from serving.retention.policy import policy_inputs  # noqa: E402
from serving.retention.targeting import (  # noqa: E402
    compare_strategies,
    fit_effects_to_truth,
    truth_matrix,
)
from training.dataset import load_examples  # noqa: E402
from training.train import TrainConfig, TrainResult, train_churn_model  # noqa: E402

PILOT_SHARE = 0.2


def _log(t0: float, message: str) -> None:
    print(f"[{time.perf_counter() - t0:6.1f}s] {message}", file=sys.stderr, flush=True)


def pilot_config(customers: int, seed: int, pilot_share: float) -> SimConfig:
    """The default world, with truth (and so the pilot) at every month start after three months.

    The simulator runs its pilot on truth cutoffs; monthly ones give the pilot about twenty
    months of outcomes to learn from instead of six.
    """
    months = monthly_cutoffs(SimConfig())
    return SimConfig(n_customers=customers, seed=seed, pilot_share=pilot_share,
                     cutoffs=tuple(m.date().isoformat() for m in months))


@dataclass
class Judged:
    """A trained world ready to judge: the model's view of the newest cutoff and the truth."""

    world: World
    result: TrainResult
    customers: pd.DataFrame
    mass: pd.DataFrame
    truth: np.ndarray
    features_dir: Path


def judged_world(config: SimConfig, catalogue: Catalogue, work: Path, t0: float) -> Judged:
    """Simulate, build monthly features, train, and score + explain the newest cutoff."""
    world = simulate(config)
    _log(t0, f"seed {config.seed}: {config.n_customers} customers, {len(world.events):,} "
             f"events, {len(world.actions):,} pilot actions")
    labels = LabelConfig(horizon_days=config.horizon_days)
    dates = monthly_cutoffs(config)
    features, label_frame = build_examples(world.customers, world.events, dates, labels)
    write_outputs(features, label_frame, DEFAULT_SPECS, work / "features", labels)
    result = train_churn_model(load_examples(work / "features"), DEFAULT_SPECS,
                               TrainConfig(write_plots=False, seed=0), work / "train")
    _log(t0, f"seed {config.seed}: trained; test cutoff {result.split.test_cutoffs[0].date()}, "
             f"ROC-AUC {result.headline()['roc_auc']:.3f}")
    customers, mass = policy_inputs(result.model, result.split.test)
    effects = world.truth_action_effects
    effects = effects[effects["cutoff"] == result.split.test_cutoffs[0]]
    truth = truth_matrix(effects, customers["customer_id"], catalogue)
    return Judged(world, result, customers, mass, truth, work / "features")


def print_tables(table: pd.DataFrame, currency: str) -> None:
    """One table per budget, then each policy against the best fixed action and random."""
    for budget, part in table.groupby("budget", sort=False):
        print(f"\nbudget {budget:,.0f} {currency}")
        print(f"  {'strategy':<42} {'contacted':>9} {'cost':>8} {'saved':>8} {'value saved':>12}")
        for r in part.itertuples():
            print(f"  {r.strategy:<42} {r.contacted:>9.0f} {r.cost:>8.0f} {r.saved:>8.2f} "
                  f"{r.value_saved:>12,.0f}")
        fixed = part[part["strategy"].str.startswith("highest risk")]
        best = fixed.loc[fixed["saved"].idxmax()]
        best_value = fixed["value_saved"].max()
        rand = part[part["strategy"].str.startswith("random")].iloc[0]
        for name in part["strategy"][part["strategy"].str.startswith("policy")]:
            pol = part[part["strategy"] == name].iloc[0]
            print(f"  {name}: saves {pol.saved:.2f} customers vs {best.saved:.2f} "
                  f"({best.strategy}) and {rand.saved:.2f} (random); value saved "
                  f"{pol.value_saved:,.0f} vs best fixed {best_value:,.0f}")


def plot_tables(table: pd.DataFrame, title: str, out: Path) -> Path:
    """Customers and value saved by budget: each policy against the best fixed action, random."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fixed = table[table["strategy"].str.startswith("highest risk")]
    best = fixed.groupby("budget")[["saved", "value_saved"]].max()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, column, label in ((axes[0], "saved", "customers saved (expected, from the truth)"),
                              (axes[1], "value_saved", "customer value saved (EUR)")):
        for name, part in table.groupby("strategy", sort=False):
            if name.startswith("policy"):
                ax.plot(part["budget"], part[column], marker="o", label=name)
        ax.plot(best.index, best[column], marker="s", linestyle="--", color="grey",
                label="best fixed action on the highest risk")
        rand = table[table["strategy"].str.startswith("random")]
        ax.plot(rand["budget"], rand[column], marker="x", linestyle=":", color="black",
                label="random")
        ax.set_xlabel("budget (EUR)")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def calibrate(seeds: list[int], customers: int, catalogue: Catalogue, work: Path,
              t0: float) -> Catalogue:
    """Fit the catalogue's effects to the pooled true effects of the given worlds."""
    parts = [judged_world(SimConfig(n_customers=customers, seed=s), catalogue,
                          work / f"calibrate-{s}", t0) for s in seeds]
    fitted = fit_effects_to_truth(
        pd.concat([j.customers for j in parts], ignore_index=True),
        pd.concat([j.mass for j in parts], ignore_index=True),
        np.vstack([j.truth for j in parts]), catalogue)
    out = write_catalogue(fitted, work / "actions.calibrated.yaml", header=(
        f"effects fitted to the true effects of simulated worlds, seeds {seeds}"))
    print(f"\ncalibrated on seeds {seeds} ({sum(len(j.customers) for j in parts):,} customers)"
          f" -> {out}")
    for a in fitted:
        print(f"  {a.name:<18} effect {a.effect:.2f}  general_effect {a.general_effect:.2f}")
    return fitted


def learned_from_pilot(args: argparse.Namespace, catalogue: Catalogue, work: Path,
                       t0: float) -> pd.DataFrame:
    """Part 2: learn effects from a pilot world's training cutoffs, judge at its newest."""
    from uplift.crossfit import fit_model_for, learn_effects

    judged = judged_world(pilot_config(args.customers, args.seed, args.pilot_share),
                          catalogue, work / "pilot", t0)
    split = judged.result.split
    history = pd.concat([split.train, split.valid], ignore_index=True)
    fit = learn_effects(history, judged.world.actions, catalogue,
                        fit_model_for(DEFAULT_SPECS, work / "pilot" / "crossfit"))
    _log(t0, f"learned effects from {int(fit.table['treated'].sum()):,} treated rows")
    print(f"\neffects learned from the pilot ({args.pilot_share:.0%} of customers a month):")
    print(fit.table.round(3).to_string(index=False))
    tables = [compare_strategies(judged.customers, judged.mass, catalogue, judged.truth, b,
                                 args.draws, learned=fit.catalogue) for b in args.budgets]
    return pd.concat(tables, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pilot-share", type=float, default=PILOT_SHARE,
                        help="part 2: share of customers given a random action each month "
                             "(0 skips it)")
    parser.add_argument("--calibrate-seeds", type=int, nargs="*", default=[],
                        help="part 3: fit the catalogue's effects on these worlds' truth")
    parser.add_argument("--budgets", type=float, nargs="+", default=[500.0, 1000.0, 2000.0])
    parser.add_argument("--draws", type=int, default=200, help="random-targeting draws")
    parser.add_argument("--actions", default=None, help="catalogue YAML (default: built-in)")
    parser.add_argument("--work", default=None, help="work folder (default $CXCHURN_HOME/bench)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    home = Path(os.environ.get("CXCHURN_HOME", ROOT / "output"))
    work = Path(args.work) if args.work else home / "bench" / "retention"
    work.mkdir(parents=True, exist_ok=True)
    catalogue = load_catalogue(args.actions)
    if args.seed in args.calibrate_seeds:
        parser.error(f"--calibrate-seeds must not include the judged --seed {args.seed}: the "
                     "judgement would no longer be out of sample.")

    results: dict[str, Any] = {}
    if args.calibrate_seeds:  # then parts 1 and 2 judge the freshly calibrated catalogue
        catalogue = calibrate(args.calibrate_seeds, args.customers, catalogue, work, t0)
        results["calibrated"] = {a.name: [a.effect, a.general_effect] for a in catalogue}
    judged = judged_world(SimConfig(n_customers=args.customers, seed=args.seed), catalogue,
                          work / "default", t0)
    table = pd.concat([compare_strategies(judged.customers, judged.mass, catalogue,
                                          judged.truth, b, args.draws) for b in args.budgets],
                      ignore_index=True)
    print(f"\nretention targeting on the synthetic world (seed {args.seed}): "
          f"{len(judged.customers)} customers at {judged.result.split.test_cutoffs[0].date()}, "
          f"true effects from the simulator, catalogue {catalogue.source}")
    print_tables(table, catalogue.currency)
    results["targeting"] = table.to_dict(orient="records")
    chart = plot_tables(table, f"retention targeting, seed {args.seed}", work / "targeting.png")
    print(f"\nchart: {chart}")
    if args.pilot_share > 0:
        pilot = learned_from_pilot(args, catalogue, work, t0)
        print(f"\nthe pilot world (seed {args.seed}, pilot {args.pilot_share:.0%}): priors "
              f"versus effects learned from the pilot")
        print_tables(pilot, catalogue.currency)
        results["pilot"] = pilot.to_dict(orient="records")
        chart = plot_tables(pilot, f"pilot world, seed {args.seed}: priors vs learned effects",
                            work / "pilot.png")
        print(f"\nchart: {chart}")
    out = work / "retention-benchmark.json"
    out.write_text(json.dumps(results, indent=2, default=float), encoding="utf-8")
    _log(t0, f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training benchmark: wall time, peak memory and SHAP throughput at scale.

    .venv/bin/python benchmarks/train.py                      # 100,000 customers x 6 cutoffs
    .venv/bin/python benchmarks/train.py --customers 5000     # quick check
    .venv/bin/python benchmarks/train.py --customers 50000 --monthly --test-cutoffs 6

Simulates its own world (cached under --work, default ./output/bench/<n>), builds the
point-in-time features, then measures, each stage in its own fresh process so that the peak
memory (max RSS) of one stage is not the high-water mark of another:

- training: ``train_churn_model`` (split, leak guard, LightGBM + early stopping + calibration,
  baselines, SHAP on the test fold; plots off), wall time and peak RSS;
- SHAP rows per second on the test fold, side by side: the ``shap`` package's
  ``TreeExplainer`` and LightGBM's own ``pred_contrib`` (exact TreeSHAP in C++), plus the
  largest difference between the two (they should agree to float precision).

``--monthly`` builds the features over every month start (the demo's history, about 3.5 times
the training rows of the world's six cutoffs) and ``--test-cutoffs`` holds out that many of
the newest cutoffs: at 50,000 customers one test month leaves the oracle gap's 95% interval at
about +/-0.006, six months at +/-0.0025.

Prints a table; nothing is logged to MLflow.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def _in_fresh_process(fn: Any, *args: Any) -> Any:
    """Run fn(*args) in a spawned process and return its result (peak RSS is its own)."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def stage_world(n_customers: int, seed: int, folder: str) -> dict[str, float]:
    from features.simulate import SimConfig, simulate_to_folder

    start = time.perf_counter()
    simulate_to_folder(SimConfig(n_customers=n_customers, seed=seed), Path(folder),
                       progress=False)
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_rss_mb()}


def stage_features(world: str, out: str, monthly: bool = False) -> dict[str, float]:
    import json

    import pandas as pd

    from features.build_sources import BuildSources
    from features.default_specs import DEFAULT_SPECS
    from features.labels import LabelConfig
    from features.pipeline import build_examples, write_outputs
    from features.simulate import SimConfig, monthly_cutoffs

    start = time.perf_counter()
    meta = json.loads((Path(world) / "world.json").read_text())
    label = LabelConfig(horizon_days=int(meta.get("horizon_days", 30)))
    dates = [pd.Timestamp(c, tz="UTC") for c in meta["cutoffs"]]
    if monthly:
        dates = monthly_cutoffs(SimConfig(start=meta["start"], cutoffs=tuple(meta["cutoffs"])))
    feats, labels = build_examples(Path(world) / "customers.parquet",
                                   Path(world) / "events.parquet", dates, label)
    write_outputs(feats, labels, DEFAULT_SPECS, out, label,
                  BuildSources.of(Path(world) / "customers.parquet",
                                  Path(world) / "events.parquet"))
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_rss_mb(),
            "rows": float(len(labels))}


def stage_train(features: str, model_path: str, world: str, test_cutoffs: int = 1
                ) -> dict[str, Any]:
    import pickle

    import pandas as pd

    from features.spec import load_specs
    from training.build_events import baseline_events
    from training.dataset import load_examples
    from training.train import TrainConfig, train_churn_model

    examples = load_examples(features)
    specs = load_specs(Path(features) / "feature_spec.json")
    truth = pd.read_parquet(Path(world) / "truth_churn.parquet")
    start = time.perf_counter()
    # the truth gives the oracle gap; the build's recorded events give the BG/NBD baseline
    result = train_churn_model(examples, specs,
                               TrainConfig(write_plots=False, n_test_cutoffs=test_cutoffs),
                               Path(model_path).parent / "run", truth=truth,
                               events=baseline_events(features).orders)
    seconds = time.perf_counter() - start
    with open(model_path, "wb") as fh:
        pickle.dump(result.model, fh)
    return {
        "seconds": seconds, "peak_mb": _peak_rss_mb(), "rows": float(len(examples)),
        "train_rows": float(len(result.split.train)), "test_rows": float(len(result.split.test)),
        "best_iteration": float(result.model.best_iteration_),
        "n_features": float(len(result.model.feature_names_)),
        "test_roc_auc": result.metrics["lightgbm"]["roc_auc"],
        "test_churners": float(result.report.labels.sum()),
        "test_cutoffs": [c.date().isoformat() for c in result.split.test_cutoffs],
        "intervals": {k: v.text(signed="_vs_" in k, digits=4)
                      for k, v in result.report.intervals.items() if k.startswith("roc_auc")},
        "baseline_roc_auc": {k: round(v["roc_auc"], 4) for k, v in result.metrics.items()},
        "verdict": result.report.baseline_verdict(),
    }


def stage_shap(features: str, model_path: str, max_rows: int) -> dict[str, float]:
    import pickle

    import numpy as np
    import shap

    from features.schema import CUTOFF
    from training.dataset import load_examples

    with open(model_path, "rb") as fh:
        model = pickle.load(fh)
    examples = load_examples(features)
    test = examples[examples[CUTOFF] == examples[CUTOFF].max()].head(max_rows)
    X = model.prepare(test[model.feature_names_])
    out: dict[str, float] = {"rows": float(len(X))}

    start = time.perf_counter()
    native = model.booster_.predict(X, pred_contrib=True, num_iteration=model.best_iteration_)
    out["pred_contrib_s"] = time.perf_counter() - start

    explainer = shap.TreeExplainer(model.booster_)
    start = time.perf_counter()
    values = explainer.shap_values(X, tree_limit=model.best_iteration_)
    out["treeexplainer_s"] = time.perf_counter() - start
    values = np.asarray(values[1] if isinstance(values, list) else values)
    out["max_abs_diff"] = float(np.max(np.abs(values - native[:, :-1])))
    out["peak_mb"] = _peak_rss_mb()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=None,
                        help="cache folder for the world and features")
    parser.add_argument("--shap-rows", type=int, default=50_000,
                        help="at most this many test rows explained per method")
    parser.add_argument("--monthly", action="store_true",
                        help="features over every month start, not the world's six cutoffs")
    parser.add_argument("--test-cutoffs", type=int, default=1,
                        help="newest cutoffs held out as the test fold")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    work = (args.work or ROOT / "output" / "bench" / f"{args.customers}").resolve()
    world, model = work / "world", work / "model.pkl"
    features = work / ("features_monthly" if args.monthly else "features")

    rows: list[tuple[str, str]] = []
    if not (world / "world.json").exists():
        w = _in_fresh_process(stage_world, args.customers, args.seed, str(world))
        rows.append(("simulate world", f"{w['seconds']:.1f} s, peak {w['peak_mb']:.0f} MB"))
    if not (features / "examples.parquet").exists():
        f = _in_fresh_process(stage_features, str(world), str(features), args.monthly)
        rows.append(("build features + labels",
                     f"{f['seconds']:.1f} s, peak {f['peak_mb']:.0f} MB, {f['rows']:,.0f} rows"))
    t = _in_fresh_process(stage_train, str(features), str(model), str(world),
                          args.test_cutoffs)
    s = _in_fresh_process(stage_shap, str(features), str(model), args.shap_rows)

    rows += [
        ("examples (customer x cutoff)", f"{t['rows']:,.0f} ({t['train_rows']:,.0f} train, "
                                         f"{t['test_rows']:,.0f} test)"),
        ("features", f"{t['n_features']:.0f}"),
        ("training wall time", f"{t['seconds']:.1f} s (best iteration "
                               f"{t['best_iteration']:.0f}; incl. baselines + test SHAP)"),
        ("training peak memory (RSS)", f"{t['peak_mb']:.0f} MB"),
        ("test ROC-AUC", f"{t['test_roc_auc']:.4f} ({t['test_churners']:.0f} churners, "
                         f"cutoffs {', '.join(t['test_cutoffs'])})"),
        ("ROC-AUC of every score", str(t["baseline_roc_auc"])),
        *((f"  {k} (95% CI, customers resampled)", v) for k, v in t["intervals"].items()),
        ("verdict", t["verdict"]),
        ("SHAP rows explained", f"{s['rows']:,.0f}"),
        ("SHAP LightGBM pred_contrib", f"{s['rows'] / s['pred_contrib_s']:,.0f} rows/s "
                                       f"({s['pred_contrib_s']:.2f} s)"),
        ("SHAP shap.TreeExplainer", f"{s['rows'] / s['treeexplainer_s']:,.0f} rows/s "
                                    f"({s['treeexplainer_s']:.2f} s)"),
        ("SHAP max |difference|", f"{s['max_abs_diff']:.2e}"),
        ("SHAP stage peak memory", f"{s['peak_mb']:.0f} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"cxchurn training benchmark: {args.customers:,} customers, work dir {work}")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    main()

"""Public churn data sets, one protocol each, our model beside the baselines users know.

For every data set of ``features/adapters/registry.py`` found in the data folder (default
``../shared/data``), end to end with the project's own commands' functions (train, evaluate,
explain, register in MLflow under ``cxchurn-<data set>``):

* customer tables (snapshot mode, ``training.snapshot_job``): stratified 5-fold CV with seed 0,
  metrics = mean over folds (± sd), LightGBM versus logistic regression; when the data ships
  its own split (Orange: churn-bigml-80 / -20) train on one, test on the other, no CV;
* transaction logs (the adapter, then ``features.pipeline`` with the unchanged
  ``DEFAULT_SPECS`` at every monthly cutoff, then ``training.refit.run_event_log_training``):
  out-of-time cutoffs (test = the last, validation = the one before whose label window ends
  by then, train = older ones), LightGBM early-stops on validation, then it and the logistic
  baseline are refitted on every cutoff whose label window ends by the test cutoff; the
  non-contractual 90-day label; LightGBM versus the run's own baselines: logistic regression,
  the RFM logistic, the recency rule and BG/NBD P(no purchase within the horizon)
  (``features.btyd``, fitted on the orders before the test cutoff, read back from the events
  the build recorded); a paired bootstrap of the test customers gives every figure and every
  difference its 95% interval. Without ``--skip-btyd``, lifetimes' BG/NBD (in
  ``benchmarks/.venv-btyd``, its penalizer picked on the validation cutoff) is added as a
  cross-check.

Metrics: ROC-AUC, PR-AUC, top-decile lift, Brier (for BG/NBD 1 - P(alive) the Brier score is
against "no purchase", which P(alive) does not claim to predict; read its ranking figures).
Writes ``benchmarks/public_results.md`` (and a JSON of every figure beside it).

Run: ``CXCHURN_HOME=/tmp/bench .venv/bin/python benchmarks/public.py [--data DIR] [--only
NAME] [--skip-btyd]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(HERE))  # btyd.py; after ROOT so features.py cannot shadow the package

from features.adapters import registry  # noqa: E402
from training.evaluate import compute_metrics  # noqa: E402

KEYS = ("roc_auc", "pr_auc", "lift_top_decile", "brier")
_T0 = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def _figures(metrics: dict[str, float], std: dict[str, float] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {k: float(metrics[k]) for k in KEYS}
    if std:
        out["std"] = {k: float(std[k]) for k in KEYS}
    return out


def run_table(ds: registry.TableDataset, root: Path, work: Path) -> dict[str, Any]:
    from training.snapshot import SnapshotConfig
    from training.snapshot_job import run_snapshot_training

    table, test = ds.files(root)
    config = SnapshotConfig(label=ds.label, id_column=ds.id_column, positive=ds.positive,
                            write_plots=True)
    summary = run_snapshot_training(table, config, work / ds.name, test_table=test,
                                    model_name=ds.model_name(), force_promote=False)
    result = summary.result
    models: dict[str, Any] = {}
    if result.cv is not None:
        mean, std = result.cv.mean(), result.cv.std()
        for name in ("lightgbm", "logistic"):
            models[name] = _figures(mean.loc[name].to_dict(), std.loc[name].to_dict())
    else:
        for name in ("lightgbm", "logistic"):
            models[name] = _figures(result.metrics[name])
    return {
        "name": ds.name, "kind": "table", "protocol": result.protocol, "models": models,
        "rows": result.plan.n_rows + (len(result.split.test) if test else 0),
        "churn_rate": float(pd.concat([result.split.train, result.split.valid,
                                       result.split.test])["churned"].mean()),
        "leakage": _leakage(result.leakage),
        "top_drivers": result.global_importance.head(5)["feature"].tolist(),
        "registered": f"{summary.model_name} v{summary.model_version}",
        "promotion": summary.decision.reason if summary.decision else "",
        "tree_size": result.chosen_trees,
        "held_out": _held_out(result.report, result.split.source),
    }


def _held_out(report: Any, source: str) -> dict[str, Any]:
    """The final model on its held-out rows: every figure and difference with its 95%
    bootstrap interval (customers resampled), and the verdict against the best baseline."""
    return {"rows": source, "verdict": report.baseline_verdict(),
            "intervals": {k: v.as_dict() for k, v in report.intervals.items()}}


def _leakage(report: Any) -> list[str]:
    """Every column the guard named: suspected leaks (dropped or kept on request) and
    dominant columns (kept, reported)."""
    doc = report.to_dict()
    out = [f"{f} (suspected leak, AUC {v['auc']:.3f}, {what})"
           for what, key in (("dropped", "dropped"), ("kept on request", "kept_on_request"))
           for f, v in doc.get(key, {}).items()]
    out += [f"{f} (dominant, kept: {str(v).split('; kept')[0]})"
            for f, v in doc.get("dominant", {}).items()]
    return out


BOOTSTRAP_NOTE = ("1,000 paired resamples of the test customers, stratified by churn; every "
                  "score judged on the same resampled customers")
BGNBD_PENALIZERS = (0.0, 0.001, 0.01, 0.1)  # lifetimes penalizer_coef, picked on validation
BOOTSTRAP = 2000


def run_log(ds: registry.LogDataset, root: Path, work: Path, btyd: bool) -> dict[str, Any]:
    from features.build_sources import BuildSources
    from features.default_specs import DEFAULT_SPECS
    from features.pipeline import build_examples, write_outputs
    from training.refit import run_event_log_training
    from training.train import TrainConfig

    folder = work / ds.name
    log(f"{ds.name}: adapting")
    adapted = ds.adapt(root)
    written = adapted.write(folder)
    log(f"{ds.name}: building {len(DEFAULT_SPECS)} features at {len(adapted.cutoffs)} cutoffs")
    features, labels = build_examples(adapted.customers, adapted.events, list(adapted.cutoffs),
                                      adapted.label, DEFAULT_SPECS)
    write_outputs(features, labels, DEFAULT_SPECS, folder / "features", adapted.label,
                  BuildSources.of(written["customers"], written["events"]))
    log(f"{ds.name}: training (select on the purged cutoffs, refit on all labelled ones)")
    config = TrainConfig(horizon_days=adapted.label.horizon_days)
    summary = run_event_log_training(folder / "features", config, folder / "train",
                                     model_name=ds.model_name())
    report = summary.report
    metrics = summary.metrics
    # the run's own baselines: logistic, RFM logistic, recency rule and BG/NBD (fitted on the
    # orders before the test cutoff, read back from the build's recorded events)
    models = {name: _figures(metrics[name]) for name in metrics
              if name != "lightgbm_uncalibrated"}
    test = pd.read_parquet(folder / "train" / "test_predictions.parquet")
    test["cutoff"] = pd.to_datetime(test["cutoff"], utc=True)
    scores: dict[str, np.ndarray] = {}
    lifetimes: dict[str, Any] = {}
    if btyd:
        log(f"{ds.name}: BG/NBD cross-check with lifetimes (own venv)")
        lifetimes = _bgnbd(adapted, test, pd.read_parquet(
            folder / "features" / "examples.parquet", columns=["customer_id", "cutoff",
                                                              "churned"]))
        models.update({f"lifetimes_{k}": v for k, v in lifetimes.pop("models").items()})
        scores.update({f"lifetimes_{k}": v for k, v in lifetimes.pop("scores").items()})
    split = json.loads((folder / "train" / "split.json").read_text())
    y = test["churned"].to_numpy(int)
    return {
        "name": ds.name, "kind": "event_log", "protocol": adapted.protocol(),
        "models": models, "rows": len(labels), "churn_rate": float(test["churned"].mean()),
        "test_rows": len(test), "split": split, "adapter_report": adapted.report,
        "leakage": _leakage(summary.report.leakage),
        "top_drivers": pd.read_csv(
            folder / "train" / "importance.csv").head(5)["feature"].tolist(),
        "registered": f"{summary.model_name} v{summary.model_version}",
        "promotion": summary.decision.reason if summary.decision else "",
        "held_out": _held_out(report, f"test cutoff {split['test']['cutoffs']}"),
        "paired_bootstrap": {name: paired_bootstrap(y, test["p_churn"].to_numpy(float), s)
                             for name, s in scores.items()},
        "summary": summary.summary_text,
        **lifetimes,
    }


def _bgnbd(adapted: Any, test: pd.DataFrame, examples: pd.DataFrame) -> dict[str, Any]:
    """BG/NBD at the validation and test cutoffs; its penalizer picked on validation.

    Scored two ways: 1 - P(alive) (the usual BTYD churn score) and P(no purchase within the
    horizon), which is exactly the label; the validation choice uses the latter."""
    from btyd import bgnbd_scores, rfm_summary

    valid_cutoff, test_cutoff = adapted.train_cutoffs[-2], adapted.train_cutoffs[-1]
    examples["cutoff"] = pd.to_datetime(examples["cutoff"], utc=True)
    valid = examples[examples["cutoff"] == valid_cutoff]
    keys = ["customer_id", "cutoff"]
    tried = []
    for penalizer in BGNBD_PENALIZERS:
        scored, fits = bgnbd_scores(adapted.events, [valid_cutoff, test_cutoff],
                                    adapted.label.horizon_days, penalizer)
        v = valid[[*keys, "churned"]].merge(scored, on=keys, how="left", validate="one_to_one")
        auc = compute_metrics(v["churned"].to_numpy(int), v["p_no_purchase"].fillna(0.5))
        tried.append({"penalizer": penalizer, "valid_roc_auc": float(auc["roc_auc"]),
                      "scores": scored, "fits": fits})
        log(f"  BG/NBD penalizer {penalizer}: validation ROC-AUC {auc['roc_auc']:.4f}")
    best = max(tried, key=lambda t: t["valid_roc_auc"])
    merged = test[[*keys, "churned"]].merge(best["scores"], on=keys, how="left",
                                            validate="one_to_one")
    if merged["p_alive"].isna().any():
        raise RuntimeError(f"BG/NBD has no score for {merged['p_alive'].isna().sum()} test "
                           "rows; every test customer bought before the cutoff")
    y = merged["churned"].to_numpy(int)
    rfm = rfm_summary(adapted.events, [test_cutoff])
    merged = merged.merge(rfm[[*keys, "frequency"]], on=keys, how="left")
    one_time = merged["frequency"] == 0
    return {
        "models": {
            "bgnbd_p_alive": _figures(compute_metrics(y, 1 - merged["p_alive"])),
            "bgnbd_p_no_purchase_90d": _figures(compute_metrics(y, merged["p_no_purchase"])),
        },
        "scores": {"bgnbd_p_no_purchase_90d": merged["p_no_purchase"].to_numpy(float)},
        "bgnbd_fits": [f for f in best["fits"] if f["cutoff"].startswith(
            str(test_cutoff.date()))],
        "bgnbd_penalizer": {"chosen": best["penalizer"],
                            "validation_roc_auc": {str(t["penalizer"]): round(t["valid_roc_auc"], 4)
                                                   for t in tried}},
        "bgnbd_p_alive_check": {
            "test_rows": len(merged),
            "p_alive_min": float(merged["p_alive"].min()),
            "p_alive_sd": float(merged["p_alive"].std()),
            "no_repeat_purchase_rows": int(one_time.sum()),
            "no_repeat_purchase_churn_rate": float(merged.loc[one_time, "churned"].mean()),
            "repeat_buyer_churn_rate": float(merged.loc[~one_time, "churned"].mean()),
        },
    }


def paired_bootstrap(y: np.ndarray, ours: np.ndarray, other: np.ndarray,
                     n: int = BOOTSTRAP, seed: int = 0) -> dict[str, float]:
    """ROC-AUC(ours) - ROC-AUC(other) on the same resampled test rows: difference, 95%
    interval and the share of resamples where ours is higher (how sure "beats" is)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() == y[idx].max():
            continue
        diffs.append(roc_auc_score(y[idx], ours[idx]) - roc_auc_score(y[idx], other[idx]))
    d = np.asarray(diffs)
    return {"diff": float(roc_auc_score(y, ours) - roc_auc_score(y, other)),
            "ci_low": float(np.quantile(d, 0.025)), "ci_high": float(np.quantile(d, 0.975)),
            "share_ours_higher": float((d > 0).mean())}


def _cell(fig: dict[str, Any], key: str) -> str:
    value = fig[key]
    if value is None or not np.isfinite(value):
        return "n/a"
    std = fig.get("std", {}).get(key)
    return f"{value:.3f}" + (f" ± {std:.3f}" if std is not None else "")


def _shown(data_root: Path) -> str:
    """The data folder as the README names it (relative to the project) when it is the default."""
    root = Path(__file__).resolve().parents[1]
    try:
        return os.path.relpath(data_root.resolve(), root)
    except ValueError:  # another drive
        return str(data_root)


def render(results: list[dict[str, Any]], data_root: Path) -> str:
    lines = ["# Public churn benchmarks", "",
             f"Measured by `benchmarks/public.py` on the data in `{_shown(data_root)}` "
             "(each folder's PROVENANCE.txt says where it comes from). "
             "Same protocol every time, per kind:", "",
             "* customer tables: stratified 5-fold cross-validation, seed 0, mean ± sd over "
             "folds; inside each fold LightGBM early-stops, calibrates and picks its tree size "
             "on a stratified 20% of the fold's training rows; unless the data ships its own "
             "split (Orange: train on churn-bigml-80, test on churn-bigml-20);",
             "* transaction log: out-of-time cutoffs, 90-day non-contractual label (no order "
             "within 90 days of the cutoff, among customers who ordered in the 90 days before "
             "it); test = the newest cutoff; every fold's label window ends before the next "
             "fold starts; every choice (LightGBM's rounds) is made on the validation cutoff; "
             "then LightGBM and the logistic baselines are refitted on every cutoff whose label "
             "window ends by the test cutoff (`lightgbm_before_refit`: the early-stopped model "
             "trained on the train cutoffs only). `bgnbd` is the run's own BG/NBD baseline, "
             "P(no order within 90 days), fitted on every customer's orders before the test "
             "cutoff; the model's features include BG/NBD P(alive) and expected orders fitted "
             "the same way at each cutoff. Intervals: 1,000 paired resamples of the test "
             "customers.", "",
             "Brier needs a probability of the label itself: `bgnbd` is P(no order within 90 "
             "days), so its Brier compares; the lifetimes cross-check's 1 - P(alive) (only "
             "without --skip-btyd) is a probability of being 'dead', so read its ranking "
             "columns. The refitted LightGBM has no held-out rows left to calibrate on: its "
             "probabilities are LightGBM's own.", "",
             "| data set | protocol | model | ROC-AUC | PR-AUC | top-decile lift | Brier |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in results:
        short = ("own split" if "own train/test" in r["protocol"] else
                 "5-fold CV" if r["kind"] == "table" else "out-of-time")
        for model, fig in r["models"].items():
            lines.append(f"| {r['name']} | {short} | {model} | " +
                         " | ".join(_cell(fig, k) for k in KEYS) + " |")
    lines += ["", "## Published figures for the same data", ""]
    lines += ["| data set | published | ours (same metric) | source |", "| --- | --- | --- | --- |"]
    for r in results:
        published = registry.get(r["name"]).published
        if not published:
            lines.append(f"| {r['name']} | no published figure found that we could attribute "
                         "to this exact data and a stated protocol | - | - |")
        for p in published:
            ours = r["models"]["lightgbm"][p.metric]
            verdict = "published is HIGHER" if p.value > ours else "ours is higher or equal"
            lines.append(f"| {r['name']} | {p.model}: {p.metric} {p.value:.3f} ({p.protocol}) "
                         f"| {ours:.3f} ({verdict}) | {p.source} |")
    lines += ["", "## Per data set", ""]
    for r in results:
        lines.append(f"### {r['name']}")
        lines.append(f"* protocol: {r['protocol']}")
        lines.append(f"* rows: {r['rows']:,}; churn rate {r['churn_rate']:.3f}")
        ours = r["models"]["lightgbm"]["roc_auc"]
        lines.append("* LightGBM ROC-AUC versus each baseline: " + ", ".join(
            f"{m} {f['roc_auc']:.3f} ({'beaten' if ours > f['roc_auc'] else 'NOT beaten'})"
            for m, f in r["models"].items() if m != "lightgbm"))
        lines.append("* leakage guard (suspected leak: single-column AUC >= 0.90; dominant: "
                     "within 0.03 of the model's AUC or over half the |SHAP| mass): "
                     + ("; ".join(r["leakage"]) or "no column flagged"))
        held = r.get("held_out")
        if held:
            iv = held["intervals"]
            lines.append(f"* final model on the held-out rows ({held['rows']}), 95% bootstrap "
                         f"intervals ({BOOTSTRAP_NOTE}):")
            for key, v in iv.items():
                signed = "_diff_vs_" in key or "_gap_vs_" in key
                f = "+.4f" if signed else ".4f"
                lines.append(f"  * {key}: {v['estimate']:{f}} (95% CI {v['ci_low']:{f}} .. "
                             f"{v['ci_high']:{f}})")
            lines.append(f"  * verdict: {held['verdict']}")
        lines.append(f"* top drivers (mean |SHAP|, held-out rows): {r['top_drivers']}")
        lines.append(f"* registered: {r['registered']}; {r['promotion']}")
        if r.get("tree_size"):
            lines.append(f"* final model tree size: {r['tree_size']}")
        if r.get("adapter_report"):
            lines.append(f"* adapter: {r['adapter_report']}")
        for name, b in r.get("paired_bootstrap", {}).items():
            lines.append(f"* lifetimes cross-check, paired bootstrap ({BOOTSTRAP} resamples "
                         "of the test rows), "
                         f"ROC-AUC lightgbm - {name}: {b['diff']:+.4f} (95% interval "
                         f"{b['ci_low']:+.4f} to {b['ci_high']:+.4f}; lightgbm higher in "
                         f"{b['share_ours_higher']:.0%} of resamples)")
        if r.get("bgnbd_penalizer"):
            pen = r["bgnbd_penalizer"]
            lines.append(f"* BG/NBD penalizer picked on the validation cutoff: {pen['chosen']} "
                         f"(validation ROC-AUC of P(no purchase) per penalizer: "
                         f"{pen['validation_roc_auc']})")
        if r.get("bgnbd_fits"):
            lines.append(f"* BG/NBD fit: {r['bgnbd_fits']}")
        if r.get("bgnbd_p_alive_check"):
            c = r["bgnbd_p_alive_check"]
            lines.append(
                f"* why BG/NBD 1 - P(alive) ranks poorly (checked, not a bug): the fitted "
                f"dropout probability a/(a+b) is ~0, so P(alive) is ~1 for everyone (minimum "
                f"{c['p_alive_min']:.10f}, sd {c['p_alive_sd']:.1e}: its ranking is rounding "
                f"noise); and BG/NBD can only drop a customer right after a repeat purchase, "
                f"so the {c['no_repeat_purchase_rows']} test customers with no repeat purchase "
                f"get P(alive) = 1 exactly although {c['no_repeat_purchase_churn_rate']:.0%} of "
                f"them churn (repeat buyers: {c['repeat_buyer_churn_rate']:.0%}). "
                "P(no purchase in 90 days) uses the purchase rate as well and is the fair score")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=registry.DEFAULT_DATA_ROOT)
    parser.add_argument("--only", action="append", help="data set name (repeatable)")
    parser.add_argument("--skip-btyd", action="store_true",
                        help="no BG/NBD (no venv creation)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="run files; default $CXCHURN_HOME/bench-public")
    parser.add_argument("--out", type=Path, default=HERE / "public_results.md")
    args = parser.parse_args(argv)
    work = args.workdir or Path(os.environ.get("CXCHURN_HOME", "output")) / "bench-public"
    names = args.only or registry.available(args.data)
    results = []
    for name in names:
        ds = registry.get(name)
        log(f"{name}: start ({ds.kind})")
        if isinstance(ds, registry.TableDataset):
            results.append(run_table(ds, args.data, work))
        else:
            results.append(run_log(ds, args.data, work, btyd=not args.skip_btyd))
        log(f"{name}: done")
    text = render(results, args.data)
    args.out.write_text(text + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

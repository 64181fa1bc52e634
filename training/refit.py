"""Event-log training with a final refit on every cutoff whose label is known before the test.

Out-of-time selection needs a purge: a train cutoff's label window must end by the validation
cutoff, the validation cutoff's by the test cutoff, or later outcomes leak into earlier folds.
On a short log (a year of transactions, a 90-day label) that leaves the training fold with the
oldest cutoffs only, whose whole-history features (orders so far, tenure) are cut short by the
start of the data, while the test rows have long histories: the model learns on customers
unlike the ones it scores. Once early stopping has chosen the number of boosting rounds on
the validation cutoff, nothing forbids the final model from learning on every cutoff whose
label window ends by the test cutoff (the train and validation cutoffs and those the purge
skipped). That is the usual "select, then refit on all labelled data" practice; the test fold
is still used for nothing but the final figures.

``run_event_log_training`` is ``training.job.run_training`` with that refit: selection run
(leakage guard, early stopping) on the purged cutoffs, refit, then the same MLflow record,
registration and champion/challenger promotion. The logistic baseline is refitted on the same
rows, so the comparison stays like for like; the early-stopped model's test figures are kept
as ``lightgbm_before_refit`` so the effect of the refit is visible.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

import mlflow
import pandas as pd
from sklearn.base import clone

from cxchurn import paths
from cxchurn.errors import ConfigError
from features.adapters.base import purged_cutoffs
from features.schema import CUSTOMER_ID, CUTOFF, LABEL
from training import registry
from training.baselines import fit_logistic, recency_rule_scores
from training.dataset import Split, load_examples
from training.evaluate import compare_to_baselines, compute_metrics, metrics_by_segment
from training.explain import global_importance, shap_values
from training.job import RunSummary, build_specs, log_and_promote, start_tracking
from training.plots import write_plots
from training.tracking import DEFAULT_EXPERIMENT, log_training_run
from training.train import (
    MAIN_MODEL,
    TrainConfig,
    TrainResult,
    train_churn_model,
    write_run_files,
)

log = logging.getLogger(__name__)

BEFORE_REFIT = f"{MAIN_MODEL}_before_refit"


def refit_cutoffs(cutoffs: Sequence[pd.Timestamp], test_cutoff: pd.Timestamp,
                  horizon_days: int) -> list[pd.Timestamp]:
    """Cutoffs before ``test_cutoff`` whose label window ``[c, c + horizon)`` ends by it."""
    horizon = pd.Timedelta(days=horizon_days)
    test = pd.Timestamp(test_cutoff)
    return sorted(pd.Timestamp(c) for c in set(cutoffs) if pd.Timestamp(c) + horizon <= test)


def selection_examples(examples: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """The rows of the purged out-of-time protocol: test = newest cutoff, validation = the
    newest whose window ends by then, train = those whose window ends by the validation."""
    cutoffs = [pd.Timestamp(c) for c in pd.unique(examples[CUTOFF])]
    chosen = purged_cutoffs(cutoffs, horizon_days)
    if len(chosen) < 3:
        raise ConfigError(
            f"a {horizon_days}-day label needs cutoffs spanning at least {2 * horizon_days} "
            f"days before the newest one (train, validation, test at least {horizon_days} days "
            f"apart); got {len(cutoffs)} cutoff(s) "
            f"{sorted(c.date().isoformat() for c in cutoffs)}; build features over more cutoffs"
        )
    rows = examples[examples[CUTOFF].isin(chosen)].reset_index(drop=True)
    rows.attrs = dict(examples.attrs)
    return rows


def refit_final(examples: pd.DataFrame, selected: TrainResult, config: TrainConfig,
                out_dir: str | Path) -> TrainResult:
    """Refit ``selected``'s model with its early-stopped round count on every labelled cutoff.

    The refit has no held-out rows left, so it is not recalibrated: its probabilities are
    LightGBM's own (base rate of the refit rows). Everything the run reports (metrics, SHAP,
    plots, predictions) is recomputed on the untouched test fold.
    """
    out = Path(out_dir)
    split = selected.split
    test_cutoff = min(split.test_cutoffs)
    cutoffs = refit_cutoffs(pd.unique(examples[CUTOFF]), test_cutoff, config.horizon_days)
    rows = examples[examples[CUTOFF].isin(cutoffs)].reset_index(drop=True)
    rows.attrs = dict(examples.attrs)
    features = list(selected.model.feature_names_)
    X, y = rows[features], rows[LABEL].to_numpy(dtype=int)
    X.attrs = dict(examples.attrs)
    rounds = max(int(selected.model.best_iteration_), 1)
    model = clone(selected.model).set_params(n_estimators=rounds, calibration=None).fit(X, y)
    log.info("refit: %d rounds on %d rows at %d cutoffs", rounds, len(rows), len(cutoffs))

    X_test, y_test = split.test[features], split.test[LABEL].to_numpy(dtype=int)
    p_test = model.predict_churn(X_test)
    logistic = fit_logistic(X, y)
    p_logistic = logistic.predict_proba(X_test)[:, 1]
    recency = recency_rule_scores(X_test)
    share = config.budget_share
    metrics = {
        MAIN_MODEL: compute_metrics(y_test, p_test, share),
        BEFORE_REFIT: selected.metrics[MAIN_MODEL],
        "logistic": compute_metrics(y_test, p_logistic, share),
        "recency_rule": compute_metrics(y_test, recency, share),
    }
    comparison = compare_to_baselines(metrics, MAIN_MODEL)
    segments = [c for c in config.segment_columns if c in split.test.columns]
    segment_metrics = pd.concat(
        [metrics_by_segment(split.test, y_test, p_test, c, share) for c in segments],
        ignore_index=True) if segments else pd.DataFrame()
    values, expected = shap_values(model, X_test)
    plots: dict[str, Path] = {}
    if config.write_plots:
        plots = write_plots(y_test, p_test, values, model._prepare(X_test), out / "plots",
                            baselines={"logistic": p_logistic, "recency_rule": recency})
    test_frame = split.test[[CUSTOMER_ID, CUTOFF, LABEL]].copy()
    test_frame["p_churn"] = p_test
    test_frame["raw_score"] = model.raw_score(X_test)
    test_frame["p_logistic"] = p_logistic
    test_frame["recency_days"] = recency
    # The run record says which cutoffs the final model learned from (evaluate warns on them).
    refit_split = Split(train=rows, valid=split.valid, test=split.test, train_cutoffs=cutoffs,
                        valid_cutoffs=list(split.valid_cutoffs),
                        test_cutoffs=list(split.test_cutoffs))
    result = TrainResult(
        model=model, split=refit_split, metrics=metrics, segment_metrics=segment_metrics,
        leakage=selected.leakage, shap_values=values, expected_value=expected,
        global_importance=global_importance(values, model.feature_names_), plots=plots,
        test_frame=test_frame, beats_baselines=all(comparison.values()),
        baseline_comparison=comparison, tuning=selected.tuning,
    )
    write_run_files(result, config, out)
    return result


def train_event_log(examples: pd.DataFrame, specs: object, config: TrainConfig,
                    out_dir: str | Path, refit: bool = True) -> TrainResult:
    """Select on the purged cutoffs (early stopping, leakage guard), then maybe refit."""
    selection = selection_examples(examples, config.horizon_days)
    config_sel = dataclasses.replace(config, write_plots=config.write_plots and not refit)
    selected = train_churn_model(selection, specs, config_sel, out_dir)
    if not refit:
        return selected
    return refit_final(examples, selected, config, out_dir)


def run_event_log_training(
    features_dir: str | Path,
    config: TrainConfig,
    out_dir: str | Path | None = None,
    *,
    model_name: str = registry.DEFAULT_MODEL_NAME,
    refit: bool = True,
    experiment: str = DEFAULT_EXPERIMENT,
    register: bool = True,
    force_promote: bool = False,
) -> RunSummary:
    """``run_training`` for an event log built at every monthly (or other) cutoff."""
    features_dir = Path(features_dir)
    out = Path(out_dir) if out_dir is not None else paths.reports_dir() / "train"
    experiment_id = start_tracking(experiment, register)
    examples = load_examples(features_dir)
    result = train_event_log(examples, build_specs(features_dir), config, out, refit=refit)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags({"run_type": "train", "cxchurn.model_name": model_name,
                         "cxchurn.mode": "event_log", "refit": str(refit),
                         "refit.rounds": str(result.model.n_estimators if refit else "")})
        fp = log_training_run(result, config=config, examples=examples,
                              features_dir=features_dir)
        info, version, decision = log_and_promote(result, model_name, register,
                                                  force=force_promote)
    return RunSummary(
        run_id=run.info.run_id, experiment_id=experiment_id,
        tracking_uri=mlflow.get_tracking_uri(), model_uri=info.model_uri,
        model_name=model_name, model_version=version, decision=decision,
        metrics=result.metrics, headline=result.headline(), plots=dict(result.plots),
        out_dir=out, fingerprint=fp, summary_text=result.summary(),
    )


__all__ = ["BEFORE_REFIT", "refit_cutoffs", "refit_final", "run_event_log_training",
           "selection_examples", "train_event_log"]

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

import pandas as pd
from sklearn.base import clone

from cxchurn import paths
from cxchurn.errors import ConfigError
from features.adapters.base import purged_cutoffs
from features.schema import CUTOFF, LABEL
from training import registry
from training.baselines import event_log_baselines
from training.build_events import baseline_events, build_events
from training.dataset import Split, load_examples
from training.evaluate import MAIN_MODEL
from training.job import (
    RunSummary,
    build_specs,
    horizon_step,
    record_training_run,
    start_tracking,
)
from training.report import baseline_scores, evaluate_on_test
from training.tracking import DEFAULT_EXPERIMENT
from training.train import TrainConfig, TrainResult, train_churn_model, write_run_files

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
                out_dir: str | Path, events: pd.DataFrame | None = None) -> TrainResult:
    """Refit ``selected``'s model with its early-stopped round count on every labelled cutoff.

    The refit has no held-out rows left, so it is not recalibrated: its probabilities are
    LightGBM's own (base rate of the refit rows). Everything the run reports (metrics, SHAP,
    plots, predictions) is recomputed on the untouched test fold, against the same baselines
    as a run without refit (BG/NBD among them when ``events`` are given).
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

    baselines = baseline_scores(X, y, split.test[features], rfm=True)
    baselines.update(event_log_baselines(split.test, events, config.horizon_days))
    report = evaluate_on_test(
        model, split.test, baselines=baselines,
        reference={BEFORE_REFIT: selected.metrics[MAIN_MODEL]}, uncalibrated=False,
        segment_columns=config.segment_columns, budget_share=config.budget_share,
        plots_dir=out / "plots" if config.write_plots else None,
        leakage=selected.leakage, n_bootstrap=config.bootstrap_resamples,
        bootstrap_seed=config.seed,
    )
    # The run record says which cutoffs the final model learned from (evaluate warns on them).
    refit_split = Split(train=rows, valid=split.valid, test=split.test, train_cutoffs=cutoffs,
                        valid_cutoffs=list(split.valid_cutoffs),
                        test_cutoffs=list(split.test_cutoffs))
    result = TrainResult(report=report, split=refit_split,
                         leakage=report.leakage or selected.leakage,
                         tuning=selected.tuning, notes=list(selected.notes))
    write_run_files(result, config, out)
    return result


def train_event_log(examples: pd.DataFrame, specs: object, config: TrainConfig,
                    out_dir: str | Path, refit: bool = True,
                    events: pd.DataFrame | None = None) -> TrainResult:
    """Select on the purged cutoffs (early stopping, leakage guard), then maybe refit.

    ``events`` (the orders the features were built from) add the BG/NBD baseline to the run
    that is reported: the refit, or the selection run without one.
    """
    selection = selection_examples(examples, config.horizon_days)
    # The selection run's test figures are kept only as 'before refit' metrics, so neither its
    # plots nor its bootstrap intervals are worth computing when a refit follows.
    config_sel = dataclasses.replace(config, write_plots=config.write_plots and not refit,
                                     bootstrap_resamples=0 if refit else config.bootstrap_resamples)
    selected = train_churn_model(selection, specs, config_sel, out_dir,
                                 events=None if refit else events)
    if not refit:
        return selected
    return refit_final(examples, selected, config, out_dir, events)


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
    events_path: str | Path | None = None,
) -> RunSummary:
    """``run_training`` for an event log built at every monthly (or other) cutoff; the BG/NBD
    baseline reads the build's recorded events (``events_path`` overrides)."""
    features_dir = Path(features_dir)
    out = Path(out_dir) if out_dir is not None else paths.reports_dir() / "train"
    experiment_id = start_tracking(experiment, register)
    examples = load_examples(features_dir)
    every = build_events(features_dir, None, events_path)
    events = baseline_events(features_dir, None, events_path, read=every)
    result = train_event_log(examples, build_specs(features_dir), config, out, refit=refit,
                             events=events.orders)
    if events.note:
        result.notes.append(events.note)
    horizon = horizon_step(result, config, features_dir, every, None, out,
                           dict(examples.attrs))
    tags = {"run_type": "train", "cxchurn.model_name": model_name, "cxchurn.mode": "event_log",
            "refit": str(refit), "refit.rounds": str(result.model.n_estimators if refit else "")}
    return record_training_run(
        result, config, examples, features_dir=features_dir, experiment_id=experiment_id,
        tags=tags, out_dir=out, model_name=model_name, register=register,
        force_promote=force_promote, horizon=horizon,
    )


__all__ = ["BEFORE_REFIT", "refit_cutoffs", "refit_final", "run_event_log_training",
           "selection_examples", "train_event_log"]

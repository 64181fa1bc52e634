"""The horizon step of a training run: labels, split, fit, evaluate, write, log.

``train_horizons`` reads the feature build (every eligible row, ``features.parquet``), labels
each row at every horizon from the events (``training.horizons.horizon_labels``), and splits
in time with the 30-day model's ``split_out_of_time`` purged by the *longest* horizon, over the
cutoffs whose longest window is complete: the newest such cutoff is the test fold, so every
horizon is judged on the same customers with nothing censored. It fits the hazard model on the
30-day model's own features, evaluates it (``training.horizon_eval``) against the simulator's
truth when a world is given, and writes ``horizons.json``. ``run_training`` calls it and
attaches the model to the 30-day one before logging, so the champion carries it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError, DataContractError
from features import pit
from features.labels import LabelConfig
from features.schema import CUSTOMER_ID, CUTOFF, LABEL
from training.baselines import fit_logistic
from training.dataset import Split, load_feature_spec, split_out_of_time
from training.horizon_eval import MODEL, TRUTH, HorizonEvaluation, evaluate_horizons
from training.horizons import HorizonModel, fit_hazard, horizon_labels, label_column

log = logging.getLogger(__name__)

FEATURES_FILE = "features.parquet"
RESULT_FILE = "horizons.json"


@dataclass
class HorizonResult:
    """The fitted horizon model, the split it was judged on and the evaluation."""

    model: HorizonModel
    split: Split
    evaluation: HorizonEvaluation
    notes: list[str]
    seconds: float = 0.0  # labelling, fitting and evaluating (what the step adds to a run)

    def lines(self) -> list[str]:
        test = ", ".join(c.date().isoformat() for c in self.split.test_cutoffs)
        head = (f"churn over {', '.join(f'{h}d' for h in self.model.horizons)} (discrete-time "
                f"hazard LightGBM, best iteration {self.model.hazard.best_iteration_}; "
                f"{self.seconds:.0f} s), test cutoff {test}:")
        return [head, *self.evaluation.lines(), *self.notes]

    def to_dict(self) -> dict[str, Any]:
        return {"horizons": list(self.model.horizons), "split": self.split.describe(),
                "evaluation": self.evaluation.to_dict(), "notes": self.notes}


def label_config_of(features_dir: Path) -> LabelConfig:
    """The build's label definition (kind and data end) from its ``feature_spec.json``."""
    spec = load_feature_spec(features_dir)
    label = (spec or {}).get("label") if isinstance(spec, dict) else None
    if not label or not label.get("data_end"):
        raise DataContractError(
            f"{features_dir}/feature_spec.json records no label definition with a data end, so "
            "the horizon labels cannot tell a complete window from a censored one; rebuild the "
            "features with `cxchurn features build` (it records both)")
    return LabelConfig(kind=str(label.get("kind", "contractual")),
                       data_end=pd.Timestamp(label["data_end"]))


def labelled_rows(features_dir: Path, events: pit.Source, horizons: Sequence[int]
                  ) -> pd.DataFrame:
    """Every eligible row of the build with ``churned_<h>d`` per horizon (NA: censored)."""
    path = features_dir / FEATURES_FILE
    if not path.exists():
        raise DataContractError(f"expected the feature table {path}; run `cxchurn features "
                                "build` first or pass the right --features folder")
    frame = pd.read_parquet(path)
    frame[CUTOFF] = pd.to_datetime(frame[CUTOFF], utc=True).astype("datetime64[us, UTC]")
    labels = horizon_labels(events, frame, horizons, label_config_of(features_dir))
    return frame.merge(labels, on=[CUSTOMER_ID, CUTOFF], how="left", validate="one_to_one")


def horizon_split(rows: pd.DataFrame, horizons: Sequence[int], n_valid_cutoffs: int
                  ) -> Split:
    """Out-of-time folds over the cutoffs whose longest window is complete, purged by it."""
    longest = label_column(horizons[-1])
    complete = rows.groupby(CUTOFF)[longest].apply(lambda s: bool(s.notna().all()))
    usable = [c for c, ok in complete.items() if ok]
    if not usable:
        raise ConfigError(
            f"no cutoff has a complete {horizons[-1]}-day window before the end of the data; "
            "build features over earlier cutoffs or use shorter horizons (--horizons)")
    frame = rows[rows[CUTOFF].isin(usable)].copy()
    frame[LABEL] = frame[longest].astype(int)
    frame.attrs = dict(rows.attrs)
    return split_out_of_time(frame, n_valid_cutoffs, 1, horizons[-1])


def _truth(test: pd.DataFrame, truth: pd.DataFrame | None, horizons: Sequence[int]
           ) -> tuple[np.ndarray | None, str | None]:
    """(rows, horizons) true probabilities, or None with the reason they are missing."""
    if truth is None:
        return None, None
    columns = [f"p_churn_{h}d" for h in horizons]
    lacking = [c for c in columns if c not in truth.columns]
    if lacking:
        return None, (f"truth: the world records no {lacking} (re-simulate it with this "
                      "version to compare every horizon with the truth)")
    t = truth[[CUSTOMER_ID, CUTOFF, *columns]].copy()
    t[CUTOFF] = pd.to_datetime(t[CUTOFF], utc=True).astype(test[CUTOFF].dtype)
    t[CUSTOMER_ID] = t[CUSTOMER_ID].astype(str)
    keys = test[[CUSTOMER_ID, CUTOFF]].astype({CUSTOMER_ID: str})
    merged = keys.merge(t, on=[CUSTOMER_ID, CUTOFF], how="left", validate="many_to_one")
    if merged[columns].isna().any().any():
        cut = ", ".join(sorted({str(c.date()) for c in test[CUTOFF]}))
        return None, (f"truth: the world records no truth at the test cutoff {cut} for every "
                      "customer (it records it at its truth cutoffs only)")
    return merged[columns].to_numpy(dtype=float), None


def train_horizons(features_dir: Path, events: pit.Source, horizons: Sequence[int],
                   features: Sequence[str], params: dict[str, Any], *,
                   truth: pd.DataFrame | None = None, n_valid_cutoffs: int = 1,
                   n_resamples: int = 1000, seed: int = 0, out_dir: Path | None = None,
                   attrs: dict[str, Any] | None = None) -> HorizonResult:
    """Label, split, fit and evaluate the horizon model (see the module docstring).

    ``attrs`` are the examples' attributes (spec version, category folding rule), recorded on
    the hazard model as on the 30-day one.
    """
    started = time.perf_counter()
    horizons = tuple(horizons)
    rows = labelled_rows(Path(features_dir), events, horizons)
    rows.attrs = dict(attrs or {})
    split = horizon_split(rows, horizons, n_valid_cutoffs)
    features = [f for f in features if f in rows.columns]
    model = fit_hazard(split.train, split.valid, features, horizons, params)
    test = split.test
    labels = np.column_stack([test[label_column(h)].astype(int) for h in horizons])
    p = model.predict(test)
    scores: dict[str, np.ndarray] = {MODEL: p}
    notes = list(split.notes())
    true_p, why = _truth(test, truth, horizons)
    if true_p is not None:
        scores[TRUTH] = true_p
    elif why:
        notes.append(why)
    scores["score_30d"] = np.repeat(p[:, :1], len(horizons), axis=1)
    X_train = split.train[features]
    scores["logistic"] = np.column_stack([
        fit_logistic(X_train, split.train[label_column(h)].astype(int)).predict_proba(
            test[features])[:, 1] for h in horizons])
    evaluation = evaluate_horizons(labels, scores, horizons, n_resamples=n_resamples,
                                   seed=seed)
    result = HorizonResult(model=model, split=split, evaluation=evaluation, notes=notes,
                           seconds=time.perf_counter() - started)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / RESULT_FILE).write_text(
            json.dumps(result.to_dict(), indent=2, default=str), encoding="utf-8")
    for line in result.lines():
        log.info(line)
    return result


__all__ = ["HorizonResult", "horizon_split", "label_config_of", "labelled_rows",
           "train_horizons"]

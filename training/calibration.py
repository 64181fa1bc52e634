"""Probability calibration that earns its place: chosen by cross-fitted log loss, never a plateau.

Candidates are ``none`` (LightGBM's own probability, the sigmoid of the raw log-odds),
``sigmoid`` (Platt: a logistic regression on the raw score) and ``isotonic``. They are judged
on the validation fold only, by cross-fitting: the fold is cut into stratified, seeded parts;
each candidate is fitted on all parts but one and scores the part it did not see, so every
validation row gets a probability from a calibrator that never saw its label. The candidate
with the lowest out-of-fold log loss wins, but ``none`` is kept unless the winner beats it by
more than ``margin`` (a share of none's log loss): a calibrator that does not clearly help only
adds variance. The chosen candidate is then refitted on the whole validation fold. The test
fold is never passed in here.

Both calibrators are strictly increasing in the raw score, so the ranking is the model's own:
rows with distinct raw scores never tie, calibrated AUC equals raw AUC, and the order of the
at-risk list inside what used to be an isotonic step is the model's order, not an accident.
Platt is strictly increasing when its slope is positive (a fit with slope <= 0 is refused).
Isotonic regression alone is a step function; ``InterpolatedIsotonic`` keeps its blocks (the
pool-adjacent-violators fit) but draws straight lines between the blocks' centres (their mean
raw score) at the blocks' churn rates, which strictly increase from block to block. Beyond the
first and last centre the odds follow the raw score's own logistic shape, so the tails stay
strictly increasing too, and an end block without churners (or without stayers) is moved off
0 (1) by half a churner (stayer) so that no probability is exactly 0 or 1.
Strictness holds in exact arithmetic; in floating point two raw scores closer than about
1e-12 may still round to one probability (LightGBM's distinct scores are far apart).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.special import expit
from sklearn.isotonic import isotonic_regression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import StratifiedKFold

from cxchurn.errors import ConfigError
from training.evaluate import expected_calibration_error

NONE = "none"
METHODS = (NONE, "sigmoid", "isotonic")  # simplest first: ties go to the simpler method
DEFAULT_FOLDS = 5
# A calibrator must lower the cross-fitted log loss by more than this share of the
# uncalibrated log loss to be kept (0.1%: about 0.00016 on the demo world's 0.159).
DEFAULT_MARGIN = 0.001


def sigmoid(raw: np.ndarray) -> np.ndarray:
    return np.asarray(expit(raw), dtype=float)


@dataclass(frozen=True)
class PlattCalibrator:
    """P(churn) = sigmoid(slope * raw + intercept), slope > 0."""

    slope: float
    intercept: float

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return sigmoid(self.slope * np.asarray(raw, dtype=float) + self.intercept)


@dataclass(frozen=True, eq=False)
class InterpolatedIsotonic:
    """Isotonic blocks joined by straight lines through (block centre, block churn rate).

    ``centres`` and ``rates`` are strictly increasing, rates inside (0, 1).
    """

    centres: np.ndarray
    rates: np.ndarray

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        x = np.asarray(raw, dtype=float)
        lo_x, hi_x = self.centres[0], self.centres[-1]
        lo_p, hi_p = self.rates[0], self.rates[-1]
        out = np.interp(x, self.centres, self.rates)
        below, above = x < lo_x, x > hi_x
        # tails: the odds move like the model's own, continuous at the end centres
        out[below] = lo_p * sigmoid(x[below]) / sigmoid(lo_x)
        out[above] = 1.0 - (1.0 - hi_p) * sigmoid(-x[above]) / sigmoid(-hi_x)
        return out


Calibrator = Callable[[np.ndarray], np.ndarray]


def fit_platt(raw: np.ndarray, y: np.ndarray) -> PlattCalibrator | None:
    """Platt scaling on the raw log-odds; None when the fitted slope is not positive.

    With Platt's own targets, (churners + 1) / (churners + 2) for a churner and
    1 / (stayers + 2) for a stayer instead of 1 and 0, so that a fold the raw score happens to
    separate perfectly gets a finite slope rather than a step.
    """
    raw = np.asarray(raw, dtype=float)
    y = np.asarray(y, dtype=int)
    n_pos = int(y.sum())
    target = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (len(y) - n_pos + 2))
    platt = LogisticRegression(C=1e6)
    platt.fit(np.r_[raw, raw].reshape(-1, 1), np.r_[np.ones(len(y)), np.zeros(len(y))],
              sample_weight=np.r_[target, 1 - target])
    slope = float(platt.coef_[0, 0])
    if not slope > 0:
        return None
    return PlattCalibrator(slope=slope, intercept=float(platt.intercept_[0]))


def fit_interpolated_isotonic(raw: np.ndarray, y: np.ndarray) -> InterpolatedIsotonic:
    """Pool-adjacent-violators on the raw score, then lines between the blocks' centres."""
    raw = np.asarray(raw, dtype=float)
    y = np.asarray(y, dtype=float)
    xs, inverse, counts = np.unique(raw, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=y, minlength=len(xs))
    fitted = isotonic_regression(sums / counts, sample_weight=counts.astype(float))
    starts = np.flatnonzero(np.r_[True, np.diff(fitted) > 0])  # one start per block
    n = np.add.reduceat(counts, starts).astype(float)
    centres = np.add.reduceat(xs * counts, starts) / n
    rates = np.asarray(fitted[starts], dtype=float)
    rates = np.maximum.accumulate(rates)  # guard against round-off; PAV output is sorted
    # end blocks of one class: half a case off 0 or 1, staying inside the neighbouring rate
    if rates[0] <= 0.0:
        rates[0] = min(0.5 / n[0], rates[1] / 2 if len(rates) > 1 else 0.5)
    if rates[-1] >= 1.0:
        gap = (1.0 - rates[-2]) / 2 if len(rates) > 1 else 0.5
        rates[-1] = 1.0 - min(0.5 / n[-1], gap)
    return InterpolatedIsotonic(centres=centres, rates=rates)


def fit_calibrator(method: str, raw: np.ndarray, y: np.ndarray) -> Calibrator | None:
    """The fitted calibrator of ``method`` (one of ``METHODS``); None means no calibration
    (``none``, or a Platt fit refused for a slope <= 0)."""
    if method == NONE:
        return None
    if method == "sigmoid":
        return fit_platt(raw, y)
    if method == "isotonic":
        return fit_interpolated_isotonic(raw, y)
    raise ConfigError(f"calibration method must be one of {METHODS}, got {method!r}")


def apply_calibrator(calibrator: Calibrator | None, raw: np.ndarray) -> np.ndarray:
    raw = np.asarray(raw, dtype=float)
    return sigmoid(raw) if calibrator is None else np.asarray(calibrator(raw), dtype=float)


@dataclass(frozen=True)
class CalibrationReport:
    """What each candidate scored out of fold on the validation fold, and the choice made.

    ``candidates`` maps method -> {'log_loss', 'brier', 'ece'} of its cross-fitted
    probabilities; ``requested`` is the model's ``calibration`` parameter ('auto' or a method).
    """

    requested: str
    chosen: str
    n_folds: int
    margin: float
    candidates: dict[str, dict[str, float]] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def params(self) -> dict[str, str]:
        """Run parameters: the chosen method (MLflow ``calibration_chosen``)."""
        return {"calibration_chosen": self.chosen}

    def metrics(self) -> dict[str, float]:
        """Run metrics ``calibration_<metric>_<method>`` (log loss named ``logloss``)."""
        out: dict[str, float] = {}
        for method, values in self.candidates.items():
            for metric, value in values.items():
                if np.isfinite(value):
                    out[f"calibration_{metric.replace('log_loss', 'logloss')}_{method}"] = value
        return out

    def summary(self) -> str:
        """One line: the choice and the cross-fitted log loss before and after."""
        before = self.candidates.get(NONE, {}).get("log_loss", float("nan"))
        after = self.candidates.get(self.chosen, {}).get("log_loss", float("nan"))
        line = (f"calibration: {self.chosen} ({self.requested}; cross-fitted validation log "
                f"loss {before:.4f} uncalibrated -> {after:.4f})")
        return f"{line} {self.reason}" if self.reason else line


def cross_fit(raw: np.ndarray, y: np.ndarray, methods: Sequence[str] = METHODS,
              n_folds: int = DEFAULT_FOLDS, seed: int = 0) -> tuple[dict[str, np.ndarray], int]:
    """Out-of-fold probabilities of each method on (``raw``, ``y``) and the folds used.

    Stratified, shuffled with ``seed``; fewer folds when a class has fewer rows than
    ``n_folds`` (0 folds, and no predictions, when a class has fewer than two).
    """
    raw = np.asarray(raw, dtype=float)
    y = np.asarray(y, dtype=int)
    k = int(min(n_folds, np.bincount(y, minlength=2).min()))
    if k < 2:
        return {}, 0
    out = {m: np.empty(len(y)) for m in methods}
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for fit_idx, held_idx in folds.split(raw.reshape(-1, 1), y):
        for m in methods:
            calibrator = fit_calibrator(m, raw[fit_idx], y[fit_idx])
            out[m][held_idx] = apply_calibrator(calibrator, raw[held_idx])
    return out, k


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return {"log_loss": float(log_loss(y, p, labels=[0, 1])),
            "brier": float(brier_score_loss(y, p)),
            "ece": float(expected_calibration_error(y, p))}


def choose_calibration(raw_valid: np.ndarray, y_valid: np.ndarray, requested: str = "auto",
                       n_folds: int = DEFAULT_FOLDS, seed: int = 0,
                       margin: float = DEFAULT_MARGIN) -> CalibrationReport:
    """Cross-fit every method on the validation fold; pick one (``requested='auto'``) or
    record how the requested one did.

    'auto' takes the lowest out-of-fold log loss, unless it beats ``none`` by no more than
    ``margin`` times none's log loss; then ``none``. So the chosen method's cross-fitted log
    loss is never above the uncalibrated one.
    """
    if requested != "auto" and requested not in METHODS:
        raise ConfigError(f"calibration must be 'auto' or one of {METHODS}, got {requested!r}")
    y = np.asarray(y_valid, dtype=int)
    oof, k = cross_fit(raw_valid, y, METHODS, n_folds, seed)
    if not oof:
        chosen = NONE if requested == "auto" else requested
        return CalibrationReport(requested, chosen, 0, margin, reason=(
            "(too few churners or stayers in the validation fold to cross-fit)"))
    candidates = {m: _scores(y, p) for m, p in oof.items()}
    if requested != "auto":
        return CalibrationReport(requested, requested, k, margin, candidates)
    losses = {m: candidates[m]["log_loss"] for m in METHODS}
    best = min(METHODS, key=lambda m: losses[m])  # min keeps the first (simplest) of equals
    if losses[NONE] - losses[best] <= margin * losses[NONE]:
        best = NONE
    return CalibrationReport(requested, best, k, margin, candidates)

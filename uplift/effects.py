"""Learn the catalogue's action effects from the outcomes of a randomised pilot (uplift).

Why: the catalogue's ``effect`` and ``general_effect`` are what the retention team believes;
the policy is only as good as they are. Once some customers have been treated *at random*
(a pilot, or a random holdout inside a campaign), their churn afterwards says how much each
action really removes. The policy's model of an action (``serving.retention.policy``) is

    logit P(churn) drops by  effect x answered mass + general x other mass

so the learner fits exactly those two numbers per action, by maximum likelihood on the
labelled example rows at the cutoffs where the pilot ran:

    logit P(churn_i) = a + b x logit(p_i) - sum_a T_ia (e_a x answered_ia + g_a x other_ia)

``p_i`` is the churn model's score at the cutoff (its raw log-odds, which the SHAP values and
so the masses decompose) and ``T_ia`` says whether the customer got action ``a`` within
``window_days`` of it; ``a`` and ``b`` recalibrate the score on these rows.
A Gaussian prior centred on the catalogue's values (sd ``prior_sd``) keeps an action with
little data near what the team believed: the estimate is the posterior mode, with standard
errors from the curvature there.

The scores must come from a model that never saw the customer's outcome: ``uplift.crossfit``
provides them (``learn_effects``).

Randomisation matters: actions the team chose for customers it expected to leave are
confounded with risk, so only randomly assigned actions give unbiased effects. The learner
cannot tell the two apart from the data; ``cxchurn retention learn-effects`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logit

from cxchurn.errors import ConfigError, DataContractError
from features.schema import CUSTOMER_ID, CUTOFF
from serving.retention.catalogue import MAX_EFFECT, Catalogue, Evidence
from serving.retention.policy import action_masses
from serving.retention.provenance import ASSUMED_SD

ACTION_TYPE: Final = "action_type"
Z95: Final = 1.959964  # two-sided 95% normal quantile
ACTION_TIME: Final = "action_time"
EFFECT_COLUMNS: Final = (
    "action", "treated", "churned", "expected_untreated", "prior_effect", "effect",
    "effect_se", "prior_general", "general_effect", "general_se", "learned",
)


@dataclass(frozen=True)
class UpliftConfig:
    """How treatments are matched to cutoffs and how strongly the catalogue's priors hold."""

    window_days: float = 7.0  # an action this soon after a cutoff counts as treating that row
    # sd of the prior around the catalogue's effect and general_effect (the page's range of an
    # assumed effect is this prior: serving.retention.provenance)
    prior_sd: float = ASSUMED_SD
    min_treated: int = 30  # fewer treated rows than this: the action keeps its prior
    max_controls: int = 20_000  # untreated rows kept (a random sample) to calibrate a and b
    folds: int = 2  # customer folds of the cross-fitting: each is scored by the others' model
    # rows whose customer got an action this many days before the cutoff are left out: their
    # outcome still carries that earlier treatment (0 keeps every row)
    washout_days: float = 0.0
    seed: int = 0  # seeds the customer folds and the control sample

    def __post_init__(self) -> None:
        if not self.window_days > 0:
            raise ConfigError(f"window_days must be > 0; got {self.window_days!r}.")
        if not self.washout_days >= 0:
            raise ConfigError(f"washout_days must be >= 0; got {self.washout_days!r}.")
        if not self.prior_sd > 0:
            raise ConfigError(f"prior_sd must be > 0; got {self.prior_sd!r}.")
        if self.min_treated < 1 or self.max_controls < 1:
            raise ConfigError("min_treated and max_controls must be whole numbers >= 1; got "
                              f"{self.min_treated!r} and {self.max_controls!r}.")
        if isinstance(self.folds, bool) or not isinstance(self.folds, int) or self.folds < 2:
            raise ConfigError(f"folds must be a whole number >= 2 (each customer fold is "
                              f"scored by a model trained on the others); got {self.folds!r}.")


@dataclass(frozen=True)
class EffectFit:
    """Learned effects: one row per action (``EFFECT_COLUMNS``) and the catalogue they make."""

    table: pd.DataFrame
    catalogue: Catalogue
    rows: int  # labelled rows the fit used (treated + sampled controls)
    calibration: tuple[float, float]  # (a, b)
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)  # uplift.crossfit's report


def treatments(keys: pd.DataFrame, actions: pd.DataFrame, window_days: float = 7.0
               ) -> pd.Series:
    """Per example row (``customer_id``, ``cutoff``), the first action in [cutoff, cutoff+window).

    Rows without one get NA. An action before a cutoff never counts for it (the features at
    the cutoff were computed without knowing it, and its outcome would leak into the label).
    """
    for name, frame, cols in (("examples", keys, (CUSTOMER_ID, CUTOFF)),
                              ("actions", actions, (CUSTOMER_ID, ACTION_TIME, ACTION_TYPE))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataContractError(f"the {name} table lacks column(s) {missing}; it needs "
                                    f"{list(cols)}.")
    joined = _joined(keys, actions)
    window = pd.Timedelta(days=window_days)
    inside = joined[(joined[ACTION_TIME] >= joined[CUTOFF])
                    & (joined[ACTION_TIME] < joined[CUTOFF] + window)]
    first = inside.sort_values([ACTION_TIME, ACTION_TYPE], kind="stable").drop_duplicates("_row")
    out = pd.Series(pd.NA, index=keys.index, dtype="str", name=ACTION_TYPE)
    out.iloc[first["_row"].to_numpy()] = first[ACTION_TYPE].to_numpy()
    return out


def _joined(keys: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Every (example row, action of the same customer) pair: _row, cutoff, time, type."""
    rows = pd.DataFrame({CUSTOMER_ID: keys[CUSTOMER_ID].astype(str).to_numpy(),
                         CUTOFF: pd.to_datetime(keys[CUTOFF], utc=True).to_numpy(),
                         "_row": np.arange(len(keys))})
    acts = pd.DataFrame({CUSTOMER_ID: actions[CUSTOMER_ID].astype(str).to_numpy(),
                         ACTION_TIME: pd.to_datetime(actions[ACTION_TIME], utc=True).to_numpy(),
                         ACTION_TYPE: actions[ACTION_TYPE].astype(str).to_numpy()})
    return rows.merge(acts, on=CUSTOMER_ID, how="inner")


def recently_treated(keys: pd.DataFrame, actions: pd.DataFrame, washout_days: float
                     ) -> np.ndarray:
    """Per example row, whether its customer got any action in [cutoff - washout, cutoff)."""
    flags = np.zeros(len(keys), dtype=bool)
    if washout_days <= 0 or actions.empty:
        return flags
    joined = _joined(keys, actions)
    before = joined[(joined[ACTION_TIME] < joined[CUTOFF])
                    & (joined[ACTION_TIME] >= joined[CUTOFF] - pd.Timedelta(days=washout_days))]
    flags[before["_row"].to_numpy()] = True
    return flags


def _negative_log_posterior(theta: np.ndarray, y: np.ndarray, z0: np.ndarray,
                            answered: np.ndarray, other: np.ndarray, treated: np.ndarray,
                            prior: np.ndarray, prior_sd: float) -> tuple[float, np.ndarray]:
    """Value and gradient; theta = (a, b, e_1, g_1, ..., e_K, g_K)."""
    a, b = theta[0], theta[1]
    eg = theta[2:].reshape(-1, 2)
    k = eg.shape[0]
    rows = np.arange(len(y))
    has = treated >= 0
    col = np.maximum(treated, 0)
    m = np.where(has, answered[rows, col], 0.0)
    o = np.where(has, other[rows, col], 0.0)
    z = a + b * z0 - (eg[col, 0] * m + eg[col, 1] * o) * has
    nll = -float(np.sum(y * log_expit(z) + (1 - y) * log_expit(-z)))
    resid = expit(z) - y  # d nll / dz
    grad = np.empty_like(theta)
    grad[0] = resid.sum()
    grad[1] = (resid * z0).sum()
    ge = np.bincount(col[has], weights=-(resid * m)[has], minlength=k)
    gg = np.bincount(col[has], weights=-(resid * o)[has], minlength=k)
    grad[2::2], grad[3::2] = ge, gg
    diff = theta[2:] - prior
    nll += float(0.5 * np.sum(diff**2) / prior_sd**2)
    grad[2:] += diff / prior_sd**2
    return nll, grad


def fit_effects(p_churn: np.ndarray, mass: pd.DataFrame, treated: Sequence[Any],
                churned: np.ndarray, catalogue: Catalogue,
                config: UpliftConfig | None = None) -> EffectFit:
    """Posterior-mode effects per action from scored, explained, labelled rows (pure).

    ``treated`` names the action each row got (NA / None = untreated); names not in the
    catalogue are an error, because their outcomes would silently count as untreated.
    """
    config = config or UpliftConfig()
    p = np.asarray(p_churn, dtype=float)
    y = np.asarray(churned, dtype=float)
    if not (len(p) == len(mass) == len(treated) == len(y)):
        raise DataContractError(f"scores ({len(p)}), driver mass ({len(mass)}), treatments "
                                f"({len(treated)}) and labels ({len(y)}) must align row by row.")
    if not np.isin(y, (0.0, 1.0)).all():
        raise DataContractError("churned labels must be 0 or 1.")
    names = catalogue.names()
    given = pd.Series(list(treated), dtype="str")
    unknown = sorted(set(given.dropna()) - set(names))
    if unknown:
        raise DataContractError(f"actions {unknown} are not in the catalogue {names}; add them "
                                f"to the catalogue or drop their rows before learning.")
    index = {n: j for j, n in enumerate(names)}
    code = given.map(index).fillna(-1).to_numpy(dtype=int)
    counts = np.bincount(code[code >= 0], minlength=len(names))
    learnable = counts >= config.min_treated
    # Rows treated with an action too rare to learn are left out, not mixed with the
    # untreated (-1), which stay: they are what the score's calibration a, b is fitted on.
    code = np.where((code >= 0) & ~learnable[np.maximum(code, 0)], -2, code)
    keep = code != -2
    code, p, y = code[keep], p[keep], y[keep]
    answered, other = action_masses(mass.reset_index(drop=True).loc[keep], catalogue)
    z0 = logit(np.clip(p, 1e-6, 1 - 1e-6))
    prior = np.array([[a.effect, a.general_effect] for a in catalogue]).reshape(-1)
    theta0 = np.concatenate([[0.0, 1.0], prior])
    bounds = [(-10.0, 10.0), (0.05, 5.0)] + [(0.0, MAX_EFFECT)] * (2 * len(names))
    args = (y, z0, answered, other, code, prior, config.prior_sd)
    res = minimize(_negative_log_posterior, theta0, args=args, jac=True, method="L-BFGS-B",
                   bounds=bounds)
    theta = res.x
    se = _standard_errors(theta, args)
    learned_eg = theta[2:].reshape(-1, 2)
    se_eg = se[2:].reshape(-1, 2)
    cal = expit(theta[0] + theta[1] * z0)
    table = pd.DataFrame({
        "action": names,
        "treated": counts,
        "churned": [int(y[code == j].sum()) for j in range(len(names))],
        "expected_untreated": [float(cal[code == j].sum()) for j in range(len(names))],
        "prior_effect": prior[0::2], "effect": np.where(learnable, learned_eg[:, 0], prior[0::2]),
        "effect_se": np.where(learnable, se_eg[:, 0], np.nan),
        "prior_general": prior[1::2],
        "general_effect": np.where(learnable, learned_eg[:, 1], prior[1::2]),
        "general_se": np.where(learnable, se_eg[:, 1], np.nan),
        "learned": learnable,
    })
    actions = tuple(
        replace(a, effect=float(row.effect), general_effect=float(row.general_effect),
                learned=_evidence(row) if row.learned else a.learned)
        for a, row in zip(catalogue, table.itertuples(), strict=True)
    )
    learned = replace(catalogue, actions=actions, source=f"{catalogue.source} (learned)")
    return EffectFit(table=table[list(EFFECT_COLUMNS)], catalogue=learned, rows=len(y),
                     calibration=(float(theta[0]), float(theta[1])))


def _interval(estimate: float, se: float) -> tuple[float, float]:
    """The 95% interval estimate +- 1.96 se, inside the effects' bounds [0, MAX_EFFECT]; an
    undefined se (a flat posterior) spans the whole range rather than pretending certainty."""
    if not np.isfinite(se):
        return 0.0, MAX_EFFECT
    return (float(np.clip(estimate - Z95 * se, 0.0, MAX_EFFECT)),
            float(np.clip(estimate + Z95 * se, 0.0, MAX_EFFECT)))


def _evidence(row: Any) -> Evidence:
    """What the page shows beside a learned effect: treated count and both 95% intervals."""
    return Evidence(treated=int(row.treated), effect_95=_interval(row.effect, row.effect_se),
                    general_95=_interval(row.general_effect, row.general_se))


def _standard_errors(theta: np.ndarray, args: tuple[Any, ...]) -> np.ndarray:
    """Square roots of the inverse Hessian's diagonal (central differences of the gradient)."""
    n = len(theta)
    hess = np.empty((n, n))
    for i in range(n):
        step = 1e-4 * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        hess[i] = (_negative_log_posterior(up, *args)[1]
                   - _negative_log_posterior(down, *args)[1]) / (2 * step)
    hess = (hess + hess.T) / 2
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(n, np.nan)
    return np.sqrt(np.clip(np.diag(cov), 0.0, None))

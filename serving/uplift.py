"""Learn the catalogue's action effects from the outcomes of a randomised pilot (uplift).

Why: the catalogue's ``effect`` and ``general_effect`` are what the retention team believes;
the policy is only as good as they are. Once some customers have been treated *at random*
(a pilot, or a random holdout inside a campaign), their churn afterwards says how much each
action really removes. The policy's model of an action (``serving.policy``) is

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

The scores must say how likely each customer was to leave *untreated*, from a model that has
never seen the customer's outcome. A model trained on the pilot's own rows has memorised the
treated customers' (lower) churn, so their score already contains the treatment and the
learned effect shrinks towards zero; and treated labels would teach it a risk that is not the
untreated one. So ``learn_effects`` cross-fits: customers (never rows: a customer's rows at
different cutoffs share most of their outcome) are split into ``folds`` by a seeded hash of
their id; each fold is scored and explained by a model trained only on the *other* folds'
*untreated* rows.

Randomisation matters: actions the team chose for customers it expected to leave are
confounded with risk, so only randomly assigned actions give unbiased effects. The learner
cannot tell the two apart from the data; ``cxchurn retention learn-effects`` says so.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logit

from cxchurn.errors import ConfigError, DataContractError
from features.schema import CUSTOMER_ID, CUTOFF, LABEL
from serving.catalogue import MAX_EFFECT, Catalogue
from serving.policy import action_masses, family_mass

if TYPE_CHECKING:
    from training.train import TrainConfig

log = logging.getLogger(__name__)

ACTION_TYPE: Final = "action_type"
ACTION_TIME: Final = "action_time"
EFFECT_COLUMNS: Final = (
    "action", "treated", "churned", "expected_untreated", "prior_effect", "effect",
    "effect_se", "prior_general", "general_effect", "general_se", "learned",
)
FOLD_COLUMNS: Final = ("fold", "customers", "train_rows", "scored_rows", "treated_rows",
                       "seconds")
# Trains a churn model (ChurnModel-like) on labelled example rows; see ``fit_model_for``.
FitModel = Callable[[pd.DataFrame], Any]


@dataclass(frozen=True)
class UpliftConfig:
    """How treatments are matched to cutoffs and how strongly the catalogue's priors hold."""

    window_days: float = 7.0  # an action this soon after a cutoff counts as treating that row
    prior_sd: float = 0.5  # sd of the prior around the catalogue's effect and general_effect
    min_treated: int = 30  # fewer treated rows than this: the action keeps its prior
    max_controls: int = 20_000  # untreated rows kept (a random sample) to calibrate a and b
    folds: int = 2  # customer folds of the cross-fitting: each is scored by the others' model
    seed: int = 0  # seeds the customer folds and the control sample

    def __post_init__(self) -> None:
        if not self.window_days > 0:
            raise ConfigError(f"window_days must be > 0; got {self.window_days!r}.")
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
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)  # cross-fitting, FOLD_COLUMNS


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
    rows = pd.DataFrame({CUSTOMER_ID: keys[CUSTOMER_ID].astype(str).to_numpy(),
                         CUTOFF: pd.to_datetime(keys[CUTOFF], utc=True).to_numpy(),
                         "_row": np.arange(len(keys))})
    acts = pd.DataFrame({CUSTOMER_ID: actions[CUSTOMER_ID].astype(str).to_numpy(),
                         ACTION_TIME: pd.to_datetime(actions[ACTION_TIME], utc=True).to_numpy(),
                         ACTION_TYPE: actions[ACTION_TYPE].astype(str).to_numpy()})
    joined = rows.merge(acts, on=CUSTOMER_ID, how="inner")
    window = pd.Timedelta(days=window_days)
    inside = joined[(joined[ACTION_TIME] >= joined[CUTOFF])
                    & (joined[ACTION_TIME] < joined[CUTOFF] + window)]
    first = inside.sort_values([ACTION_TIME, ACTION_TYPE], kind="stable").drop_duplicates("_row")
    out = pd.Series(pd.NA, index=keys.index, dtype="str", name=ACTION_TYPE)
    out.iloc[first["_row"].to_numpy()] = first[ACTION_TYPE].to_numpy()
    return out


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
        replace(a, effect=float(row.effect), general_effect=float(row.general_effect))
        for a, row in zip(catalogue, table.itertuples(), strict=True)
    )
    learned = replace(catalogue, actions=actions, source=f"{catalogue.source} (learned)")
    return EffectFit(table=table[list(EFFECT_COLUMNS)], catalogue=learned, rows=len(y),
                     calibration=(float(theta[0]), float(theta[1])))


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


def customer_folds(customer_ids: pd.Series | Sequence[str], folds: int, seed: int = 0
                   ) -> np.ndarray:
    """Each row's fold (0 .. folds-1), from a seeded hash of its customer id.

    A hash, not a shuffle: a customer's fold depends only on its id and the seed, so it is the
    same in every run, whatever other customers the table holds, and all of a customer's rows
    land in one fold (its rows at different cutoffs must not train the model that scores it).
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"folds must be a whole number >= 2; got {folds!r}.")
    codes, unique = pd.factorize(pd.Series(customer_ids).astype(str))
    digests = np.array([int.from_bytes(hashlib.blake2b(f"{seed}:{c}".encode(),
                                                       digest_size=8).digest(), "big") % folds
                        for c in unique], dtype=int)
    return digests[codes]


def scoring_rows(cutoffs: pd.Series, treated: np.ndarray, max_controls: int, seed: int = 0
                 ) -> np.ndarray:
    """Positions of the rows to score: every treated row, plus a seeded sample of untreated rows
    at the cutoffs where something was treated (they calibrate the score; more add little)."""
    cutoffs = pd.to_datetime(cutoffs, utc=True)
    treated = np.asarray(treated, dtype=bool)
    pilot_cutoffs = pd.unique(cutoffs[treated])
    controls = np.flatnonzero(~treated & cutoffs.isin(pilot_cutoffs).to_numpy())
    if len(controls) > max_controls:
        rng = np.random.default_rng(seed)
        controls = np.sort(rng.choice(controls, max_controls, replace=False))
    return np.sort(np.concatenate([np.flatnonzero(treated), controls]))


def score_and_explain(model: Any, rows: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Uncalibrated churn scores of ``rows`` and their risk mass per driver family (TreeSHAP).

    The score is the model's raw log-odds (the SHAP values' sum plus the base value), not
    ``predict_churn``: the mass is a part of exactly that sum, and the calibrator is a step
    function fitted on one validation month. On a cross-fitting fold's smaller model it put
    about 40% of the pilot's rows at p = 0 (measured, 2,500-customer pilot world), which
    flattened the recalibration slope b to 0.13; on the raw log-odds b is about 0.9.
    ``fit_effects`` recalibrates the raw score on the pilot's rows anyway (a, b).
    """
    from training.explain import shap_values
    from training.pyfunc import model_frame

    values, base = shap_values(model, model_frame(model, rows))
    mass = family_mass(values, list(model.feature_names_))
    return expit(values.sum(axis=1) + base), mass


def cross_fit(examples: pd.DataFrame, treated: np.ndarray, fold: np.ndarray, folds: int,
              chosen: np.ndarray, fit_model: FitModel,
              say: Callable[[str], None]) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Scores and driver mass of the ``chosen`` rows (positions), each from the model of the
    other folds' untreated rows; plus one line per fold trained (``FOLD_COLUMNS``)."""
    p = np.full(len(chosen), np.nan)
    masses: list[pd.DataFrame] = []
    report = []
    for k in range(folds):
        start = time.perf_counter()
        mine = fold[chosen] == k
        if not mine.any():
            log.info("fold %d/%d: no rows to score, skipped", k + 1, folds)
            continue
        train = examples[(fold != k) & ~treated]
        if train.empty:
            raise DataContractError(
                f"customer fold {k + 1} of {folds} has no untreated rows of other customers "
                f"to train on; learn from more customers or use fewer folds.")
        line = (f"fold {k + 1}/{folds}: training on {len(train):,} untreated rows of "
                f"{train[CUSTOMER_ID].nunique():,} other customers")
        log.info(line)
        say(line)
        here = chosen[mine]
        p[mine], mass = score_and_explain(fit_model(train), examples.iloc[here])
        masses.append(mass.set_axis(np.flatnonzero(mine)))
        seconds = time.perf_counter() - start
        n_treated = int(treated[here].sum())
        report.append((k + 1, int(examples[CUSTOMER_ID][fold == k].nunique()), len(train),
                       len(here), n_treated, round(seconds, 1)))
        line = (f"fold {k + 1}/{folds}: scored {len(here):,} rows ({n_treated:,} treated) "
                f"in {seconds:.0f} s")
        log.info(line)
        say(line)
    mass_all = pd.concat(masses).sort_index()
    return p, mass_all, pd.DataFrame(report, columns=list(FOLD_COLUMNS))


def learn_effects(examples: pd.DataFrame, actions: pd.DataFrame, catalogue: Catalogue,
                  fit_model: FitModel, config: UpliftConfig | None = None, *,
                  progress: Callable[[str], None] | None = None) -> EffectFit:
    """Cross-fitted scores and driver mass at the pilot's cutoffs, then ``fit_effects``.

    ``examples``: the labelled example rows of a feature build, all cutoffs (``fit_model``
    splits by cutoff itself, so it needs every cutoff of the training customers). For each
    customer fold, ``fit_model`` gets the other folds' untreated rows and the model it returns
    scores and explains this fold's rows to learn from: every treated row and a share of the
    ``max_controls`` untreated rows sampled at the pilot's cutoffs. ``progress`` receives one
    line per fold started and finished (the command prints them; training takes a while).
    """
    config = config or UpliftConfig()
    if LABEL not in examples.columns:
        raise DataContractError(f"examples need the label column {LABEL!r}; pass the labelled "
                                f"examples table of a feature build.")
    given = treatments(examples, actions, config.window_days)
    treated = given.notna().to_numpy()
    if not treated.any():
        raise DataContractError(
            f"no action in the actions table falls within {config.window_days:g} days after "
            f"a labelled cutoff; learning effects needs treated rows at the training cutoffs "
            f"(e.g. a randomised pilot: `cxchurn simulate --pilot-share 0.1`).")
    fold = customer_folds(examples[CUSTOMER_ID], config.folds, config.seed)
    chosen = scoring_rows(examples[CUTOFF], treated, config.max_controls, config.seed)
    log.info("cross-fitting over %d customer folds: %d treated rows, %d rows to score",
             config.folds, int(treated.sum()), len(chosen))
    p, mass, folds = cross_fit(examples, treated, fold, config.folds, chosen, fit_model,
                               progress or (lambda _line: None))
    fit = fit_effects(p, mass.reset_index(drop=True), given.iloc[chosen].tolist(),
                      examples[LABEL].to_numpy(dtype=float)[chosen], catalogue, config)
    return replace(fit, folds=folds)


def specs_of(features_dir: str | Path) -> Any:
    """The feature specs a build was made with (monotone hints), or None if it recorded none.

    The same specs ``cxchurn train`` gives the champion, so the cross-fit models are trained
    like it.
    """
    spec_file = Path(features_dir) / "feature_spec.json"
    if not spec_file.is_file():
        return None
    from features.spec import load_specs

    return load_specs(spec_file)


def fit_model_for(specs: Any, work_dir: str | Path,
                  train_config: TrainConfig | None = None) -> FitModel:
    """A ``fit_model`` for ``learn_effects``: the project's churn model, trained as usual.

    ``specs``: FeatureSpec objects (e.g. ``features.spec.DEFAULT_SPECS``), a feature build
    folder (its recorded specs) or None. Each call trains ``training.train.train_churn_model``
    (its own out-of-time split, early stopping and calibration) into ``work_dir/fold<k>``,
    k counting the calls, and returns the model.
    """
    from training.train import TrainConfig, train_churn_model

    if isinstance(specs, str | Path):
        specs = specs_of(specs)
    config = train_config or TrainConfig(write_plots=False)
    calls = itertools.count(1)

    def fit_model(examples: pd.DataFrame) -> Any:
        return train_churn_model(examples, specs, config,
                                 Path(work_dir) / f"fold{next(calls)}").model

    return fit_model

"""Cross-fitted scores for learning action effects: no model scores a customer it learned from.

The scores must say how likely each customer was to leave *untreated*, from a model that has
never seen the customer's outcome. A model trained on the pilot's own rows has memorised the
treated customers' (lower) churn, so their score already contains the treatment and the
learned effect shrinks towards zero; and treated labels would teach it a risk that is not the
untreated one. So ``learn_effects`` cross-fits: customers (never rows: a customer's rows at
different cutoffs share most of their outcome) are split into ``folds`` by a seeded hash of
their id; each fold is scored and explained by a model trained only on the *other* folds'
*untreated* rows.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
from scipy.special import expit

from cxchurn.errors import ConfigError, DataContractError
from cxchurn.hashing import stable_digests
from features.schema import CUSTOMER_ID, CUTOFF, LABEL
from serving.retention.catalogue import Catalogue
from serving.retention.policy import family_mass
from uplift.effects import EffectFit, UpliftConfig, fit_effects, recently_treated, treatments

if TYPE_CHECKING:
    from training.train import TrainConfig

log = logging.getLogger(__name__)

FOLD_COLUMNS: Final = ("fold", "customers", "train_rows", "scored_rows", "treated_rows",
                       "seconds")
# Trains a churn model (ChurnModel-like) on labelled example rows; see ``fit_model_for``.
FitModel = Callable[[pd.DataFrame], Any]


def customer_folds(customer_ids: pd.Series | Sequence[str], folds: int, seed: int = 0
                   ) -> np.ndarray:
    """Each row's fold (0 .. folds-1), from a seeded hash of its customer id.

    A hash, not a shuffle: a customer's fold depends only on its id and the seed, so it is the
    same in every run, whatever other customers the table holds, and all of a customer's rows
    land in one fold (its rows at different cutoffs must not train the model that scores it).
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"folds must be a whole number >= 2; got {folds!r}.")
    return (stable_digests(customer_ids, seed) % np.uint64(folds)).astype(int)


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
              say: Callable[[str], None], untrained: np.ndarray | None = None
              ) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
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
        train = examples[(fold != k) & ~(treated if untrained is None else untrained)]
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
    carried = recently_treated(examples, actions, config.washout_days)
    chosen = scoring_rows(examples[CUTOFF], treated, config.max_controls, config.seed)
    chosen = chosen[~carried[chosen]]
    log.info("cross-fitting over %d customer folds: %d treated rows, %d rows to score",
             config.folds, int(treated.sum()), len(chosen))
    p, mass, folds = cross_fit(examples, treated, fold, config.folds, chosen, fit_model,
                               progress or (lambda _line: None), untrained=treated | carried)
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

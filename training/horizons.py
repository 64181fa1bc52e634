"""Churn over several horizons from one model: a discrete-time hazard model.

Why a hazard model and not one classifier per horizon: the horizons share one model family and
one set of trees, and P(churn within h) can never fall as h grows, by construction rather than
by a cumulative-max patch. The horizons (default 30, 60 and 90 days) cut the time after a
cutoff into intervals ``[0, 30), [30, 60), [60, 90)``. Each (customer, cutoff) example becomes
one *person-period* row per interval the customer entered still a customer and whose window
was fully observed; the row's label says whether the customer cancelled inside that interval,
and ``horizon_interval`` (1, 2, 3...) is a feature beside the customer's features at the
cutoff. A LightGBM ``ChurnModel`` on those rows learns the hazard
``h_k(x) = P(cancel in interval k | still a customer at its start, x)`` and

    P(churn within horizon k) = 1 - prod_{j <= k} (1 - h_j(x)).

Right-censoring, stated once (``person_periods``): an interval whose window
``[c + start, c + end)`` runs past the end of the observed data has no row, whatever happened
in it, because "no cancellation yet" is not "stayed"; earlier, complete intervals of the same
example still count. The interval labels come from ``features.labels.make_labels`` at each
horizon (contractual churn: a cancellation in ``[c, c + h)``), so the point-in-time rule lives
in one place. Non-contractual churn ("no activity within h") is not an event in time and gets
shorter, not longer, as h grows, so it is refused here.

The fitted ``HorizonModel`` travels with the champion: ``attach`` stores it on the 30-day
``ChurnModel`` as ``horizons_`` before the model is logged, so the registry, the serving cache
and every loader carry both; a model without it (older champions) simply has no horizons.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError, FeatureMismatchError
from features import pit
from features.labels import LabelConfig, make_labels, split_by_data_end
from features.schema import CUSTOMER_ID, CUTOFF, LABEL
from training.model import ChurnModel

DEFAULT_HORIZONS: tuple[int, ...] = (30, 60, 90)
INTERVAL = "horizon_interval"  # the person-period rows' interval number (1 = first)
ATTRIBUTE = "horizons_"  # where the HorizonModel sits on the ChurnModel it travels with


def check_horizons(horizons: Sequence[int]) -> tuple[int, ...]:
    """Strictly increasing whole days in 1..3650, at least one; a clear error otherwise."""
    values = tuple(horizons)
    if (not values or any(isinstance(h, bool) or not isinstance(h, int) for h in values)
            or any(not 1 <= h <= 3650 for h in values) or list(values) != sorted(set(values))):
        raise ConfigError(f"horizons must be increasing whole numbers of days in 1..3650, e.g. "
                          f"30,60,90; got {list(values)}.")
    return values


def parse_horizons(text: str) -> tuple[int, ...]:
    """``"30,60,90"`` -> (30, 60, 90), refusing anything else with the expected form."""
    try:
        values = tuple(int(p) for p in str(text).split(",") if p.strip())
    except ValueError as err:
        raise ConfigError(f"horizons must be comma-separated whole days, e.g. 30,60,90; got "
                          f"{text!r}.") from err
    return check_horizons(values)


def interval_bounds(horizons: Sequence[int]) -> list[tuple[int, int]]:
    """[(start, end) days] of each interval: (0, 30), (30, 60), (60, 90) for 30,60,90."""
    ends = list(check_horizons(horizons))
    return list(zip([0, *ends[:-1]], ends, strict=True))


def cumulative(hazards: np.ndarray) -> np.ndarray:
    """(rows, intervals) hazards -> P(churn within each horizon), non-decreasing along a row."""
    h = np.clip(np.asarray(hazards, dtype=float), 0.0, 1.0)
    return 1.0 - np.cumprod(1.0 - h, axis=1)


# ---------------------------------------------------------------------------- labels
def horizon_labels(events: pit.Source, cutoffs: pd.DataFrame, horizons: Sequence[int],
                   label_config: LabelConfig) -> pd.DataFrame:
    """(customer_id, cutoff, churned_<h>d ...) per row of ``cutoffs``: churn within each h.

    Every horizon's label comes from ``make_labels`` (the one label rule); a horizon whose
    window ``[c, c + h)`` passes ``label_config.data_end`` leaves that row's label missing
    (pandas NA), never 0.
    """
    if label_config.kind != "contractual":
        raise ConfigError(
            f"horizon labels need contractual churn (a cancellation event has a time); the "
            f"feature build uses {label_config.kind!r}. 'No activity within h' does not grow "
            "with h, so it has no survival curve: build features with --label contractual.")
    keys = cutoffs[[CUSTOMER_ID, CUTOFF]].drop_duplicates().reset_index(drop=True)
    keys[CUTOFF] = pd.to_datetime(keys[CUTOFF], utc=True).astype("datetime64[us, UTC]")
    out = keys.copy()
    con = pit.connect()
    dates = list(pd.DatetimeIndex(keys[CUTOFF].unique()))
    for h in check_horizons(horizons):
        config = LabelConfig(kind="contractual", horizon_days=h, data_end=label_config.data_end)
        complete, _ = split_by_data_end(dates, config)
        rows = keys[keys[CUTOFF].isin(pd.DatetimeIndex(complete))].reset_index(drop=True)
        column = label_column(h)
        if rows.empty:
            out[column] = pd.array([pd.NA] * len(out), dtype="Int8")
            continue
        labels = make_labels(events, rows, config, con=con)
        labels[CUTOFF] = labels[CUTOFF].astype("datetime64[us, UTC]")
        merged = out[[CUSTOMER_ID, CUTOFF]].merge(
            labels.rename(columns={LABEL: column}), on=[CUSTOMER_ID, CUTOFF], how="left",
            validate="one_to_one")
        out[column] = merged[column].astype("Int8").to_numpy()
    return out


def label_column(horizon_days: int) -> str:
    return f"churned_{int(horizon_days)}d"


def person_periods(frame: pd.DataFrame, horizons: Sequence[int]) -> pd.DataFrame:
    """One row per (example, interval) the customer entered and whose window was observed.

    ``frame`` holds the features plus ``churned_<h>d`` for every horizon (NA = window not
    complete). Interval k's row exists when the customer had not churned within the previous
    horizon and the k-th label is known; its ``LABEL`` is 1 when the churn happened inside it.
    """
    ends = check_horizons(horizons)
    parts = []
    prev: pd.Series | None = None
    for k, h in enumerate(ends, start=1):
        now = frame[label_column(h)]
        entered = pd.Series(True, index=frame.index) if prev is None else prev.eq(0)
        keep = (entered & now.notna()).fillna(False).to_numpy(dtype=bool)
        part = frame.loc[keep].copy()
        part[INTERVAL] = float(k)
        part[LABEL] = now[keep].astype(int).to_numpy()
        parts.append(part)
        prev = now
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------- the model
class _WithInterval(Mapping[str, Any]):
    """Feature columns plus a constant ``horizon_interval`` column, without copying them."""

    def __init__(self, columns: Mapping[str, Any], n: int) -> None:
        self._columns, self._n = columns, n

    def __getitem__(self, name: str) -> Any:
        if name == INTERVAL:
            return np.ones(self._n)
        return self._columns[name]

    def __iter__(self) -> Iterator[str]:
        yield from (*self._columns, INTERVAL)

    def __len__(self) -> int:
        return len(self._columns) + 1


@dataclass
class HorizonModel:
    """The fitted hazard model and the horizons it answers (see the module docstring)."""

    hazard: ChurnModel
    horizons: tuple[int, ...]

    @property
    def feature_names(self) -> list[str]:
        """The customer features it reads (the interval number is its own)."""
        return [f for f in self.hazard.feature_names_ if f != INTERVAL]

    def hazards(self, columns: Mapping[str, Any]) -> np.ndarray:
        """(rows, intervals) hazards of feature columns (a DataFrame or name -> values)."""
        from training.explain import FastModel

        missing = [f for f in self.feature_names if f not in columns]
        if missing:
            raise FeatureMismatchError(
                f"rows lack {len(missing)} feature(s) the horizon model needs: {missing[:20]}")
        fast = FastModel(self.hazard)
        n = len(columns[self.feature_names[0]]) if self.feature_names else 0
        if n == 0:
            return np.zeros((0, len(self.horizons)))
        matrix = fast.matrix(_WithInterval(columns, n))
        j = fast.features.index(INTERVAL)
        out = np.empty((n, len(self.horizons)))
        for k in range(len(self.horizons)):
            matrix[:, j] = float(k + 1)
            out[:, k] = fast.predict_churn(matrix)
        return out

    def predict(self, columns: Mapping[str, Any]) -> np.ndarray:
        """(rows, horizons) P(churn within each horizon); non-decreasing along every row."""
        return cumulative(self.hazards(columns))

    def frame(self, columns: Mapping[str, Any]) -> pd.DataFrame:
        """The same as a frame with one ``p_churn_<h>d`` column per horizon."""
        p = self.predict(columns)
        return pd.DataFrame({f"p_churn_{h}d": p[:, k] for k, h in enumerate(self.horizons)})


def fit_hazard(train: pd.DataFrame, valid: pd.DataFrame, features: Sequence[str],
               horizons: Sequence[int], params: Mapping[str, Any]) -> HorizonModel:
    """Fit the hazard model on the person-period rows of two example folds.

    ``train``/``valid`` carry ``churned_<h>d`` columns (``horizon_labels``); early stopping and
    calibration use the validation fold's person-period rows, as the 30-day model does.
    """
    horizons = check_horizons(horizons)
    names = [*features, INTERVAL]
    train_pp, valid_pp = person_periods(train, horizons), person_periods(valid, horizons)
    for name, rows in (("train", train_pp), ("validation", valid_pp)):
        if rows[LABEL].nunique() < 2:
            raise ConfigError(f"the {name} fold's person-period rows hold a single class; the "
                              "horizon model needs churners and stayers in each fold")
    X_train = train_pp[names]
    X_train.attrs = dict(train.attrs)
    model = ChurnModel(**params).fit(X_train, train_pp[LABEL].to_numpy(),
                                     valid_pp[names], valid_pp[LABEL].to_numpy())
    return HorizonModel(hazard=model, horizons=horizons)


def attach(model: Any, horizon_model: HorizonModel) -> None:
    """Let the horizon model travel with the 30-day model (logged, registered, served)."""
    setattr(model, ATTRIBUTE, horizon_model)


def attached(model: Any) -> HorizonModel | None:
    """The horizon model a churn model carries, or None (models trained before it existed)."""
    found = getattr(model, ATTRIBUTE, None)
    return found if isinstance(found, HorizonModel) else None


__all__ = ["ATTRIBUTE", "DEFAULT_HORIZONS", "INTERVAL", "HorizonModel", "attach", "attached",
           "check_horizons", "cumulative", "fit_hazard", "horizon_labels", "interval_bounds",
           "label_column", "parse_horizons", "person_periods"]

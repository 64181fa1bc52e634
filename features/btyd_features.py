"""BG/NBD figures as features: P(alive) and expected purchases, fitted at every cutoff.

A purchase log's strongest simple baseline is BG/NBD; giving the model the same figures lets it
know what that baseline knows. At each cutoff ``c`` the population's four parameters are fitted
on every customer's purchases before ``c - FIT_LAG_DAYS`` (day-level (x, t_x, T) as
``features.btyd.summaries_at`` counts them, at that instant), then each example row at ``c``
gets its customer's figure from its own purchases before ``c``; a customer with no purchase
before ``c`` gets none (null: BG/NBD starts at the first purchase). Nothing at or after a
cutoff reaches its fit or its rows, so the point-in-time rule holds as for the SQL features.

Why the population fit lags a day: the population's shape moves slowly and a day's purchases
barely change it, while a fit costs ~20-300 ms. Without the lag the live path (a score that
follows each event) had to refit on every purchase to stay equal to a batch build; with it,
today's purchases reach the buyer's own figures at once and the fit is redone once a day.

The summaries are one portable SQL query over the build's tables (DuckDB here, Spark through
``features.spark_engine``); the fit is numpy/scipy on the driver, one per cutoff and event
type, shared by the specs that read it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.btyd import BgNbd
from features.compile import CUTOFFS_TABLE, EVENTS_TABLE, SECONDS_PER_DAY
from features.spec import BtydSpec, FeatureSpec

log = logging.getLogger(__name__)

MIN_CUSTOMERS = 20  # fewer buyers before a cutoff than this: no fit, the figures are null
# The fit sees at most this many buyers per cutoff, drawn with a fixed seed from the buyers
# sorted by id (so the draw depends only on who bought before the cutoff). Four population
# parameters are pinned down well by a few thousand histories, and each fit's cost grows with
# the buyers: on 20,000 customers a full fit took ~4 s per cutoff and made the default build
# four times slower (benchmarks/features.py).
MAX_FIT_CUSTOMERS = 2000
FIT_LAG_DAYS = 1  # the population fit at cutoff c sees purchases before c - this many days


def summary_sql(events_table: str = EVENTS_TABLE, cutoffs_table: str = CUTOFFS_TABLE,
                lag_days: int = 0) -> str:
    """(customer, cutoff) purchase summaries for every customer with a purchase before the
    cutoff (``lag_days`` before it, and the age counted there, when given). Days are counted
    on the UTC calendar from epoch seconds (no session time zone)."""
    if lag_days:
        lag = float(int(lag_days))
        before = f"EPOCH(b.first_time) < EPOCH(d.cutoff) - {lag * SECONDS_PER_DAY}"
        age = f"EPOCH(d.cutoff) / {SECONDS_PER_DAY} - {lag} - MIN(b.day)"
    else:
        before = "b.first_time < d.cutoff"
        age = f"EPOCH(d.cutoff) / {SECONDS_PER_DAY} - MIN(b.day)"
    return f"""
WITH d AS (SELECT DISTINCT cutoff FROM {cutoffs_table}),
b AS (
  SELECT customer_id, FLOOR(EPOCH(event_time) / {SECONDS_PER_DAY}) AS day,
    MIN(event_time) AS first_time
  FROM {events_table} WHERE event_type = $btyd_type
  GROUP BY 1, 2
)
SELECT b.customer_id, d.cutoff,
  CAST(COUNT(*) - 1 AS DOUBLE) AS x,
  CAST(MAX(b.day) - MIN(b.day) AS DOUBLE) AS t_x,
  CAST({age} AS DOUBLE) AS age
FROM b JOIN d ON {before}
GROUP BY b.customer_id, d.cutoff
"""


def btyd_specs(specs: Sequence[FeatureSpec]) -> list[BtydSpec]:
    return [s for s in specs if isinstance(s, BtydSpec)]


def _fit_sample(at: pd.DataFrame) -> pd.DataFrame:
    """The buyers a fit sees: all of them, or ``MAX_FIT_CUSTOMERS`` drawn as the comment on
    that constant says (the draw depends only on who bought, not on their figures)."""
    if len(at) <= MAX_FIT_CUSTOMERS:
        return at
    ordered = at.sort_values(schema.CUSTOMER_ID, kind="stable")
    pick = np.random.default_rng(0).choice(len(ordered), MAX_FIT_CUSTOMERS, replace=False)
    return ordered.iloc[np.sort(pick)]


def _fit(at: pd.DataFrame, cutoff: object, event_type: str) -> BgNbd | None:
    if len(at) < MIN_CUSTOMERS:
        log.warning("btyd features at %s: %d customers with '%s' events before the cutoff "
                    "(need %d to fit BG/NBD); left null", cutoff, len(at), event_type,
                    MIN_CUSTOMERS)
        return None
    at = _fit_sample(at)
    fit = BgNbd.fit(at["x"], at["t_x"], at["age"], with_se=False)
    log.info("btyd features at %s: BG/NBD r=%.4g alpha=%.4g a=%.4g b=%.4g on %d buyers",
             cutoff, fit.r, fit.alpha, fit.a, fit.b, fit.n_customers)
    return fit


def _value(spec: BtydSpec, fit: BgNbd, x: np.ndarray, t_x: np.ndarray,
           age: np.ndarray) -> np.ndarray:
    if spec.output == "p_alive":
        return fit.p_alive(x, t_x, age)
    return fit.expected_purchases(float(spec.horizon_days or 0), x, t_x, age)


def _summaries_by_cutoff(summaries: Callable[[str, int], pd.DataFrame], event_type: str,
                         lag_days: int = 0) -> dict[Any, pd.DataFrame]:
    """The summaries split by cutoff, ids as text and cutoffs in UTC.

    Summaries already typed so and at one cutoff (a live update's population: every buyer)
    are passed through without a copy: this runs on every live update.
    """
    summ = summaries(event_type, lag_days)
    if summ[schema.CUSTOMER_ID].dtype != "str":
        summ = summ.assign(**{schema.CUSTOMER_ID: summ[schema.CUSTOMER_ID].astype(str)})
    cutoffs = summ[schema.CUTOFF]
    if not (isinstance(cutoffs.dtype, pd.DatetimeTZDtype) and str(cutoffs.dtype.tz) == "UTC"):
        summ = summ.assign(**{schema.CUTOFF: pd.to_datetime(cutoffs, utc=True)})
        cutoffs = summ[schema.CUTOFF]
    if len(summ) and not cutoffs.isna().any() and cutoffs.min() == cutoffs.max():
        return {cutoffs.iloc[0]: summ}
    return dict(list(summ.groupby(schema.CUTOFF, sort=True)))


@dataclass(frozen=True)
class _Kept:
    stamp: int | None  # content hash of the population, when no change list was given
    fit: BgNbd | None
    buyers: frozenset[str]  # who the fit's population held
    sampled: frozenset[str]  # who the fit saw


class FitCache:
    """BG/NBD fits kept by (event type, cutoff, the exact population they were fitted on):
    a live update refits only when the fit's input changed, and reuses the very same fit
    otherwise, so its figures stay equal to a batch build's.

    The caller may say which buyers' summaries ``changed`` since its previous call at the same
    cutoff: then the fit is kept when no new buyer joined (the draw of the buyers a fit sees
    depends only on who bought) and none of the changed buyers is among those it saw: the
    refit would see the very same rows. Without that list the population is hashed.
    """

    def __init__(self) -> None:
        self._fits: dict[tuple[str, Any], _Kept] = {}
        # (event type, cutoff) -> whether its latest call gave the kept fit back: rows
        # computed with it before then are still what a batch build gives
        self.kept: dict[tuple[str, Any], bool] = {}

    def fit(self, at: pd.DataFrame, cutoff: Any, event_type: str,
            changed: Collection[str] | None = None) -> BgNbd | None:
        cached = self._fits.get((event_type, cutoff))
        stamp = None
        self.kept[(event_type, cutoff)] = True
        if changed is not None:
            if cached is not None and (
                    len(at) == len(cached.buyers) and all(c in cached.buyers for c in changed)
                    and not any(c in cached.sampled for c in changed)):
                return cached.fit
        else:
            ordered = at.sort_values(schema.CUSTOMER_ID, kind="stable")[
                [schema.CUSTOMER_ID, "x", "t_x", "age"]]
            stamp = int(pd.util.hash_pandas_object(ordered, index=False).sum())
            if cached is not None and cached.stamp == stamp:
                return cached.fit
        self.kept[(event_type, cutoff)] = False
        fit = _fit(at, cutoff, event_type)
        ids = at[schema.CUSTOMER_ID].astype(str)
        sampled = (frozenset(_fit_sample(at)[schema.CUSTOMER_ID].astype(str))
                   if len(at) >= MIN_CUSTOMERS else frozenset())
        # one cutoff is live at a time
        self._fits = {k: v for k, v in self._fits.items() if k[1] == cutoff}
        self.kept = {k: v for k, v in self.kept.items() if k[1] == cutoff}
        self._fits[(event_type, cutoff)] = _Kept(stamp, fit, frozenset(ids), sampled)
        return fit


def add_btyd_features(table: pd.DataFrame, specs: Sequence[FeatureSpec],
                      summaries: Callable[[str, int], pd.DataFrame],
                      population: Callable[[str, int], pd.DataFrame] | None = None,
                      cache: FitCache | None = None,
                      changed: Mapping[str, Collection[str]] | None = None) -> pd.DataFrame:
    """``table`` (customer_id, cutoff, ...) with one column per ``BtydSpec`` of ``specs``.

    ``summaries(event_type, lag_days)`` runs ``summary_sql(lag_days=...)`` for that purchase
    type on the engine the build uses and returns (customer_id, cutoff, x, t_x, age) of the
    build's customers: at lag 0 for the rows' figures, at ``FIT_LAG_DAYS`` for the fit.
    ``population`` gives the fit's summaries for everyone it must see, when that is more than
    the build's customers (a live update rebuilds a few customers but fits on every buyer, as a
    batch build over all events does); ``cache`` keeps fits between live updates, and
    ``changed`` (event type -> customer ids) tells it whose summaries changed since its last
    fit at the same cutoff (see ``FitCache``).
    """
    wanted = btyd_specs(specs)
    if not wanted:
        return table
    out = table.copy()
    keys = pd.DataFrame({
        schema.CUSTOMER_ID: out[schema.CUSTOMER_ID].astype(str).to_numpy(),
        schema.CUTOFF: pd.to_datetime(out[schema.CUTOFF], utc=True).reset_index(drop=True)})
    for event_type in sorted({s.event_types[0] for s in wanted}):
        mine = [s for s in wanted if s.event_types[0] == event_type]
        values = {s.name: np.full(len(out), np.nan) for s in mine}
        by_cutoff = _summaries_by_cutoff(summaries, event_type)
        fitted_on = _summaries_by_cutoff(population or summaries, event_type, FIT_LAG_DAYS)
        for cutoff, rows in keys.groupby(schema.CUTOFF, sort=True).groups.items():
            at, everyone = by_cutoff.get(cutoff), fitted_on.get(cutoff)
            fit = None
            if everyone is not None:
                hint = None if changed is None else changed.get(event_type)
                fit = (cache.fit(everyone, cutoff, event_type, hint) if cache is not None
                       else _fit(everyone, cutoff, event_type))
            if fit is None or at is None:
                continue
            pos = keys.index.get_indexer(rows)
            found = pd.Index(at[schema.CUSTOMER_ID]).get_indexer(
                keys[schema.CUSTOMER_ID].to_numpy()[pos])  # -1: bought nothing yet
            bought = found >= 0
            x, t_x, age = (at[c].to_numpy(float)[found[bought]] for c in ("x", "t_x", "age"))
            for spec in mine:
                values[spec.name][pos[bought]] = _value(spec, fit, x, t_x, age)
        for name, column in values.items():
            out[name] = column
    return out


__all__ = ["FIT_LAG_DAYS", "MAX_FIT_CUSTOMERS", "MIN_CUSTOMERS", "FitCache",
           "add_btyd_features", "btyd_specs", "summary_sql"]

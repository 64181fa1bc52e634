"""The compiled feature query's arithmetic in NumPy, for a few customers at one cutoff.

Why a second form of the same specs: the live path rebuilds one customer's row per event,
and DuckDB spends ~30-50 ms binding and optimising the 102-feature query on every execution,
whatever the data (``benchmarks/realtime.py``). The specs stay the one definition; this
module evaluates them with the arithmetic ``features.compile`` writes in SQL, step for step,
so the two agree to rounding:

* an event at or after the cutoff is never read (``event_time < cutoff``);
* a window ``w`` holds ``cutoff - w days <= event_time < cutoff``;
* a decayed aggregation weighs events per interval between the compiler's edges, as
  ``exp(k (t - lo)) * exp(k (lo - cutoff))`` (``features.compile.interval_edges``);
* NULL is NaN: a filter on an unknown value does not match, a mean over no known value,
  a share of nothing and a ratio over zero are unknown, a count or sum of nothing is 0;
* seconds are ``EPOCH``'s: microseconds / 1e6, as a double, before any difference.

Where the SQL leaves a choice open (two known values at the very same microsecond for
``last``), this takes the later row of the customer's events in time order; the SQL may take
either. The live path checks this form against the compiler on real customers whenever it
prepares a cutoff and falls back to the compiler if any value differs
(``serving.live.compute``); ``tests/code/test_evaluate.py`` compares them over random events.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.compile import SECONDS_PER_DAY, decay_rate, interval_edges
from features.spec import (
    DECAYED_AGGREGATIONS,
    AggregateSpec,
    FeatureSpec,
    NpsCategorySpec,
    TrendSpec,
)

MICROS = 1_000_000.0
NAT_US = np.iinfo(np.int64).min  # an unknown instant, as microseconds
_COMPARE: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "=": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class Events:
    """Events of ``n`` customers as columns; ``customer`` is the customer's position 0..n-1.

    ``time_us``: microseconds since the epoch (UTC). Values are float with NaN for unknown;
    ``signals`` holds one boolean column per text signal (the SQL's ``sig_<name>``).
    """

    customer: np.ndarray
    time_us: np.ndarray
    event_type: np.ndarray
    channel: np.ndarray
    values: Mapping[str, np.ndarray]
    signals: Mapping[str, np.ndarray]

    def take(self, keep: np.ndarray) -> Events:
        return Events(self.customer[keep], self.time_us[keep], self.event_type[keep],
                      self.channel[keep], {k: v[keep] for k, v in self.values.items()},
                      {k: v[keep] for k, v in self.signals.items()})

    def only(self, chosen: np.ndarray) -> Events:
        """The events of the customers at positions ``chosen``, renumbered 0..len-1."""
        size = int(max(self.customer.max(initial=-1), chosen.max(initial=-1))) + 1
        renumber = np.full(size, -1, dtype=np.int64)
        renumber[chosen] = np.arange(len(chosen))
        keep = np.flatnonzero(renumber[self.customer] >= 0)
        picked = self.take(keep)
        return Events(renumber[picked.customer], picked.time_us, picked.event_type,
                      picked.channel, picked.values, picked.signals)


def micros(instant: pd.Timestamp) -> int:
    """A UTC instant as microseconds since the epoch."""
    return int(pd.Timestamp(instant).value // 1000)


def epoch(time_us: np.ndarray | int) -> np.ndarray:
    """DuckDB's ``EPOCH`` of a TIMESTAMPTZ, seconds as a double, rounded as it rounds them:
    whole milliseconds / 1000 plus the microseconds left / 1e6 (measured on every instant of
    a random sample, before and after 1970; the plain micros / 1e6 differs in the last bit
    for a quarter of them, and a day count then in the 12th decimal)."""
    us = np.asarray(time_us, dtype=np.int64)
    return (us // 1000).astype(np.float64) / 1000.0 + (us % 1000).astype(np.float64) / MICROS


class _Frame:
    """The events before the cutoff, in (customer, time) order, with what many specs share."""

    def __init__(self, events: Events, n: int, cutoff_us: int) -> None:
        before = events.time_us < cutoff_us
        order = np.lexsort((events.time_us[before], events.customer[before]))
        self.ev = events.take(np.flatnonzero(before)[order])
        self.n, self.cutoff_us = n, cutoff_us
        self.cutoff_s = float(epoch(cutoff_us))
        self.seconds = epoch(self.ev.time_us)
        self._types: dict[tuple[str, ...], np.ndarray] = {}

    def of_types(self, types: tuple[str, ...]) -> np.ndarray:
        if types not in self._types:
            self._types[types] = np.isin(self.ev.event_type, np.array(types, dtype=object))
        return self._types[types]

    def window(self, days: int | None) -> np.ndarray | None:
        if days is None:
            return None
        return self.ev.time_us >= self.cutoff_us - days * 86_400_000_000

    def total(self, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Per customer sum over ``mask`` (of ``weights``, else a count)."""
        w = None if weights is None else weights[mask]
        return np.bincount(self.ev.customer[mask], weights=w, minlength=self.n
                           ).astype(np.float64)

    def any(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.ev.customer[mask], minlength=self.n) > 0

    def last_index(self, mask: np.ndarray) -> np.ndarray:
        """Per customer the position of the latest event in ``mask`` (-1: none)."""
        last = np.full(self.n, -1, dtype=np.int64)
        idx = np.flatnonzero(mask)
        last[self.ev.customer[idx]] = idx  # in time order: the last write wins
        return last

    def first_index(self, mask: np.ndarray) -> np.ndarray:
        first = np.full(self.n, -1, dtype=np.int64)
        idx = np.flatnonzero(mask)[::-1]
        first[self.ev.customer[idx]] = idx
        return first


def _match(frame: _Frame, spec: AggregateSpec, *, with_match: bool = True) -> np.ndarray:
    mask = frame.of_types(tuple(spec.event_types))
    if with_match and spec.filter is not None:
        values = frame.ev.values[spec.filter.column]
        with np.errstate(invalid="ignore"):
            hit = _COMPARE[spec.filter.op](values, float(spec.filter.value))
        mask = mask & hit & ~np.isnan(values)
    if with_match and spec.channel is not None:
        mask = mask & (frame.ev.channel == spec.channel)
    if with_match and spec.text_signal is not None:
        mask = mask & frame.ev.signals[spec.text_signal]
    window = frame.window(spec.window_days)
    return mask if window is None else mask & window


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    out = np.full(len(index), np.nan)
    found = index >= 0
    out[found] = values[index[found]]
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(len(num), np.nan)
    ok = (den != 0) & ~np.isnan(den)
    out[ok] = num[ok] / den[ok]
    return out


def _aggregate(frame: _Frame, spec: AggregateSpec, lows: np.ndarray) -> np.ndarray:
    agg = spec.aggregation
    mask = _match(frame, spec)
    if agg in DECAYED_AGGREGATIONS:
        return _decayed(frame, spec, mask, lows)
    if agg == "count":
        return frame.total(mask)
    if agg == "share":
        return _ratio(frame.total(mask), frame.total(_match(frame, spec, with_match=False)))
    if agg == "days_since_last":
        last = frame.last_index(mask)
        return (frame.cutoff_s - _at(frame.seconds, last)) / SECONDS_PER_DAY
    if agg in ("repeat_count", "days_since_first", "active_span", "gap_mean", "gap_cv"):
        return _history(frame, agg, mask)
    values = frame.ev.values[spec.column]  # type: ignore[index]
    known = mask & ~np.isnan(values)
    if agg == "sum":
        return frame.total(known, values)
    if agg == "mean":
        return _ratio(frame.total(known, values), frame.total(known))
    if agg in ("min", "max"):
        out = np.full(frame.n, np.inf if agg == "min" else -np.inf)
        (np.minimum if agg == "min" else np.maximum).at(out, frame.ev.customer[known],
                                                         values[known])
        out[~frame.any(known)] = np.nan
        return out
    last = frame.last_index(known)
    if agg == "last":
        return _at(values, last)
    # change: the last known value minus the one before it (same customer and event type)
    previous = np.full(frame.n, -1, dtype=np.int64)
    idx = np.flatnonzero(known)
    same = np.r_[False, frame.ev.customer[idx][1:] == frame.ev.customer[idx][:-1]]
    prior = np.where(same, np.r_[-1, idx[:-1]], -1)
    previous[frame.ev.customer[idx]] = prior
    return _at(values, last) - _at(values, previous)


def _history(frame: _Frame, agg: str, mask: np.ndarray) -> np.ndarray:
    """The BTYD statistics as ``features.compile._history`` writes them (same formulas)."""
    n = frame.total(mask)
    has_events = frame.any(np.ones(len(mask), dtype=bool))
    n_or_null = np.where(has_events, n, np.nan)  # SUM over no row at all is NULL
    if agg == "repeat_count":
        return np.maximum(np.nan_to_num(n_or_null, nan=0.0) - 1, 0)
    first = _at(frame.seconds, frame.first_index(mask))
    last = _at(frame.seconds, frame.last_index(mask))
    if agg == "days_since_first":
        return (frame.cutoff_s - first) / SECONDS_PER_DAY
    span = (last - first) / SECONDS_PER_DAY
    if agg == "active_span":
        return span
    mean = _ratio(span, n_or_null - 1)
    if agg == "gap_mean":
        return mean
    idx = np.flatnonzero(mask)
    same = np.r_[False, frame.ev.customer[idx][1:] == frame.ev.customer[idx][:-1]]
    gaps = np.diff(frame.seconds[idx], prepend=np.nan) / SECONDS_PER_DAY
    gaps = np.where(same, gaps, np.nan)
    has_gap = ~np.isnan(gaps)
    squares = np.bincount(frame.ev.customer[idx][has_gap], weights=gaps[has_gap] ** 2,
                          minlength=frame.n).astype(np.float64)
    squares[~frame.any(mask)] = np.nan
    variance = _ratio(squares - (n_or_null - 1) * mean * mean, n_or_null - 2)
    # GREATEST skips NULL in SQL: one gap (two purchases) has no spread, 0 and not unknown
    return _ratio(np.sqrt(np.fmax(variance, 0)), mean)


def _decayed(frame: _Frame, spec: AggregateSpec, mask: np.ndarray, lows: np.ndarray
             ) -> np.ndarray:
    """Per interval sum of value x exp(k (t - lo)), times exp(k (lo - cutoff)), summed."""
    k = decay_rate(spec)
    low_s = epoch(lows)
    weight = np.exp((frame.seconds - low_s) * k)
    if spec.column is None:
        value = np.ones(len(mask))
    else:
        value = frame.ev.values[spec.column].copy()
        if spec.cap is not None:
            value = np.minimum(value, float(spec.cap))  # NaN stays NaN: unknown, not counted
        if spec.power is not None:
            value = np.power(np.maximum(value, 0.0), float(spec.power))
    to_cutoff = np.exp((low_s - frame.cutoff_s) * k)
    known = mask & ~np.isnan(value)
    total = _by_interval(frame, known, value * weight, lows, to_cutoff)
    if spec.aggregation == "decayed_sum":
        return np.nan_to_num(total, nan=0.0)
    return _ratio(total, _by_interval(frame, known, weight, lows, to_cutoff))


def _by_interval(frame: _Frame, mask: np.ndarray, amounts: np.ndarray, lows: np.ndarray,
                 to_cutoff: np.ndarray) -> np.ndarray:
    """Sum per (customer, interval), each times its interval's factor, summed per customer
    (NaN for a customer with nothing in ``mask``)."""
    idx = np.flatnonzero(mask)
    out = np.full(frame.n, np.nan)
    if not len(idx):
        return out
    keys = np.stack([frame.ev.customer[idx].astype(np.int64), lows[idx]], axis=1)
    groups, first, where = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    sums = np.bincount(where.ravel(), weights=amounts[idx], minlength=len(groups))
    factors = to_cutoff[idx][first]
    per_customer = np.bincount(groups[:, 0], weights=sums * factors, minlength=frame.n)
    seen = np.unique(groups[:, 0])
    out[seen] = per_customer[seen]
    return out


def _lows(frame: _Frame, specs: Sequence[AggregateSpec]) -> np.ndarray:
    """Each event's interval start ``lo``, in microseconds, as the compiler's edges cut."""
    edges, floor = interval_edges(specs, [pd.Timestamp(frame.cutoff_us, unit="us", tz="UTC")])
    edge_us = np.array([micros(e) for e in edges], dtype=np.int64)
    floor_us = micros(floor)
    pos = np.searchsorted(edge_us, frame.ev.time_us, side="right") - 1
    return np.where(pos >= 0, edge_us[np.maximum(pos, 0)], floor_us)


def _composite(spec: TrendSpec | NpsCategorySpec, values: Mapping[str, np.ndarray],
               by_name: Mapping[str, AggregateSpec]) -> np.ndarray:
    if isinstance(spec, NpsCategorySpec):
        x = values[spec.inputs[0]]
        out = np.full(len(x), None, dtype=object)
        known = ~np.isnan(x)
        out[known & (x <= 6)] = "detractor"
        out[known & (x > 6) & (x <= 8)] = "passive"
        out[known & (x > 8)] = "promoter"
        return out
    a, c = (values[name] for name in spec.inputs)
    if spec.op == "difference":
        return a - c
    if spec.op == "ratio":
        return _ratio(a, c)
    wa, wc = (float(by_name[name].window_days or 0) for name in spec.inputs)
    return _ratio(a / wa, c / wc)  # rate_ratio inputs are windowed (validate_specs)


def evaluate_specs(specs: Sequence[FeatureSpec], events: Events, n_customers: int,
                   cutoff: pd.Timestamp) -> dict[str, np.ndarray]:
    """Each aggregate, trend and NPS-category spec's value per customer (position 0..n-1),
    in spec order; BG/NBD specs are not here (``features.btyd_features`` adds them)."""
    cutoff_us = micros(cutoff)
    frame = _Frame(events, n_customers, cutoff_us)
    aggregates = [s for s in specs if isinstance(s, AggregateSpec)]
    by_name = {s.name: s for s in aggregates}
    lows = _lows(frame, aggregates)
    values = {a.name: _aggregate(frame, a, lows) for a in aggregates}
    out: dict[str, np.ndarray] = {}
    for spec in specs:
        if isinstance(spec, AggregateSpec):
            out[spec.name] = values[spec.name]
        elif isinstance(spec, TrendSpec | NpsCategorySpec):
            out[spec.name] = _composite(spec, values, by_name)
    return out


def purchase_summaries(events: Events, n_customers: int, cutoff: pd.Timestamp,
                       event_type: str) -> pd.DataFrame:
    """``features.btyd_features.summary_sql`` at lag 0 for one purchase type: (position,
    x, t_x, age) of each customer with a purchase before the cutoff."""
    cutoff_us = micros(cutoff)
    bought = (events.event_type == event_type) & (events.time_us < cutoff_us)
    who = events.customer[bought]
    day = np.floor(epoch(events.time_us[bought]) / SECONDS_PER_DAY)
    if not len(who):
        return pd.DataFrame({"position": np.zeros(0, np.int64), "x": [], "t_x": [], "age": []})
    pairs = np.unique(np.stack([who.astype(np.float64), day], axis=1), axis=0)
    customers, starts, counts = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    first_day = pairs[starts, 1]
    last_day = pairs[starts + counts - 1, 1]
    age = float(epoch(cutoff_us)) / SECONDS_PER_DAY - first_day
    return pd.DataFrame({"position": customers.astype(np.int64),
                         "x": (counts - 1).astype(np.float64), "t_x": last_day - first_day,
                         "age": age})


def eligible(signup_us: np.ndarray, events: Events, cutoff: pd.Timestamp, kind: str,
             activity_types: Sequence[str], active_within_days: int,
             cancellation: str) -> np.ndarray:
    """``features.labels.eligibility_sql`` for one cutoff: signed up before it, no
    cancellation before it, and for a non-contractual label an activity event within the
    last ``active_within_days``."""
    cutoff_us = micros(cutoff)
    n = len(signup_us)
    signed = (signup_us < cutoff_us) & (signup_us != NAT_US)
    cancelled = (events.event_type == cancellation) & (events.time_us < cutoff_us)
    gone = np.bincount(events.customer[cancelled], minlength=n) > 0
    ok = signed & ~gone
    if kind == "non_contractual":
        recent = (np.isin(events.event_type, np.array(list(activity_types), dtype=object))
                  & (events.time_us >= cutoff_us - active_within_days * 86_400_000_000)
                  & (events.time_us < cutoff_us))
        ok &= np.bincount(events.customer[recent], minlength=n) > 0
    return ok

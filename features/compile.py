"""Compile feature specs to ONE portable SQL query per batch of cutoffs (pure: text + params).

Why this shape (measured: ``benchmarks/features.py``): joining every event to every cutoff
whose window holds it repeats each event up to (cutoffs x windows) times. Instead:

1. edges: every cutoff ``c`` and every window start ``c - w`` of the batch (bound as
   parameters). Consecutive edges make half-open intervals ``lo <= t < next edge``; any
   feature window ``[c - w, c)`` is an exact union of them, and so is all history.
2. ``bk``: one pass over the events (only those before the last cutoff, only the event types
   the specs read) computes decomposable partial aggregates per customer and interval
   (counts, sums, non-null counts, min, max, last time, value at last time).
3. ``agg``: each (customer, cutoff) combines the partials of the intervals inside each
   window. There are few intervals per customer, so this step is small.

Decayed aggregations decompose the same way: an event's weight ``exp(-k (c - t))`` is
``exp(-k (c - lo)) * exp(k (t - lo))``; ``bk`` sums values times the second factor (which only
needs the interval), ``agg`` multiplies each interval's sum by the first. Intervals are cut to
at most ``MAX_DECAY_EXPONENT`` half-lives of the shortest half-life, so no exponent overflows.

Point-in-time rule: an interval is joined to cutoff ``c`` only when ``lo < c`` (then, as
``c`` is an edge, the whole interval lies before ``c``), and events at or after the last
cutoff are never read, so an event at ``t >= c`` cannot reach cutoff ``c``.

Portability: only ANSI constructs plus MAX_BY, LAG, REGEXP_MATCHES and EPOCH, which sqlglot
transpiles to Spark (MAX_BY, LAG, RLIKE, UNIX_TIMESTAMP). Vocabulary values, thresholds and
the text pattern are bound parameters (``$name``); identifiers are validated and quoted.
Input tables are ``cx_events``, ``cx_customers`` and ``cx_cutoffs`` (customer_id, cutoff).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cxchurn.errors import ConfigError
from cxchurn.settings import DEFAULT_CONTACT_COLUMNS
from features import schema
from features.contacts import contact_columns
from features.spec import (
    DECAYED_AGGREGATIONS,
    AggregateSpec,
    FeatureSpec,
    NpsCategorySpec,
    TrendSpec,
    validate_specs,
)
from features.text_signals import matches_sql, pattern

EVENTS_TABLE = "cx_events"
CUSTOMERS_TABLE = "cx_customers"
CUTOFFS_TABLE = "cx_cutoffs"
TENURE = "tenure_days"
SECONDS_PER_DAY = 86400.0
OUTSIDE = 999999  # interval class of intervals older than every window
MAX_DECAY_EXPONENT = 600.0  # largest k * (t - lo) inside an interval; exp(709) overflows
LN2 = math.log(2.0)
RESERVED = (schema.CUSTOMER_ID, schema.CUTOFF, TENURE, "signup_date")


@dataclass(frozen=True)
class CompiledQuery:
    """SQL text, its bound parameters and the output columns, in order."""

    sql: str
    params: dict[str, Any]
    columns: tuple[str, ...]
    feature_columns: tuple[str, ...] = field(default=())


def quote(identifier: str) -> str:
    """Quote an identifier for SQL (double quotes, embedded quotes doubled)."""
    if not isinstance(identifier, str) or not identifier or "\x00" in identifier:
        raise ConfigError(f"column name must be a non-empty string; got {identifier!r}.")
    return '"' + identifier.replace('"', '""') + '"'


class _Builder:
    """Collects bound parameters and de-duplicated partial aggregates while compiling."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.partials: dict[str, str] = {}  # partial SQL expression -> alias
        self.numbers: dict[float, str] = {}  # filter value -> parameter suffix

    def param(self, prefix: str, key: str, value: Any) -> str:
        name = f"{prefix}_{key}"
        self.params[name] = value
        return f"${name}"

    def partial(self, expression: str) -> str:
        if expression not in self.partials:
            self.partials[expression] = f"p{len(self.partials)}"
        return self.partials[expression]

    def condition(self, spec: AggregateSpec, *, with_match: bool = True) -> str:
        types = ", ".join(self.param("et", et, et) for et in spec.event_types)
        parts = [f"ev.event_type IN ({types})"]
        if with_match and spec.filter is not None:
            f = spec.filter
            number = self.numbers.setdefault(float(f.value), str(len(self.numbers)))
            value = self.param("fv", number, float(f.value))
            parts.append(f"ev.{f.column} {f.op} {value}")
        if with_match and spec.channel is not None:
            parts.append(f"ev.channel = {self.param('ch', spec.channel, spec.channel)}")
        if with_match and spec.text_signal is not None:
            parts.append(f"ev.sig_{spec.text_signal}")
        return " AND ".join(parts)


def _combine(spec: AggregateSpec, b: _Builder) -> str:
    """SQL for one aggregate feature at (customer, cutoff), over the window's intervals.

    ``pr.cls`` is the smallest window (days) holding the interval, or OUTSIDE, so an interval
    is inside window ``w`` exactly when ``cls <= w``. CASE WHEN, not FILTER: DuckDB runs
    FILTER aggregates about 5x slower here (measured).
    """
    cond = b.condition(spec)
    col = f"ev.{spec.column}" if spec.column else None

    def part(expr: str) -> str:
        alias = f"pr.{b.partial(expr)}"
        if spec.window_days is None:
            return alias
        return f"CASE WHEN pr.cls <= {spec.window_days} THEN {alias} END"

    agg = spec.aggregation
    if agg in DECAYED_AGGREGATIONS:
        return _decayed(spec, cond, col, part)
    count = part(f"CAST(COUNT(CASE WHEN {cond} THEN 1 END) AS DOUBLE)")
    if agg == "count":
        return f"COALESCE(SUM({count}), 0)"
    if agg == "sum":
        return f"COALESCE(SUM({part(f'SUM(CASE WHEN {cond} THEN {col} END)')}), 0)"
    if agg == "mean":
        total = part(f"SUM(CASE WHEN {cond} THEN {col} END)")
        known = part(f"CAST(COUNT(CASE WHEN {cond} THEN {col} END) AS DOUBLE)")
        return f"SUM({total}) / NULLIF(SUM({known}), 0)"
    if agg in ("min", "max"):
        fn = agg.upper()
        return f"{fn}({part(f'{fn}(CASE WHEN {cond} THEN {col} END)')})"
    if agg == "days_since_last":
        last = part(f"MAX(CASE WHEN {cond} THEN ev.event_time END)")
        return f"(EPOCH(pr.cutoff) - EPOCH(MAX({last}))) / {SECONDS_PER_DAY}"
    if agg in HISTORY:
        return _history(agg, count, cond, part)
    if agg == "share":
        whole_cond = b.condition(spec, with_match=False)
        whole = part(f"CAST(COUNT(CASE WHEN {whole_cond} THEN 1 END) AS DOUBLE)")
        return f"SUM({count}) / NULLIF(SUM({whole}), 0)"
    # last / change: the value at the latest matching event whose value is known
    known_cond = f"{cond} AND {col} IS NOT NULL"
    when = part(f"MAX(CASE WHEN {known_cond} THEN ev.event_time END)")
    value = part(f"MAX_BY({col}, CASE WHEN {known_cond} THEN ev.event_time END)")
    last = f"MAX_BY({value}, {when})"
    if agg == "last":
        return last
    previous = part(f"MAX_BY(ev.prev_{spec.column}, CASE WHEN {known_cond} "
                    f"THEN ev.event_time END)")
    return f"{last} - MAX_BY({previous}, {when})"


HISTORY = ("repeat_count", "days_since_first", "active_span", "gap_mean", "gap_cv")


def _history(agg: str, count: str, cond: str, part: Callable[[str], str]) -> str:
    """The BTYD statistics of one event type over all history, in days (see features.spec).

    The gaps between consecutive purchases come from ``ev.gap_d`` (LAG over the customer's
    events of that type, computed once in ``evs``); the first purchase has none, so a customer
    with n purchases has n - 1 gaps, whose sum is the active span. Sample standard deviation
    over mean; null under two gaps.
    """
    n = f"SUM({count})"
    first = f"MIN({part(f'MIN(CASE WHEN {cond} THEN ev.event_time END)')})"
    last = f"MAX({part(f'MAX(CASE WHEN {cond} THEN ev.event_time END)')})"
    span = f"((EPOCH({last}) - EPOCH({first})) / {SECONDS_PER_DAY})"
    if agg == "repeat_count":
        return f"GREATEST(COALESCE({n}, 0) - 1, 0)"
    if agg == "days_since_first":
        return f"(EPOCH(pr.cutoff) - EPOCH({first})) / {SECONDS_PER_DAY}"
    if agg == "active_span":
        return span
    mean = f"({span} / NULLIF({n} - 1, 0))"
    if agg == "gap_mean":
        return mean
    squares = f"SUM({part(f'SUM(CASE WHEN {cond} THEN ev.gap_d * ev.gap_d END)')})"
    variance = f"(({squares} - ({n} - 1) * {mean} * {mean}) / NULLIF({n} - 2, 0))"
    return f"SQRT(GREATEST({variance}, 0)) / NULLIF({mean}, 0)"


def _weight_column(spec: AggregateSpec) -> str:
    """Name of the per-event weight column of this half-life (computed once per event)."""
    return "w_" + repr(float(spec.half_life_days)).replace(".", "_")  # type: ignore[arg-type]


def decay_rate(spec: AggregateSpec) -> float:
    """k per second, so that an event's weight exp(-k * age seconds) halves every half-life."""
    return LN2 / (float(spec.half_life_days) * SECONDS_PER_DAY)  # type: ignore[arg-type]


def _decayed(spec: AggregateSpec, cond: str, col: str | None,
             part: Callable[[str], str]) -> str:
    """Decayed sum or weighted mean; see the module docstring for the decomposition."""
    k = repr(decay_rate(spec))
    value = "1.0" if col is None else col
    if col is not None and spec.cap is not None:
        value = f"LEAST({value}, {float(spec.cap)!r})"
    if col is not None and spec.power is not None:
        value = f"POWER(GREATEST({value}, 0.0), {float(spec.power)!r})"
    weight = f"ev.{_weight_column(spec)}"
    # an unknown value is not summed: LEAST/GREATEST skip NULL and would make it the cap (or 0)
    known_cond = cond if col is None else f"{cond} AND {col} IS NOT NULL"
    total = part(f"SUM(CASE WHEN {known_cond} THEN {value} * {weight} END)")
    to_cutoff = f"EXP((EPOCH(pr.lo) - EPOCH(pr.cutoff)) * {k})"
    decayed_total = f"SUM({total} * {to_cutoff})"
    if spec.aggregation == "decayed_sum":
        return f"COALESCE({decayed_total}, 0)"
    known = part(f"SUM(CASE WHEN {known_cond} THEN {weight} END)")
    return f"{decayed_total} / NULLIF(SUM({known} * {to_cutoff}), 0)"


def _composite(spec: TrendSpec | NpsCategorySpec, by_name: dict[str, AggregateSpec]) -> str:
    if isinstance(spec, NpsCategorySpec):
        x = f"a.{quote(spec.inputs[0])}"
        return (f"CASE WHEN {x} IS NULL THEN NULL WHEN {x} <= 6 THEN 'detractor' "
                f"WHEN {x} <= 8 THEN 'passive' ELSE 'promoter' END")
    a, c = (f"a.{quote(name)}" for name in spec.inputs)
    if spec.op == "difference":
        return f"CAST({a} - {c} AS DOUBLE)"
    if spec.op == "ratio":
        return f"CAST({a} AS DOUBLE) / NULLIF({c}, 0)"
    wa, wc = (by_name[name].window_days for name in spec.inputs)
    return f"(CAST({a} AS DOUBLE) / {wa}) / NULLIF(CAST({c} AS DOUBLE) / {wc}, 0)"


def _events_cte(specs: Sequence[AggregateSpec], b: _Builder, last_edge: str) -> str:
    """Only the needed event types, before the last cutoff; text signals and LAGs computed once.

    ``prev_<col>`` (for 'change') is the previous known value of the same customer and event
    type; partitioning by ``col IS NULL`` makes LAG skip unknown values portably.
    """
    types = sorted({et for s in specs for et in s.event_types})
    gap_types = sorted({s.event_types[0] for s in specs if s.aggregation == "gap_cv"})
    change_types = sorted({s.event_types[0] for s in specs if s.aggregation == "change"})
    change_cols = sorted({s.column for s in specs if s.aggregation == "change" and s.column})
    signals = sorted({s.text_signal for s in specs if s.text_signal})
    base = ["customer_id", "event_time", "event_type", "channel", "amount", "score", "duration"]
    base += [f"{matches_sql(b.param('tx', sig, pattern(sig)))} AS sig_{sig}"
             for sig in signals]
    before = f"event_time < {last_edge}"

    def in_list(values: Sequence[str]) -> str:
        return ", ".join(b.param("et", v, v) for v in values)

    lags = [f"LAG({c}) OVER (PARTITION BY customer_id, event_type, {c} IS NULL "
            f"ORDER BY event_time) AS prev_{c}" for c in change_cols]
    no_lags = [f"CAST(NULL AS DOUBLE) AS prev_{c}" for c in change_cols]
    # gap_d: days since the customer's previous event of the same type (for 'gap_cv'); each
    # window runs only over the event types that need it
    gap = ([f"(EPOCH(event_time) - EPOCH(LAG(event_time) OVER (PARTITION BY customer_id, "
            f"event_type ORDER BY event_time))) / {SECONDS_PER_DAY} AS gap_d"]
           if gap_types else [])
    no_gap = ["CAST(NULL AS DOUBLE) AS gap_d"] if gap_types else []
    plain = [t for t in types if t not in change_types and t not in gap_types]
    gap_only = [t for t in gap_types if t not in change_types]
    branches = []
    if plain or not (change_types or gap_only):
        where = f"event_type IN ({in_list(plain)}) AND " if plain else "FALSE AND "
        branches.append(f"SELECT {', '.join(base + no_lags + no_gap)} FROM {EVENTS_TABLE} "
                        f"WHERE {where}{before}")
    if change_types:
        both = gap if set(change_types) & set(gap_types) else no_gap
        branches.append(f"SELECT {', '.join(base + lags + both)} FROM {EVENTS_TABLE} "
                        f"WHERE event_type IN ({in_list(change_types)}) AND {before}")
    if gap_only:
        branches.append(f"SELECT {', '.join(base + no_lags + gap)} FROM {EVENTS_TABLE} "
                        f"WHERE event_type IN ({in_list(gap_only)}) AND {before}")
    return "\n  UNION ALL\n  ".join(branches)


def interval_edges(aggregates: Sequence[AggregateSpec], cutoffs: Sequence[pd.Timestamp]
                   ) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """The edges of step 1 of the module docstring that these specs' windows and half-lives
    cut for these cutoffs, and the floor: the interval start of events before the first edge
    (``features.evaluate`` cuts the very same intervals)."""
    half_lives = [float(s.half_life_days) for s in aggregates  # type: ignore[arg-type]
                  if s.aggregation in DECAYED_AGGREGATIONS]
    edges = _edges(cutoffs, _windows(aggregates), min(half_lives) if half_lives else None)
    return edges, edges[0] - pd.Timedelta(days=1)


def _windows(aggregates: Sequence[AggregateSpec]) -> list[int]:
    """The distinct windows (days) of these specs, shortest first."""
    return sorted({s.window_days for s in aggregates if s.window_days is not None})


def _edges(cutoffs: Sequence[pd.Timestamp], windows: Sequence[int],
           min_half_life_days: float | None = None) -> list[pd.Timestamp]:
    if len(cutoffs) == 0:
        raise ConfigError("no cutoffs to compile features for; expected at least one cutoff.")
    stamps = {pd.Timestamp(c) for c in cutoffs}
    if any(c.tzinfo is None for c in stamps):
        raise ConfigError("cutoffs must be tz-aware UTC timestamps; got naive ones. Use "
                          "pd.Timestamp(..., tz='UTC').")
    edges = sorted({c - pd.Timedelta(days=w) for c in stamps for w in (0, *windows)})
    if min_half_life_days is None:
        return edges
    # Extra edges keep every interval short enough for its decay exponent (see docstring).
    longest = pd.Timedelta(days=math.floor(MAX_DECAY_EXPONENT * min_half_life_days / LN2))
    extra = {lo + longest * i for lo, hi in itertools.pairwise(edges)
             for i in range(1, math.ceil((hi - lo) / longest))}
    return sorted(set(edges) | extra)


def compile_features(specs: Sequence[FeatureSpec], cutoffs: Sequence[pd.Timestamp],
                     static_columns: Sequence[str] = (),
                     contact_names: Sequence[str] = DEFAULT_CONTACT_COLUMNS) -> CompiledQuery:
    """Compile a spec set for a batch of cutoff instants to one SQL query.

    ``cutoffs``: the distinct cutoff instants of the batch (their window starts become the
    interval edges, bound as parameters). ``static_columns``: the customers table's columns;
    all but customer_id/signup_date and contact details (``features.contacts``, names in
    ``contact_names``) pass through: a phone number is never a feature. ``tenure_days`` is
    always added.
    """
    specs = validate_specs(specs)
    aggregates = [s for s in specs if isinstance(s, AggregateSpec)]
    contacts = set(contact_columns(static_columns, contact_names))
    static = [c for c in static_columns
              if c not in ("customer_id", "signup_date") and c not in contacts]
    clash = sorted(set(static) & ({s.name for s in specs} | set(RESERVED)))
    if clash:
        raise ConfigError(f"customer column(s) {clash} clash with feature names; rename the "
                          f"column(s) or the feature spec(s).")
    b = _Builder()
    combined = [f"CAST({_combine(s, b)} AS DOUBLE) AS {quote(s.name)}" for s in aggregates]
    windows = _windows(aggregates)
    edges, floor = interval_edges(aggregates, cutoffs)
    decayed = {_weight_column(s): decay_rate(s) for s in aggregates
               if s.aggregation in DECAYED_AGGREGATIONS}
    weights = [f"EXP((EPOCH(evl.event_time) - EPOCH(evl.lo)) * {k!r}) AS {name}"
               for name, k in sorted(decayed.items())]
    for i, edge in enumerate(edges):
        b.params[f"edge_{i}"] = edge.to_pydatetime()
    b.params["edge_floor"] = floor.to_pydatetime()
    last_edge = f"CAST($edge_{len(edges) - 1} AS TIMESTAMPTZ)"
    events = _events_cte(aggregates, b, last_edge)
    interval = " ".join(f"WHEN evs.event_time >= $edge_{i} THEN $edge_{i}"
                        for i in reversed(range(len(edges))))
    partials = ",\n    ".join(f"{expr} AS {alias}" for expr, alias in b.partials.items())
    classes = " ".join(f"WHEN bk.lo >= c.cutoff - INTERVAL {w} DAY THEN {w}" for w in windows)
    cls = f"CASE {classes} ELSE {OUTSIDE} END" if windows else str(OUTSIDE)
    partial_cols = ", ".join(f"bk.{alias}" for alias in b.partials.values())
    by_aggregate = {s.name: s for s in aggregates}
    # BtydSpec columns are fitted after the query (features.btyd_features)
    sql_specs = [s for s in specs if isinstance(s, AggregateSpec | TrendSpec | NpsCategorySpec)]
    outer = [f"a.{quote(s.name)}" if isinstance(s, AggregateSpec)
             else f"{_composite(s, by_aggregate)} AS {quote(s.name)}" for s in sql_specs]
    statics = [f"cu.{quote(c)}" for c in static]
    tenure = (f"CAST((EPOCH(a.cutoff) - EPOCH(cu.signup_date)) / {SECONDS_PER_DAY} AS DOUBLE) "
              f"AS {TENURE}")
    sql = f"""WITH
cut AS (SELECT DISTINCT customer_id, cutoff FROM {CUTOFFS_TABLE}),
evs AS (
  {events}
),
evl AS (
  SELECT evs.*, CAST(CASE {interval} ELSE $edge_floor END AS TIMESTAMPTZ) AS lo
  FROM evs
),
ev AS (
  SELECT {', '.join(['evl.*', *weights])}
  FROM evl
),
bk AS (
  SELECT ev.customer_id, ev.lo,
    {partials}
  FROM ev
  GROUP BY 1, 2
),
pr AS (
  SELECT c.customer_id, c.cutoff, {cls} AS cls, bk.lo, {partial_cols}
  FROM cut c LEFT JOIN bk ON bk.customer_id = c.customer_id AND bk.lo < c.cutoff
),
a AS (
  SELECT pr.customer_id, pr.cutoff,
    {(',' + chr(10) + '    ').join(combined)}
  FROM pr
  GROUP BY pr.customer_id, pr.cutoff
)
SELECT a.customer_id, a.cutoff, {', '.join([*statics, tenure, *outer])}
FROM a LEFT JOIN {CUSTOMERS_TABLE} cu ON cu.customer_id = a.customer_id
ORDER BY a.customer_id, a.cutoff"""
    feature_columns = (*static, TENURE, *(s.name for s in sql_specs))
    return CompiledQuery(sql=sql, params=b.params,
                         columns=(schema.CUSTOMER_ID, schema.CUTOFF, *feature_columns),
                         feature_columns=feature_columns)

"""Feature specs as data: one frozen dataclass per feature, validated, versioned.

Why data and not code: the same spec set compiles to DuckDB SQL for training and batch
scoring, to Spark SQL later, and is logged with the model, so a feature is defined once and
training and serving cannot drift apart. :func:`spec_version` is the hash the model carries.

Point-in-time rule (stated once, here, and enforced by ``features.compile``): a feature at
cutoff ``c`` sees only events with ``event_time < c``; a windowed feature sees
``c - window_days <= event_time < c``. An event exactly at the cutoff belongs to the label.

Kinds of spec:

* ``aggregate``: an aggregation over the customer's events of ``event_types`` (optionally
  filtered by a numeric condition, a channel or a text signal) inside the window.
* ``trend``: combines two aggregate specs (``inputs``) by ``op`` (ratio, difference or
  rate_ratio = ratio of per-day rates, so a 30-day and a 180-day count compare fairly).
* ``nps_category``: detractor (0-6) / passive (7-8) / promoter (9-10) from a last-NPS spec.

Decayed aggregations (``decayed_sum``, ``decayed_mean``) weigh each event by
``0.5 ** (age_days / half_life_days)``, age measured back from the cutoff. Why: experiences
fade. A late parcel yesterday hurts more than one two months ago, and a hard window (it counts
fully on day 89 and not at all on day 91) mirrors that badly; a decayed sum tracks the
customer's current mood with one number. ``cap`` and ``power`` shape the value before it is
weighed (``min(value, cap) ** power``), for effects that grow slower than the raw measure
(a 6-day delay does not hurt six times as much as a 1-day delay).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from cxchurn.errors import ConfigError
from features import schema
from features.text_signals import LEXICONS

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
KINDS = ("aggregate", "trend", "nps_category")
FAMILIES = ("rfm", "windowed", "trend", "cx", "friction", "delivery", "channel", "text")
AGGREGATIONS = ("count", "sum", "mean", "min", "max", "last", "days_since_last", "share",
                "change", "decayed_sum", "decayed_mean")
# Aggregations that read a value column; the others count events or read their time.
# decayed_sum reads one if given (a decayed sum of values) and counts events otherwise.
VALUE_AGGREGATIONS = ("sum", "mean", "min", "max", "last", "change", "decayed_mean")
DECAYED_AGGREGATIONS = ("decayed_sum", "decayed_mean")
MIN_HALF_LIFE_DAYS = 1.0
VALUE_COLUMNS = ("amount", "score", "duration")
OPERATORS = (">", ">=", "<", "<=", "=", "!=")
TREND_OPS = ("ratio", "difference", "rate_ratio")
MAX_WINDOW_DAYS = 3650


@dataclass(frozen=True)
class Filter:
    """A numeric condition on one value column, e.g. ``duration > 0`` (a late delivery)."""

    column: str
    op: str
    value: float


@dataclass(frozen=True)
class FeatureSpec:
    """One feature, declared. See the module docstring for the point-in-time rule."""

    name: str
    description: str
    family: str
    kind: str = "aggregate"
    event_types: tuple[str, ...] = ()
    aggregation: str | None = None
    column: str | None = None
    window_days: int | None = None
    filter: Filter | None = None
    channel: str | None = None
    text_signal: str | None = None
    inputs: tuple[str, ...] = ()
    op: str | None = None
    monotone: int = 0
    half_life_days: float | None = None
    cap: float | None = None
    power: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON/YAML-ready), default-valued fields left out to keep files short."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value in (None, (), 0):
                continue
            out[key] = list(value) if isinstance(value, tuple) else value
        return out


def _bad(spec_name: str, what: str, got: object, allowed: Iterable[object],
         fix: str = "") -> ConfigError:
    allowed_text = ", ".join(repr(a) for a in allowed)
    return ConfigError(f"feature spec {spec_name!r}: {what} must be one of [{allowed_text}]; "
                       f"got {got!r}.{(' ' + fix) if fix else ''}")


def _validate_aggregate(spec: FeatureSpec) -> None:
    n = spec.name
    if not spec.event_types:
        raise ConfigError(f"feature spec {n!r}: event_types must list at least one event type "
                          f"from features/schema.py; got none.")
    for et in spec.event_types:
        if et not in schema.EVENT_TYPES:
            raise _bad(n, "each event type", et, schema.EVENT_TYPES)
    if spec.aggregation not in AGGREGATIONS:
        raise _bad(n, "aggregation", spec.aggregation, AGGREGATIONS)
    if spec.aggregation in VALUE_AGGREGATIONS:
        if spec.column not in VALUE_COLUMNS:
            raise _bad(n, f"column (needed by aggregation {spec.aggregation!r})", spec.column,
                       VALUE_COLUMNS)
    elif spec.column is not None and spec.aggregation != "decayed_sum":
        raise ConfigError(f"feature spec {n!r}: aggregation {spec.aggregation!r} reads no value "
                          f"column; got column={spec.column!r}. Remove the column.")
    elif spec.column is not None and spec.column not in VALUE_COLUMNS:
        raise _bad(n, "column", spec.column, VALUE_COLUMNS)
    _validate_decay(spec)
    if spec.window_days is not None and (
        isinstance(spec.window_days, bool) or not isinstance(spec.window_days, int)
        or not 1 <= spec.window_days <= MAX_WINDOW_DAYS
    ):
        raise ConfigError(f"feature spec {n!r}: window_days must be a whole number of days in "
                          f"1..{MAX_WINDOW_DAYS} or null (all history); got {spec.window_days!r}.")
    if spec.filter is not None:
        f = spec.filter
        if f.column not in VALUE_COLUMNS:
            raise _bad(n, "filter column", f.column, VALUE_COLUMNS)
        if f.op not in OPERATORS:
            raise _bad(n, "filter operator", f.op, OPERATORS)
        if isinstance(f.value, bool) or not isinstance(f.value, int | float) \
                or not math.isfinite(f.value):
            raise ConfigError(f"feature spec {n!r}: filter value must be a finite number; "
                              f"got {f.value!r}.")
    if spec.channel is not None and spec.channel not in schema.CHANNELS:
        raise _bad(n, "channel", spec.channel, schema.CHANNELS)
    if spec.text_signal is not None and spec.text_signal not in LEXICONS:
        raise _bad(n, "text_signal", spec.text_signal, sorted(LEXICONS))
    if spec.aggregation == "share" and spec.filter is None and spec.channel is None \
            and spec.text_signal is None:
        raise ConfigError(f"feature spec {n!r}: a 'share' needs a filter, channel or text_signal "
                          f"(the share of matching events among all {list(spec.event_types)}); "
                          f"got none, which would always be 1.")
    if spec.aggregation == "change" and (
        len(spec.event_types) != 1 or spec.filter or spec.channel or spec.text_signal
        or spec.window_days is not None
    ):
        raise ConfigError(f"feature spec {n!r}: 'change' (last minus previous value) needs "
                          f"exactly one event type, all history (no window_days) and no "
                          f"filter, channel or text_signal; got event_types="
                          f"{list(spec.event_types)}, window_days={spec.window_days!r}.")
    if spec.inputs or spec.op:
        raise ConfigError(f"feature spec {n!r}: inputs/op belong to 'trend' specs; got "
                          f"inputs={list(spec.inputs)}, op={spec.op!r} on an aggregate.")


def _finite_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) \
        and math.isfinite(value)


def _validate_decay(spec: FeatureSpec) -> None:
    """half_life_days belongs to (and is needed by) the decayed aggregations; cap/power too."""
    n, decayed = spec.name, spec.aggregation in DECAYED_AGGREGATIONS
    if not decayed:
        given = {k: v for k, v in (("half_life_days", spec.half_life_days), ("cap", spec.cap),
                                   ("power", spec.power)) if v is not None}
        if given:
            raise ConfigError(f"feature spec {n!r}: {sorted(given)} belong to the decayed "
                              f"aggregations {list(DECAYED_AGGREGATIONS)}; got aggregation "
                              f"{spec.aggregation!r}. Remove them or use a decayed aggregation.")
        return
    hl = spec.half_life_days
    if not (_finite_number(hl) and MIN_HALF_LIFE_DAYS <= hl <= MAX_WINDOW_DAYS):  # type: ignore
        raise ConfigError(f"feature spec {n!r}: {spec.aggregation} needs half_life_days, a "
                          f"number of days in {MIN_HALF_LIFE_DAYS:g}..{MAX_WINDOW_DAYS}; got "
                          f"{hl!r}.")
    if (spec.cap is not None or spec.power is not None) and spec.column is None:
        raise ConfigError(f"feature spec {n!r}: cap/power shape a value column; set column "
                          f"(one of {list(VALUE_COLUMNS)}) or remove cap/power.")
    if spec.cap is not None and not _finite_number(spec.cap):
        raise ConfigError(f"feature spec {n!r}: cap must be a finite number; got {spec.cap!r}.")
    if spec.power is not None and (not _finite_number(spec.power) or spec.power <= 0):
        raise ConfigError(f"feature spec {n!r}: power must be a finite number above 0; got "
                          f"{spec.power!r}.")


def validate_specs(specs: Sequence[FeatureSpec]) -> tuple[FeatureSpec, ...]:
    """Check every spec and the set as a whole; raise ConfigError naming the spec and fix."""
    by_name: dict[str, FeatureSpec] = {}
    for spec in specs:
        if not isinstance(spec.name, str) or not NAME_PATTERN.match(spec.name):
            raise ConfigError(f"feature spec name must match {NAME_PATTERN.pattern} (lower case, "
                              f"digits, underscores); got {spec.name!r}.")
        if spec.name in by_name:
            raise ConfigError(f"feature spec {spec.name!r} is defined twice; names must be "
                              f"unique.")
        if spec.family not in FAMILIES:
            raise _bad(spec.name, "family", spec.family, FAMILIES)
        if spec.kind not in KINDS:
            raise _bad(spec.name, "kind", spec.kind, KINDS)
        if spec.monotone not in (-1, 0, 1):
            raise _bad(spec.name, "monotone", spec.monotone, (-1, 0, 1))
        if not spec.description.strip():
            raise ConfigError(f"feature spec {spec.name!r}: description must say in plain words "
                              f"what the feature measures; got an empty description.")
        if spec.kind == "aggregate":
            _validate_aggregate(spec)
        by_name[spec.name] = spec
    for spec in specs:
        if spec.kind == "aggregate":
            continue
        wanted = 2 if spec.kind == "trend" else 1
        if len(spec.inputs) != wanted:
            raise ConfigError(f"feature spec {spec.name!r}: kind {spec.kind!r} needs {wanted} "
                              f"input spec name(s); got {list(spec.inputs)}.")
        for name in spec.inputs:
            ref = by_name.get(name)
            if ref is None or ref.kind != "aggregate":
                raise ConfigError(f"feature spec {spec.name!r}: input {name!r} must be the name "
                                  f"of an aggregate spec in the same set; got "
                                  f"{'a ' + ref.kind if ref else 'an unknown name'}.")
        if spec.kind == "trend" and spec.op not in TREND_OPS:
            raise _bad(spec.name, "op", spec.op, TREND_OPS)
        if spec.kind == "trend" and spec.op == "rate_ratio" and any(
            by_name[i].window_days is None for i in spec.inputs
        ):
            raise ConfigError(f"feature spec {spec.name!r}: rate_ratio needs windowed inputs "
                              f"(window_days set); got an all-history input.")
        if spec.kind == "nps_category":
            ref = by_name[spec.inputs[0]]
            if ref.aggregation != "last" or ref.event_types != ("survey_nps",):
                raise ConfigError(f"feature spec {spec.name!r}: nps_category reads a 'last' "
                                  f"survey_nps score spec; got {ref.name!r} "
                                  f"({ref.aggregation} of {list(ref.event_types)}).")
    return tuple(specs)


def spec_from_dict(data: dict[str, Any]) -> FeatureSpec:
    """Build one spec from plain data (as in a JSON/YAML file)."""
    known = set(FeatureSpec.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"feature spec {data.get('name')!r}: unknown field(s) {unknown}; "
                          f"allowed: {sorted(known)}.")
    kwargs = dict(data)
    for key in ("event_types", "inputs"):
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key] or ())
    if kwargs.get("filter") is not None:
        flt = kwargs["filter"]
        if not isinstance(flt, dict) or set(flt) != {"column", "op", "value"}:
            raise ConfigError(f"feature spec {data.get('name')!r}: filter must be a mapping "
                              f"with column, op and value; got {flt!r}.")
        kwargs["filter"] = Filter(**flt)
    try:
        return FeatureSpec(**kwargs)
    except TypeError as err:
        raise ConfigError(f"feature spec {data.get('name')!r}: {err}") from err


def load_specs(path: str | Path) -> tuple[FeatureSpec, ...]:
    """Read and validate a spec set from a JSON or YAML file (a list, or {'specs': [...]})."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read feature spec file {str(path)!r}: {err}.") from err
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if isinstance(data, dict):
        data = data.get("specs")
    if not isinstance(data, list):
        raise ConfigError(f"feature spec file {str(path)!r} must hold a list of specs (or a "
                          f"mapping with key 'specs'); got {type(data).__name__}.")
    return validate_specs([spec_from_dict(item) for item in data])


def specs_to_data(specs: Sequence[FeatureSpec]) -> list[dict[str, Any]]:
    return [spec.to_dict() for spec in specs]


def dump_specs(specs: Sequence[FeatureSpec], path: str | Path) -> Path:
    """Write a spec set as JSON or YAML (by suffix), with its version, so it reloads exactly."""
    path = Path(path)
    doc = {"version": spec_version(specs), "specs": specs_to_data(specs)}
    if path.suffix == ".json":
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
                        encoding="utf-8")
    return path


def spec_version(specs: Sequence[FeatureSpec]) -> str:
    """A stable short hash of the spec set (order-independent; descriptions included)."""
    canonical = json.dumps(sorted(specs_to_data(specs), key=lambda d: d["name"]),
                           sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# The default spec set, as data. Helpers below only expand windows; every entry is a spec.

def _agg(name: str, description: str, family: str, event_types: Sequence[str], aggregation: str,
         *, column: str | None = None, window: int | None = None, flt: Filter | None = None,
         channel: str | None = None, text: str | None = None, monotone: int = 0,
         half_life: float | None = None, cap: float | None = None,
         power: float | None = None) -> FeatureSpec:
    return FeatureSpec(name=name, description=description, family=family,
                       event_types=tuple(event_types), aggregation=aggregation, column=column,
                       window_days=window, filter=flt, channel=channel, text_signal=text,
                       monotone=monotone, half_life_days=half_life, cap=cap, power=power)


def _windows(stem: str, description: str, windows: Sequence[int], *args: Any,
             **kwargs: Any) -> list[FeatureSpec]:
    return [_agg(f"{stem}_{w}d", f"{description} in the last {w} days", *args, window=w, **kwargs)
            for w in windows]


def _trend(name: str, description: str, recent: str, baseline: str, op: str) -> FeatureSpec:
    return FeatureSpec(name=name, description=description, family="trend", kind="trend",
                       inputs=(recent, baseline), op=op)


_LATE = Filter("duration", ">", 0.0)
_SLOW = Filter("duration", ">", 48.0)
# Half-life of a bad (or good) experience's effect on how a customer feels: about two months.
# Chosen to match the synthetic world's satisfaction dynamics (features/simulate_truth.py,
# DAMAGE_DECAY: 1 - 1/90 a day); for real data it is a reasonable prior that a tuned spec
# file can change.
FADE_DAYS = 62.0
_ACTIVE = schema.ACTIVITY_EVENT_TYPES


def _default_specs() -> tuple[FeatureSpec, ...]:
    s: list[FeatureSpec] = []
    # recency / frequency / monetary
    s += [
        _agg("days_since_last_order", "days since the last order", "rfm", ["order"],
             "days_since_last", monotone=1),
        _agg("days_since_last_session", "days since the last web or app session", "rfm",
             ["session"], "days_since_last", monotone=1),
        _agg("days_since_last_activity", "days since the customer was last active", "rfm",
             _ACTIVE, "days_since_last", monotone=1),
        _agg("orders_total", "number of orders ever", "rfm", ["order"], "count"),
        _agg("order_value_total", "total value of all orders ever", "rfm", ["order"], "sum",
             column="amount"),
    ]
    s += _windows("orders", "number of orders", (7, 30, 90, 180), "windowed", ["order"], "count",
                  monotone=-1)
    s += _windows("order_value", "total order value", (30, 90, 180), "windowed", ["order"],
                  "sum", column="amount")
    s += _windows("order_value_mean", "average order value", (90, 180), "windowed", ["order"],
                  "mean", column="amount")
    s += [_agg("order_value_max_180d", "largest order value in the last 180 days", "windowed",
               ["order"], "max", column="amount", window=180)]
    s += _windows("returns", "number of returns", (30, 90, 180), "windowed", ["return"], "count")
    s += _windows("return_value", "value of returned goods", (90,), "windowed", ["return"], "sum",
                  column="amount")
    s += _windows("sessions", "number of web or app sessions", (7, 30, 90, 180), "windowed",
                  ["session"], "count", monotone=-1)
    s += [_agg("sessions_decayed", "web or app sessions, recent ones weighing more", "windowed",
               ["session"], "decayed_sum", half_life=30.0,
               monotone=-1),
          _agg("email_opens_decayed", "marketing emails opened, recent ones weighing more",
               "windowed", ["email_open"], "decayed_sum",
               half_life=FADE_DAYS, monotone=-1)]
    s += _windows("session_minutes", "minutes spent in sessions", (30, 90), "windowed",
                  ["session"], "sum", column="duration")
    s += _windows("email_opens", "number of marketing emails opened", (30, 90), "windowed",
                  ["email_open"], "count")
    s += _windows("active_events", "number of activity events", (30, 90), "windowed", _ACTIVE,
                  "count")
    # trends: recent versus earlier
    s += [
        _trend("orders_trend_30_180", "order rate in the last 30 days versus the last 180 days",
               "orders_30d", "orders_180d", "rate_ratio"),
        _trend("sessions_trend_30_90", "session rate in the last 30 days versus the last 90 days",
               "sessions_30d", "sessions_90d", "rate_ratio"),
        _trend("order_value_trend_30_180",
               "spending rate in the last 30 days versus the last 180 days",
               "order_value_30d", "order_value_180d", "rate_ratio"),
        _trend("activity_trend_30_90", "activity rate in the last 30 days versus the last 90 days",
               "active_events_30d", "active_events_90d", "rate_ratio"),
        _trend("csat_trend_30_180",
               "average CSAT in the last 30 days minus the average over the last 180 days",
               "csat_mean_30d", "csat_mean_180d", "difference"),
    ]
    # CX metrics
    s += [
        _agg("nps_last", "the last NPS score given", "cx", ["survey_nps"], "last",
             column="score", monotone=-1),
        FeatureSpec(name="nps_category", description="detractor, passive or promoter, from the "
                    "last NPS score", family="cx", kind="nps_category", inputs=("nps_last",)),
        _agg("nps_change", "the last NPS score minus the one before it", "cx", ["survey_nps"],
             "change", column="score"),
        _agg("days_since_last_nps", "days since the last NPS answer", "cx", ["survey_nps"],
             "days_since_last"),
        _agg("nps_mean_180d", "average NPS score in the last 180 days", "cx", ["survey_nps"],
             "mean", column="score", window=180, monotone=-1),
        _agg("nps_detractor_answers_180d", "NPS answers of 6 or less in the last 180 days", "cx",
             ["survey_nps"], "count", window=180, flt=Filter("score", "<=", 6.0), monotone=1),
        _agg("csat_last", "the last CSAT score given", "cx", ["survey_csat"], "last",
             column="score", monotone=-1),
        _agg("csat_min_180d", "lowest CSAT score in the last 180 days", "cx", ["survey_csat"],
             "min", column="score", window=180),
        _agg("ces_last", "the last customer effort score given", "cx", ["survey_ces"], "last",
             column="score", monotone=1),
        _agg("nps_decayed_mean", "average NPS score, recent answers weighing more", "cx",
             ["survey_nps"], "decayed_mean", column="score",
             half_life=FADE_DAYS, monotone=-1),
        _agg("csat_decayed_mean", "average CSAT score, recent answers weighing more", "cx",
             ["survey_csat"], "decayed_mean", column="score",
             half_life=FADE_DAYS, monotone=-1),
    ]
    s += _windows("csat_mean", "average CSAT score", (30, 90, 180), "cx", ["survey_csat"], "mean",
                  column="score", monotone=-1)
    s += _windows("ces_mean", "average customer effort score", (90, 180), "cx", ["survey_ces"],
                  "mean", column="score")
    # service friction
    s += _windows("tickets", "number of support tickets", (7, 30, 90, 180), "friction",
                  ["support_ticket"], "count")
    s += _windows("ticket_hours_mean", "average hours to resolve a support ticket", (30, 90),
                  "friction", ["support_ticket"], "mean", column="duration", monotone=1)
    s += [_agg("ticket_hours_max_90d", "longest hours to resolve a ticket in the last 90 days",
               "friction", ["support_ticket"], "max", column="duration", window=90, monotone=1),
          _agg("slow_tickets_90d", "tickets that took over 48 hours to resolve in the last 90 "
               "days", "friction", ["support_ticket"], "count", window=90,
               flt=Filter("duration", ">", 48.0), monotone=1)]
    s += _windows("reopenings", "support tickets reopened", (30, 90), "friction",
                  ["ticket_reopened"], "count", monotone=1)
    s += _windows("complaints", "formal complaints", (30, 90, 180), "friction", ["complaint"],
                  "count", monotone=1)
    s += [_agg("days_since_last_complaint", "days since the last formal complaint", "friction",
               ["complaint"], "days_since_last")]
    # fading damage: what a bad experience still weighs today (see FADE_DAYS)
    # Short, because the retention page shows it as a reason; the half-life is in the spec.
    fading = "recent ones weighing more"
    s += [
        _agg("ticket_damage", f"support tickets, {fading}", "friction", ["support_ticket"],
             "decayed_sum", half_life=FADE_DAYS, monotone=1),
        _agg("slow_ticket_damage", "support tickets that took over 48 hours, longer waits "
             f"and {fading}", "friction",
             ["support_ticket"], "decayed_sum", column="duration", flt=_SLOW,
             half_life=FADE_DAYS, cap=144.0, power=0.5, monotone=1),
        _agg("reopening_damage", f"support tickets reopened, {fading}", "friction",
             ["ticket_reopened"], "decayed_sum", half_life=FADE_DAYS, monotone=1),
        _agg("complaint_damage", f"formal complaints, {fading}", "friction", ["complaint"],
             "decayed_sum", half_life=FADE_DAYS, monotone=1),
        _agg("payment_failure_damage", f"failed payments, {fading}", "friction",
             ["payment_failed"], "decayed_sum", half_life=FADE_DAYS, monotone=1),
        _agg("days_since_last_payment_failure", "days since the last failed payment", "friction",
             ["payment_failed"], "days_since_last", monotone=-1),
        _agg("price_rise_damage", f"monthly price rises (amount), {fading}", "friction",
             ["price_change"], "decayed_sum", column="amount", flt=Filter("amount", ">", 0.0),
             half_life=FADE_DAYS, monotone=1),
        _agg("price_cut_relief", f"monthly price cuts (negative amount), {fading}", "friction",
             ["price_change"], "decayed_sum", column="amount", flt=Filter("amount", "<", 0.0),
             half_life=FADE_DAYS, monotone=1),
        _agg("price_change_total", "current monthly price minus the price at signup (all price "
             "changes ever)", "friction", ["price_change"], "sum", column="amount", monotone=1),
    ]
    s += _windows("payment_failures", "failed payments", (30, 90), "friction",
                  ["payment_failed"], "count", monotone=1)
    s += [_agg("price_rises_180d", "price rises in the last 180 days", "friction",
               ["price_change"], "count", window=180, flt=Filter("amount", ">", 0.0), monotone=1),
          _agg("price_change_180d", "total monthly price change in the last 180 days", "friction",
               ["price_change"], "sum", column="amount", window=180, monotone=1)]
    # delivery experience
    s += _windows("deliveries", "number of deliveries", (30, 90), "delivery", ["delivery"],
                  "count")
    s += _windows("late_deliveries", "late deliveries", (30, 90, 180), "delivery", ["delivery"],
                  "count", flt=_LATE, monotone=1)
    s += _windows("late_share", "share of deliveries that arrived late", (90, 180), "delivery",
                  ["delivery"], "share", flt=_LATE, monotone=1)
    s += _windows("delivery_delay_mean", "average delivery delay in days", (90, 180), "delivery",
                  ["delivery"], "mean", column="duration", monotone=1)
    s += [_agg("delivery_delay_max_90d", "longest delivery delay in days in the last 90 days",
               "delivery", ["delivery"], "max", column="duration", window=90, monotone=1),
          _agg("late_delivery_damage", "late deliveries, longer delays (up to 6 days) and recent "
               "ones weighing more", "delivery", ["delivery"],
               "decayed_sum", column="duration", flt=_LATE, half_life=FADE_DAYS, cap=6.0,
               power=0.6, monotone=1)]
    # channel mix
    s += [_agg(f"channel_share_{ch}_90d", f"share of activity through {ch.replace('_', ' ')} "
               f"in the last 90 days", "channel", _ACTIVE, "share", window=90, channel=ch)
          for ch in schema.CHANNELS]
    # text feedback
    s += _windows("feedback", "free-text feedback messages", (90,), "text", ["feedback"], "count")
    s += _windows("negative_feedback", "feedback messages with negative words", (30, 90, 180),
                  "text", ["feedback"], "count", text="negative", monotone=1)
    s += [_agg("negative_feedback_share_180d", "share of feedback messages with negative words "
               "in the last 180 days", "text", ["feedback"], "share", window=180,
               text="negative", monotone=1),
          _agg("positive_feedback_90d", "feedback messages with positive words in the last 90 "
               "days", "text", ["feedback"], "count", window=90, text="positive")]
    return validate_specs(s)


DEFAULT_SPECS: tuple[FeatureSpec, ...] = _default_specs()

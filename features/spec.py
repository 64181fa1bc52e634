"""Feature specs as data: one frozen dataclass per feature, validated, versioned.

Why data and not code: the same spec set compiles to DuckDB SQL for training and batch
scoring, to Spark SQL later, and is logged with the model, so a feature is defined once and
training and serving cannot drift apart. :func:`spec_version` is the hash the model carries.

Point-in-time rule (stated once, here, and enforced by ``features.compile``): a feature at
cutoff ``c`` sees only events with ``event_time < c``; a windowed feature sees
``c - window_days <= event_time < c``. An event exactly at the cutoff belongs to the label.

Kinds of spec, one frozen dataclass each; ``FeatureSpec`` is any of them. A spec checks its
own fields when it is built (raising ``ConfigError``); ``validate_specs`` checks the set:

* ``AggregateSpec``: an aggregation over the customer's events of ``event_types`` (optionally
  filtered by a numeric condition, a channel or a text signal) inside the window.
* ``TrendSpec``: two aggregate specs (``inputs``) combined by ``op`` (ratio, difference or
  rate_ratio = ratio of per-day rates, so a 30-day and a 180-day count compare fairly).
* ``NpsCategorySpec``: detractor (0-6) / passive (7-8) / promoter (9-10) from a last-NPS spec.
* ``BtydSpec``: a derived purchase-process figure (BG/NBD P(alive), or expected purchases in
  ``horizon_days``), fitted at each cutoff on every customer's purchases before it
  (``features.btyd_features``): not SQL, but declared like the others and point-in-time.

The purchase-history aggregations (``repeat_count``, ``days_since_first``, ``active_span``,
``gap_mean``, ``gap_cv``) are the BTYD statistics: repeat purchases (frequency), days from the
first to the last purchase (BTYD recency), days since the first purchase (age T), and the mean
and coefficient of variation of the days between consecutive purchases (pace and regularity).
They read one event type over all history.

As data (``to_dict`` / ``spec_from_dict``, JSON or YAML files), a spec is a mapping with its
``kind`` and every field that differs from its default; reading it back gives an equal spec.
The default spec set lives in ``features.default_specs``.

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
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeAlias, get_args

import yaml

from cxchurn.errors import ConfigError
from features import schema
from features.spec_yaml import to_yaml
from features.text_signals import LEXICONS

Kind: TypeAlias = Literal["aggregate", "trend", "nps_category", "btyd"]
Family: TypeAlias = Literal["rfm", "windowed", "trend", "cx", "friction", "delivery", "channel",
                            "text"]
Aggregation: TypeAlias = Literal["count", "sum", "mean", "min", "max", "last", "days_since_last",
                                 "share", "change", "decayed_sum", "decayed_mean",
                                 "repeat_count", "days_since_first", "active_span", "gap_mean",
                                 "gap_cv"]
ValueColumn: TypeAlias = Literal["amount", "score", "duration"]
Operator: TypeAlias = Literal[">", ">=", "<", "<=", "=", "!="]
TrendOp: TypeAlias = Literal["ratio", "difference", "rate_ratio"]
Monotone: TypeAlias = Literal[-1, 0, 1]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
KINDS: tuple[Kind, ...] = get_args(Kind)
FAMILIES: tuple[Family, ...] = get_args(Family)
AGGREGATIONS: tuple[Aggregation, ...] = get_args(Aggregation)
# Aggregations that read a value column; the others count events or read their time.
# decayed_sum reads one if given (a decayed sum of values) and counts events otherwise.
VALUE_AGGREGATIONS = ("sum", "mean", "min", "max", "last", "change", "decayed_mean")
DECAYED_AGGREGATIONS = ("decayed_sum", "decayed_mean")
HISTORY_AGGREGATIONS = ("repeat_count", "days_since_first", "active_span", "gap_mean", "gap_cv")
BtydOutput: TypeAlias = Literal["p_alive", "expected_purchases"]
BTYD_OUTPUTS: tuple[BtydOutput, ...] = get_args(BtydOutput)
MIN_HALF_LIFE_DAYS = 1.0
VALUE_COLUMNS: tuple[ValueColumn, ...] = get_args(ValueColumn)
OPERATORS: tuple[Operator, ...] = get_args(Operator)
TREND_OPS: tuple[TrendOp, ...] = get_args(TrendOp)
MONOTONE: tuple[Monotone, ...] = get_args(Monotone)
MAX_WINDOW_DAYS = 3650
# Keys of a spec as data, in the order files list them ("kind" tells which dataclass).
FILE_FIELDS = ("name", "description", "family", "kind", "event_types", "aggregation", "column",
               "window_days", "filter", "channel", "text_signal", "inputs", "op", "monotone",
               "half_life_days", "cap", "power", "output", "horizon_days")


@dataclass(frozen=True)
class Filter:
    """A numeric condition on one value column, e.g. ``duration > 0`` (a late delivery);
    checked by the aggregate spec that holds it, so its errors name the spec."""

    column: ValueColumn
    op: Operator
    value: float


def _bad(spec_name: str, what: str, got: object, allowed: Iterable[object],
         fix: str = "") -> ConfigError:
    allowed_text = ", ".join(repr(a) for a in allowed)
    return ConfigError(f"feature spec {spec_name!r}: {what} must be one of [{allowed_text}]; "
                       f"got {got!r}.{(' ' + fix) if fix else ''}")


def _finite_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) \
        and math.isfinite(value)


@dataclass(frozen=True, kw_only=True)
class _BaseSpec:
    """What every kind declares; subclasses add their fields and ``_check`` them."""

    kind: ClassVar[Kind]
    name: str
    description: str
    family: Family
    monotone: Monotone = 0

    def __post_init__(self) -> None:
        for key in ("event_types", "inputs"):  # lists (as read from files) become tuples
            if isinstance(getattr(self, key, None), list):
                object.__setattr__(self, key, tuple(getattr(self, key)))
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            raise ConfigError(f"feature spec name must match {NAME_PATTERN.pattern} (lower case, "
                              f"digits, underscores); got {self.name!r}.")
        if self.family not in FAMILIES:
            raise _bad(self.name, "family", self.family, FAMILIES)
        if self.monotone not in MONOTONE:
            raise _bad(self.name, "monotone", self.monotone, MONOTONE)
        if not isinstance(self.description, str) or not self.description.strip():
            raise ConfigError(f"feature spec {self.name!r}: description must say in plain words "
                              f"what the feature measures; got an empty description.")
        self._check()

    def _check(self) -> None:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON/YAML-ready): the kind and every field that differs from its default
        (``None``, monotone 0), so nothing is lost: a ``cap`` of 0.0 is kept."""
        values: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.default is not MISSING and type(value) is type(f.default) \
                    and value == f.default:
                continue
            plain = asdict(value) if isinstance(value, Filter) else value
            values[f.name] = list(plain) if isinstance(plain, tuple) else plain
        return {key: values[key] for key in FILE_FIELDS if key in values}


@dataclass(frozen=True, kw_only=True)
class AggregateSpec(_BaseSpec):
    """An aggregation over the customer's events of some types, in a window or all history."""

    kind: ClassVar[Literal["aggregate"]] = "aggregate"
    event_types: tuple[str, ...]
    aggregation: Aggregation
    column: ValueColumn | None = None
    window_days: int | None = None
    filter: Filter | None = None
    channel: str | None = None
    text_signal: str | None = None
    half_life_days: float | None = None
    cap: float | None = None
    power: float | None = None

    def _check(self) -> None:
        n = self.name
        if not self.event_types:
            raise ConfigError(f"feature spec {n!r}: event_types must list at least one event "
                              f"type from features/schema.py; got none.")
        for et in self.event_types:
            if et not in schema.EVENT_TYPES:
                raise _bad(n, "each event type", et, schema.EVENT_TYPES)
        if self.aggregation not in AGGREGATIONS:
            raise _bad(n, "aggregation", self.aggregation, AGGREGATIONS)
        if self.aggregation in VALUE_AGGREGATIONS:
            if self.column not in VALUE_COLUMNS:
                raise _bad(n, f"column (needed by aggregation {self.aggregation!r})",
                           self.column, VALUE_COLUMNS)
        elif self.column is not None and self.aggregation != "decayed_sum":
            raise ConfigError(f"feature spec {n!r}: aggregation {self.aggregation!r} reads no "
                              f"value column; got column={self.column!r}. Remove the column.")
        elif self.column is not None and self.column not in VALUE_COLUMNS:
            raise _bad(n, "column", self.column, VALUE_COLUMNS)
        self._check_decay()
        if self.window_days is not None and (
            isinstance(self.window_days, bool) or not isinstance(self.window_days, int)
            or not 1 <= self.window_days <= MAX_WINDOW_DAYS
        ):
            raise ConfigError(f"feature spec {n!r}: window_days must be a whole number of days "
                              f"in 1..{MAX_WINDOW_DAYS} or null (all history); got "
                              f"{self.window_days!r}.")
        self._check_match()
        if self.aggregation in ("change", *HISTORY_AGGREGATIONS) and (
            len(self.event_types) != 1 or self.filter or self.channel or self.text_signal
            or self.window_days is not None
        ):
            raise ConfigError(f"feature spec {n!r}: {self.aggregation!r} needs "
                              f"exactly one event type, all history (no window_days) and no "
                              f"filter, channel or text_signal; got event_types="
                              f"{list(self.event_types)}, window_days={self.window_days!r}.")

    def _check_match(self) -> None:
        """The filter, channel and text signal that select the matching events."""
        n, f = self.name, self.filter
        if f is not None:
            if not isinstance(f, Filter):
                raise ConfigError(f"feature spec {n!r}: filter must be a Filter(column, op, "
                                  f"value); got {f!r}.")
            if f.column not in VALUE_COLUMNS:
                raise _bad(n, "filter column", f.column, VALUE_COLUMNS)
            if f.op not in OPERATORS:
                raise _bad(n, "filter operator", f.op, OPERATORS)
            if not _finite_number(f.value):
                raise ConfigError(f"feature spec {n!r}: filter value must be a finite number; "
                                  f"got {f.value!r}.")
        if self.channel is not None and self.channel not in schema.CHANNELS:
            raise _bad(n, "channel", self.channel, schema.CHANNELS)
        if self.text_signal is not None and self.text_signal not in LEXICONS:
            raise _bad(n, "text_signal", self.text_signal, sorted(LEXICONS))
        if self.aggregation == "share" and f is None and self.channel is None \
                and self.text_signal is None:
            raise ConfigError(f"feature spec {n!r}: a 'share' needs a filter, channel or "
                              f"text_signal (the share of matching events among all "
                              f"{list(self.event_types)}); got none, which would always be 1.")

    def _check_decay(self) -> None:
        """half_life_days belongs to (and is needed by) the decayed aggregations; cap/power too."""
        n = self.name
        if self.aggregation not in DECAYED_AGGREGATIONS:
            given = {k: v for k, v in (("half_life_days", self.half_life_days),
                                       ("cap", self.cap), ("power", self.power)) if v is not None}
            if given:
                raise ConfigError(f"feature spec {n!r}: {sorted(given)} belong to the decayed "
                                  f"aggregations {list(DECAYED_AGGREGATIONS)}; got aggregation "
                                  f"{self.aggregation!r}. Remove them or use a decayed "
                                  f"aggregation.")
            return
        hl = self.half_life_days
        if not (_finite_number(hl) and MIN_HALF_LIFE_DAYS <= hl <= MAX_WINDOW_DAYS):  # type: ignore
            raise ConfigError(f"feature spec {n!r}: {self.aggregation} needs half_life_days, a "
                              f"number of days in {MIN_HALF_LIFE_DAYS:g}..{MAX_WINDOW_DAYS}; got "
                              f"{hl!r}.")
        if (self.cap is not None or self.power is not None) and self.column is None:
            raise ConfigError(f"feature spec {n!r}: cap/power shape a value column; set column "
                              f"(one of {list(VALUE_COLUMNS)}) or remove cap/power.")
        if self.cap is not None and not _finite_number(self.cap):
            raise ConfigError(f"feature spec {n!r}: cap must be a finite number; got "
                              f"{self.cap!r}.")
        if self.power is not None and (not _finite_number(self.power) or self.power <= 0):
            raise ConfigError(f"feature spec {n!r}: power must be a finite number above 0; got "
                              f"{self.power!r}.")


def _check_inputs(spec: TrendSpec | NpsCategorySpec, wanted: int) -> None:
    if not isinstance(spec.inputs, tuple) or len(spec.inputs) != wanted \
            or not all(isinstance(i, str) for i in spec.inputs):
        raise ConfigError(f"feature spec {spec.name!r}: kind {spec.kind!r} needs {wanted} "
                          f"input spec name(s); got {list(spec.inputs or ())}.")


@dataclass(frozen=True, kw_only=True)
class TrendSpec(_BaseSpec):
    """Two aggregate specs of the same set (recent, baseline) combined by ``op``."""

    kind: ClassVar[Literal["trend"]] = "trend"
    inputs: tuple[str, str]
    op: TrendOp

    def _check(self) -> None:
        _check_inputs(self, 2)
        if self.op not in TREND_OPS:
            raise _bad(self.name, "op", self.op, TREND_OPS)


@dataclass(frozen=True, kw_only=True)
class NpsCategorySpec(_BaseSpec):
    """Detractor / passive / promoter from one 'last survey_nps score' aggregate spec."""

    kind: ClassVar[Literal["nps_category"]] = "nps_category"
    inputs: tuple[str]

    def _check(self) -> None:
        _check_inputs(self, 1)


@dataclass(frozen=True, kw_only=True)
class BtydSpec(_BaseSpec):
    """BG/NBD fitted at each cutoff on the purchases (``event_types``) before it: a customer's
    P(alive), or the purchases expected in the ``horizon_days`` after the cutoff."""

    kind: ClassVar[Literal["btyd"]] = "btyd"
    output: BtydOutput
    event_types: tuple[str, ...] = ("order",)
    horizon_days: int | None = None

    def _check(self) -> None:
        n = self.name
        if self.output not in BTYD_OUTPUTS:
            raise _bad(n, "output", self.output, BTYD_OUTPUTS)
        if len(self.event_types) != 1 or self.event_types[0] not in schema.EVENT_TYPES:
            raise ConfigError(f"feature spec {n!r}: btyd needs exactly one purchase event type "
                              f"from features/schema.py; got {list(self.event_types)}.")
        needs = self.output == "expected_purchases"
        h = self.horizon_days
        if needs != (h is not None) or (needs and not (
                isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= MAX_WINDOW_DAYS)):
            raise ConfigError(f"feature spec {n!r}: horizon_days (1..{MAX_WINDOW_DAYS}) is "
                              f"needed by output 'expected_purchases' and by it only; got "
                              f"output={self.output!r}, horizon_days={h!r}.")


FeatureSpec: TypeAlias = AggregateSpec | TrendSpec | NpsCategorySpec | BtydSpec
SPEC_CLASSES: dict[str, type[FeatureSpec]] = {
    cls.kind: cls for cls in (AggregateSpec, TrendSpec, NpsCategorySpec, BtydSpec)}


def validate_specs(specs: Sequence[FeatureSpec]) -> tuple[FeatureSpec, ...]:
    """Check the set as a whole (names unique, composites read aggregates of the set)."""
    by_name: dict[str, FeatureSpec] = {}
    for spec in specs:
        if not isinstance(spec, FeatureSpec):
            raise ConfigError(f"feature specs must be AggregateSpec, TrendSpec, NpsCategorySpec "
                              f"or BtydSpec objects (spec_from_dict builds one from data); "
                              f"got {type(spec).__name__}.")
        if spec.name in by_name:
            raise ConfigError(f"feature spec {spec.name!r} is defined twice; names must be "
                              f"unique.")
        by_name[spec.name] = spec
    aggregates = {n: s for n, s in by_name.items() if isinstance(s, AggregateSpec)}
    for spec in specs:
        if isinstance(spec, AggregateSpec | BtydSpec):
            continue
        for name in spec.inputs:
            if name not in aggregates:
                found = by_name.get(name)
                raise ConfigError(f"feature spec {spec.name!r}: input {name!r} must be the name "
                                  f"of an aggregate spec in the same set; got "
                                  f"{'a ' + found.kind if found else 'an unknown name'}.")
        inputs = [aggregates[name] for name in spec.inputs]
        if isinstance(spec, TrendSpec) and spec.op == "rate_ratio" and any(
            i.window_days is None for i in inputs
        ):
            raise ConfigError(f"feature spec {spec.name!r}: rate_ratio needs windowed inputs "
                              f"(window_days set); got an all-history input.")
        ref = inputs[0]
        if isinstance(spec, NpsCategorySpec) and (
            ref.aggregation != "last" or ref.event_types != ("survey_nps",)
        ):
            raise ConfigError(f"feature spec {spec.name!r}: nps_category reads a 'last' "
                              f"survey_nps score spec; got {ref.name!r} "
                              f"({ref.aggregation} of {list(ref.event_types)}).")
    return tuple(specs)


def spec_from_dict(data: dict[str, Any]) -> FeatureSpec:
    """Build one spec from plain data (as in a JSON/YAML file); ``kind`` defaults to aggregate.
    Reads every file ``to_dict`` ever wrote; another kind's fields may only be null or []."""
    if not isinstance(data, dict):
        raise ConfigError(f"a feature spec must be a mapping of field names to values; got "
                          f"{type(data).__name__}.")
    name = data.get("name")
    unknown = sorted(set(data) - set(FILE_FIELDS))
    if unknown:
        raise ConfigError(f"feature spec {name!r}: unknown field(s) {unknown}; "
                          f"allowed: {sorted(FILE_FIELDS)}.")
    kind = data.get("kind", "aggregate")
    cls = SPEC_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise _bad(str(name), "kind", kind, KINDS)
    own = {f.name: f for f in fields(cls)}
    foreign = {k: v for k, v in data.items()
               if k not in own and k != "kind" and v is not None and v != []}
    if foreign and cls is AggregateSpec and set(foreign) <= {"inputs", "op"}:
        raise ConfigError(f"feature spec {name!r}: inputs/op belong to 'trend' specs; got "
                          f"inputs={list(data.get('inputs') or ())}, op={data.get('op')!r} "
                          f"on an aggregate.")
    if foreign:
        raise ConfigError(f"feature spec {name!r}: field(s) {sorted(foreign)} do not apply to "
                          f"kind {kind!r}; its fields are {sorted(own)}.")
    kwargs = {key: data[key] for key in own if key in data}
    for key, f in own.items():  # a missing required field is reported by the spec's check
        if f.default is MISSING and kwargs.get(key) is None:
            kwargs[key] = () if key in ("event_types", "inputs") else None
    flt = kwargs.get("filter")
    if flt is not None:
        if not isinstance(flt, dict) or set(flt) != {"column", "op", "value"}:
            raise ConfigError(f"feature spec {name!r}: filter must be a mapping with column, "
                              f"op and value; got {flt!r}.")
        kwargs["filter"] = Filter(**flt)
    return cls(**kwargs)


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
        path.write_text(to_yaml(doc), encoding="utf-8")
    return path


def spec_version(specs: Sequence[FeatureSpec]) -> str:
    """A stable short hash of the spec set (order-independent; descriptions included)."""
    canonical = json.dumps(sorted(specs_to_data(specs), key=lambda d: d["name"]),
                           sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

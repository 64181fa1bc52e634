"""Feature specs as data: one frozen dataclass per feature, validated, versioned.

Why data and not code: the same spec set compiles to DuckDB SQL for training and batch
scoring, to Spark SQL later, and is logged with the model, so a feature is defined once and
training and serving cannot drift apart. :func:`spec_version` is the hash the model carries.
The default spec set lives in ``features.default_specs``.

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

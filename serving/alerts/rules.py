"""Alert rules from a YAML file, and the pure function that applies them to a score change.

The rules are data (``rules.yaml`` beside this module, or the file ``CXCHURN_ALERT_RULES``
names) so a retention lead changes a threshold or a due time without a release. Every
problem in the file is a ``ConfigError`` naming the file, the rule and the key, raised when
the service starts rather than when the first matching event arrives.

``evaluate(change, rules)`` reads only the ``ScoreChange`` it is given (no clock, no
database): the alert's created time is the change's own time, so the same change always
gives the same alerts and a replay of old events gets alerts dated when they happened.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import yaml

from cxchurn.errors import ConfigError, did_you_mean
from serving.live.change import ScoreChange
from serving.messages import LANGUAGES, text

DEFAULT_RULES: Final = Path(__file__).with_name("rules.yaml")
SEVERITIES: Final = ("low", "medium", "high")
BANDS: Final = ("low", "medium", "high")  # in rising order of risk
RULE_KEYS: Final = ("id", "kind", "params", "due_hours", "severity")
ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NPS_EVENT: Final = "survey_nps"
COMPLAINT_EVENT: Final = "complaint"
EPSILON: Final = 1e-9


@dataclass(frozen=True)
class Rule:
    """One configured rule: what fires it (``kind`` + ``params``), how urgent, by when."""

    id: str
    kind: str
    params: Mapping[str, Any]
    due_hours: float
    severity: str


@dataclass(frozen=True)
class Alert:
    """What one rule found in one change; ``why`` holds the reason in every language."""

    rule_id: str
    kind: str
    severity: str
    customer_id: str
    why: Mapping[str, str]
    created_at: datetime
    due_at: datetime
    old_score: float | None = None
    new_score: float | None = None
    new_band: str | None = None
    details: tuple[str, ...] = field(default_factory=tuple)

    def reason(self, lang: str) -> str:
        return self.why.get(lang) or self.why["en"]


# ---------------------------------------------------------------------------- parameters
def _band(value: Any) -> str:
    if value not in BANDS:
        raise ValueError(f"must be one of {list(BANDS)}")
    return str(value)


def _number(low: float, high: float = math.inf) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number from {low:g}"
                             + (f" to {high:g}" if math.isfinite(high) else " up"))
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"must be from {low:g}"
                             + (f" to {high:g}" if math.isfinite(high) else " up"))
        return float(value)

    return check


# kind -> {param: checker}; every param is required.
KINDS: Final[Mapping[str, Mapping[str, Callable[[Any], Any]]]] = {
    "band_entered": {"band": _band},
    "risk_rise": {"by": _number(0.0, 1.0)},
    "detractor": {"max_score": _number(0.0, 10.0)},
    "complaint_high_value": {"min_value": _number(0.0)},
}


def _rule(raw: Any, position: int, source: str, seen: set[str]) -> Rule:
    where = f"{source}, rule #{position}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: each rule must be a mapping with keys {list(RULE_KEYS)}; "
                          f"got {type(raw).__name__}")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not ID_PATTERN.match(rule_id):
        raise ConfigError(f"{where}: key 'id' must be 1-64 letters, digits, '_' or '-'; got "
                          f"{str(rule_id)[:40]!r}")
    where = f"{source}, rule {rule_id!r}"
    if rule_id in seen:
        raise ConfigError(f"{where}: the id is used twice; give each rule its own id")
    for key in raw:
        if key not in RULE_KEYS:
            raise ConfigError(f"{where}: unknown key {str(key)[:40]!r}"
                              f"{did_you_mean(str(key), RULE_KEYS)}; keys are {list(RULE_KEYS)}")
    kind = str(raw.get("kind"))
    if kind not in KINDS:
        raise ConfigError(f"{where}: key 'kind' must be one of {list(KINDS)}; got "
                          f"{str(kind)[:40]!r}{did_you_mean(str(kind), KINDS)}")
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}: key 'params' must be a mapping such as "
                          f"{{{', '.join(f'{p}: ...' for p in KINDS[kind])}}}")
    checked: dict[str, Any] = {}
    for name, check in KINDS[kind].items():
        if name not in params:
            raise ConfigError(f"{where}: key 'params.{name}' is missing; a {kind} rule needs "
                              f"{list(KINDS[kind])}")
        try:
            checked[name] = check(params[name])
        except ValueError as err:
            raise ConfigError(f"{where}: key 'params.{name}' {err}; got "
                              f"{str(params[name])[:40]!r}") from None
    for name in params:
        if name not in KINDS[kind]:
            raise ConfigError(f"{where}: unknown key 'params.{str(name)[:40]}'"
                              f"{did_you_mean(str(name), KINDS[kind])}; a {kind} rule takes "
                              f"{list(KINDS[kind])}")
    try:
        due = _number(0.0, 24.0 * 365)(raw.get("due_hours"))
    except ValueError as err:
        raise ConfigError(f"{where}: key 'due_hours' {err} (hours to act, e.g. 48); got "
                          f"{str(raw.get('due_hours'))[:40]!r}") from None
    if due <= 0:
        raise ConfigError(f"{where}: key 'due_hours' must be above 0 (hours to act, e.g. 48)")
    severity = raw.get("severity")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where}: key 'severity' must be one of {list(SEVERITIES)}; got "
                          f"{str(severity)[:40]!r}")
    seen.add(rule_id)
    return Rule(id=rule_id, kind=kind, params=checked, due_hours=due,
                severity=str(severity))


def parse_rules(data: Any, source: str = "<rules>") -> tuple[Rule, ...]:
    """Rules from the parsed YAML (a mapping with a ``rules`` list); ``source`` names it."""
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
        raise ConfigError(f"{source}: expected a mapping with a 'rules' list (see "
                          f"{DEFAULT_RULES.name} shipped in serving/alerts/)")
    unknown = [str(k) for k in data if k != "rules"]
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key(s) {unknown[:5]}; only 'rules'")
    seen: set[str] = set()
    return tuple(_rule(raw, i, source, seen) for i, raw in enumerate(data["rules"], start=1))


def load_rules(path: str | Path | None = None) -> tuple[Rule, ...]:
    """The rules in ``path`` (``CXCHURN_ALERT_RULES``), else the shipped ``rules.yaml``."""
    path = Path(path) if path is not None else DEFAULT_RULES
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read the alert rules file {path}: {err.strerror}; check "
                          f"CXCHURN_ALERT_RULES or unset it to use the shipped rules") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{at}: "
                          f"{getattr(err, 'problem', None) or err}") from None
    return parse_rules(data, str(path))


# ---------------------------------------------------------------------------- evaluation
def _percent(p: float | None, lang: str) -> str:
    if p is None:
        return "?"
    return f"%{p * 100:.0f}" if lang == "tr" else f"{p * 100:.0f}%"


def _day(value: Any) -> str:
    return str(value)[:10] if value is not None else "?"


def _why(key: str, **values: Any) -> dict[str, str]:
    out = {}
    for lang in LANGUAGES:
        shown = {k: (_percent(v, lang) if k in ("old", "new") else v) for k, v in values.items()}
        if "band" in shown:
            shown["band"] = text("band", str(values["band"]), lang)
        out[lang] = text("alert", key, lang).format(**shown)
    return out


def _score(event: Mapping[str, Any]) -> float | None:
    value = event.get("score")
    try:
        number = float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fires(rule: Rule, change: ScoreChange) -> dict[str, str] | None:
    """The reason in every language when ``rule`` fires on ``change``, else None."""
    p = rule.params
    if rule.kind == "band_entered":
        target = BANDS.index(p["band"])
        new = BANDS.index(change.new_band) if change.new_band in BANDS else -1
        old = BANDS.index(change.old_band) if change.old_band in BANDS else -1
        if new >= target > old:
            key = "why_band_new" if change.old_score is None else "why_band_entered"
            return _why(key, band=change.new_band, old=change.old_score, new=change.new_score)
        return None
    if rule.kind == "risk_rise":
        # "more than": a rise of exactly ``by`` (0.05 -> 0.20 is 0.15000000000000002 in
        # floating point) does not fire
        if change.old_score is not None and change.rise > p["by"] + EPSILON:
            return _why("why_risk_rise", old=change.old_score, new=change.new_score,
                        rise=f"{change.rise * 100:.0f}")
        return None
    if rule.kind == "detractor":
        for event in change.events:
            score = _score(event)
            if event.get("event_type") == NPS_EVENT and score is not None \
                    and score <= p["max_score"]:
                return _why("why_detractor", score=f"{score:g}", day=_day(event.get("event_time")),
                            hours=f"{rule.due_hours:g}")
        return None
    if rule.kind == "complaint_high_value":
        value = change.customer_value
        if value is None or not value >= p["min_value"]:
            return None
        for event in change.events:
            if event.get("event_type") == COMPLAINT_EVENT:
                return _why("why_complaint", value=f"{value:,.0f}",
                            day=_day(event.get("event_time")))
        return None
    raise ConfigError(f"rule {rule.id!r}: unknown kind {rule.kind!r}")  # parse_rules stops it


def evaluate(change: ScoreChange, rules: Sequence[Rule]) -> list[Alert]:
    """The alerts ``rules`` raise for one customer's change, in rule order (pure).

    Each fires at most once per change. Whether an equal alert is already open is the
    store's question (``AlertStore.add``), not this function's.
    """
    alerts = []
    for rule in rules:
        why = _fires(rule, change)
        if why is None:
            continue
        alerts.append(Alert(
            rule_id=rule.id, kind=rule.kind, severity=rule.severity,
            customer_id=change.customer_id, why=why, created_at=change.at,
            due_at=change.at + timedelta(hours=rule.due_hours), old_score=change.old_score,
            new_score=change.new_score, new_band=change.new_band,
            details=tuple(change.what_changed)))
    return alerts

"""SHAP drivers in plain words, in English or Turkish, per driver family.

A retention agent reads "Delivery experience: 3 late deliveries in the last 90 days, average
delay 5 days; this raises the churn risk", not ``late_delivery_damage +0.41`` and not the
feature's definition (half-life, cap, power). The family is the driver family of
``features.families`` (the one the retention policy matches actions by, so the reason and the
suggested action agree). What follows it, by kind of feature:

* a plain fact (a windowed count, a last score, days since ...): the fact itself, in the
  family's words (``serving.reasons.facts``) or as "what: value";
* a decayed feature or a trend: the customer's raw facts behind it, read from ``row`` (the
  same customer's other feature values); without them, what it sums up, with no number;
* a static attribute: its label and value, the value translated where the catalogue knows it.

Names of what a feature counts come from the spec (``serving.reasons.english`` and
``serving.reasons.turkish``), so a new spec gets a reason in both languages; every fixed word
is in the message catalogue ``serving.messages``; numbers and dates are written the way each
language writes them (``serving.reasons.numbers``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

from features.default_specs import DEFAULT_SPECS
from features.families import feature_family
from features.spec import AggregateSpec, BtydSpec, FeatureSpec, NpsCategorySpec, TrendSpec
from serving.messages import MESSAGES, text
from serving.reasons.english import event_noun, plain_name, value_noun
from serving.reasons.facts import fact_clauses, own_fact
from serving.reasons.numbers import as_number, date_text, number_text, percent_text
from serving.reasons.turkish import describe_tr, event_noun_tr, value_noun_tr, value_tr

__all__ = ["FAMILY_LABELS", "LANGUAGES", "feature_family", "reason", "reasons_for"]

LANGUAGES: Final = ("en", "tr")
DECAYED: Final = ("decayed_sum", "decayed_mean")

# One label per driver family of features.families.FAMILIES, from the one message catalogue.
FAMILY_LABELS: Final = MESSAGES["family"]

Row = Mapping[str, Any]


@lru_cache(maxsize=1)
def _specs() -> dict[str, FeatureSpec]:
    return {s.name: s for s in DEFAULT_SPECS}


def _name(spec: AggregateSpec, lang: str) -> str:
    """What a plain aggregate measures, in ``lang``."""
    return plain_name(spec) if lang == "en" else describe_tr(spec, _specs())


def feature_label(feature: str, lang: str = "en") -> str:
    """A declared feature as people read it, in ``lang``; the identifier otherwise (a
    pass-through customer column is named as the company's table names it)."""
    spec = _specs().get(feature)
    if spec is None:
        return feature
    if lang == "tr":
        return describe_tr(spec, _specs())
    return plain_name(spec) if isinstance(spec, AggregateSpec) else spec.description


def _value_text(value: Any, lang: str, spec: FeatureSpec | None = None) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return date_text(value, lang)
    x = as_number(value)
    if x is not None:
        if isinstance(spec, AggregateSpec) and spec.aggregation == "share":
            return percent_text(x, lang)
        money = isinstance(spec, AggregateSpec) and spec.column == "amount"
        return number_text(x, lang, 2 if money else 1)
    if value is None or isinstance(value, float) or str(value) in ("", "nan", "None"):
        return text("reason", "no_data", lang)
    return value_tr(str(value)) if lang == "tr" else str(value)


def _plain(what: str, value: str, lang: str) -> str:
    return text("reason", "plain", lang).format(what=what, value=value)


def _events(spec: FeatureSpec) -> set[str]:
    if isinstance(spec, AggregateSpec | BtydSpec):
        return set(spec.event_types)
    return set().union(*(_events(_specs()[i]) for i in spec.inputs if i in _specs()))


def _aggregate_text(spec: AggregateSpec, value: Any, lang: str, row: Row | None) -> str:
    if spec.aggregation in DECAYED:
        facts = fact_clauses(feature_family(spec.name), sorted(_events(spec)),
                             {} if row is None else row, lang)
        if spec.aggregation == "decayed_mean":  # a recent average is a plain number
            noun = (f"average {value_noun(spec)}" if lang == "en"
                    else f"ortalama {value_noun_tr(spec)}")
            recent = text("reason", "recent_mean", lang).format(what=noun)
            return ", ".join([_plain(recent, _value_text(value, lang), lang), *facts[:2]])
        if facts:
            return ", ".join(facts)
        noun = event_noun(spec) if lang == "en" else event_noun_tr(spec)
        return text("reason", "recent", lang).format(what=noun)
    own = own_fact(spec.name, value, lang)
    return own if own is not None else _plain(_name(spec, lang), _value_text(value, lang, spec),
                                              lang)


def _trend_text(spec: TrendSpec, value: Any, lang: str, row: Row | None) -> str:
    a, b = (_specs()[i] for i in spec.inputs)
    if row is not None and all(as_number(row.get(i)) is not None for i in spec.inputs):
        parts = (_aggregate_text(s, row.get(s.name), lang, None) for s in (a, b)
                 if isinstance(s, AggregateSpec))
        return ", ".join(parts)
    if not isinstance(a, AggregateSpec) or not isinstance(b, AggregateSpec):
        return _plain(spec.name.replace("_", " "), _value_text(value, lang), lang)
    x = as_number(value)
    windows = {"recent": a.window_days, "baseline": b.window_days}
    if spec.op == "difference":
        noun = value_noun(a) if lang == "en" else value_noun_tr(a)
        shown = number_text(x, lang, 1, sign=True) if x is not None else _value_text(None, lang)
        return text("reason", "change", lang).format(what=noun, value=shown, **windows)
    noun = (value_noun(a) if a.column else event_noun(a)) if lang == "en" else (
        value_noun_tr(a) if a.column else event_noun_tr(a))
    shown = number_text(x, lang, 2) if x is not None else _value_text(None, lang)
    return text("reason", "pace", lang).format(what=noun, value=shown, **windows)


def _what(feature: str, value: Any, lang: str, row: Row | None) -> str:
    spec = _specs().get(feature)
    if isinstance(spec, AggregateSpec):
        return _aggregate_text(spec, value, lang, row)
    if isinstance(spec, TrendSpec):
        return _trend_text(spec, value, lang, row)
    if isinstance(spec, BtydSpec):
        x = as_number(value)
        shown = (percent_text(x, lang) if spec.output == "p_alive" and x is not None
                 else _value_text(value, lang))
        what = spec.description if lang == "en" else describe_tr(spec, _specs())
        return _plain(what, shown, lang)
    if isinstance(spec, NpsCategorySpec):
        group = text("reason", "nps_group", lang).format(value=_value_text(value, lang))
        last = own_fact(spec.inputs[0], None if row is None else row.get(spec.inputs[0]), lang)
        return f"{group}, {last}" if last else group
    own = own_fact(feature, value, lang)  # a static attribute with a fact of its own (tenure)
    if own is not None:
        return own
    attribute = MESSAGES["attribute"].get(feature)
    label = attribute[lang] if attribute else feature.replace("_", " ")
    return _plain(label, _value_text(value, lang), lang)


def reason(feature: str, value: Any, direction: str, lang: str = "en",
           row: Row | None = None) -> str:
    """One sentence: the family, what happened to this customer, the effect on the risk.

    ``row`` (the same customer's feature values, name -> value) lets a decayed or composite
    feature tell the raw facts behind it; without it such a feature names what it sums up.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    family = FAMILY_LABELS[feature_family(feature)][lang]
    effect = text("reason", "raises" if direction == "raises" else "lowers", lang)
    return f"{family}: {_what(feature, value, lang, row)}; {effect}."


def reasons_for(features: Sequence[str], values: Sequence[Any], directions: Sequence[str],
                lang: str = "en", row: Row | None = None) -> list[str]:
    """``reason`` for several drivers of one customer at once."""
    return [reason(f, v, d, lang, row)
            for f, v, d in zip(features, values, directions, strict=True)]

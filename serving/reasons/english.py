"""English names of what a feature counts, for the reasons the spec's description cannot give.

The spec's own description is plain English for a windowed count or mean, so it is the name
of such a feature. A decayed feature's description tells how it is computed ("recent ones
weighing more"), and a trend reads its inputs: those get a name composed from the spec's event
types, filter and value column, the same way ``serving.reasons.turkish`` composes Turkish.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from features import schema
from features.spec import AggregateSpec, Filter

__all__ = ["INTERNAL_WORDS", "event_noun", "plain_name", "value_noun"]

# Words that give away how a feature is computed rather than what happened.
INTERNAL_WORDS: Final = re.compile(r"weigh|half[- ]life|decay|\bpower\b|\bcap(ped)?\b", re.I)

EVENT_NOUNS: Final[Mapping[str, str]] = {
    "order": "orders", "delivery": "deliveries", "return": "returns",
    "support_ticket": "support tickets", "ticket_reopened": "reopened support tickets",
    "complaint": "formal complaints", "survey_nps": "NPS answers", "survey_csat": "CSAT answers",
    "survey_ces": "effort survey answers", "session": "web or app sessions",
    "email_open": "marketing emails opened", "price_change": "price changes",
    "payment_failed": "failed payments", "feedback": "feedback messages",
    "cancellation": "cancellations",
}
VALUE_NOUNS: Final[Mapping[tuple[str, str], str]] = {
    ("order", "amount"): "order value", ("return", "amount"): "returned value",
    ("delivery", "duration"): "delivery delay", ("support_ticket", "duration"): "hours to resolve",
    ("session", "duration"): "session minutes", ("price_change", "amount"): "monthly price change",
    ("survey_nps", "score"): "NPS score", ("survey_csat", "score"): "CSAT score",
    ("survey_ces", "score"): "customer effort score",
}
FILTERED_NOUNS: Final[Mapping[tuple[str, Filter], str]] = {
    ("delivery", Filter("duration", ">", 0.0)): "late deliveries",
    ("price_change", Filter("amount", ">", 0.0)): "price rises",
    ("price_change", Filter("amount", "<", 0.0)): "price cuts",
    ("support_ticket", Filter("duration", ">", 48.0)):
        "support tickets that took over 48 hours",
}
TEXT_SIGNALS: Final[Mapping[str, str]] = {"negative": "with negative words",
                                          "positive": "with positive words"}


def _single(spec: AggregateSpec) -> str:
    return spec.event_types[0] if len(spec.event_types) == 1 else ""


def event_noun(spec: AggregateSpec) -> str:
    """What the spec counts, in the plural: "late deliveries", "web or app sessions"."""
    event = _single(spec)
    if spec.filter is not None:
        f = spec.filter
        found = FILTERED_NOUNS.get((event, Filter(f.column, f.op, float(f.value))))
        if found is not None:
            return found
    if set(spec.event_types) == set(schema.ACTIVITY_EVENT_TYPES):
        noun = "activity"
    else:
        noun = " or ".join(EVENT_NOUNS.get(t, t.replace("_", " ")) for t in spec.event_types)
    if spec.text_signal is not None:
        noun = f"{noun} {TEXT_SIGNALS.get(spec.text_signal, '')}".strip()
    return noun


def value_noun(spec: AggregateSpec) -> str:
    """What the spec's value column measures: "NPS score", "order value"."""
    column = spec.column or ""
    return VALUE_NOUNS.get((_single(spec), column), f"{event_noun(spec)} {column}".strip())


def plain_name(spec: AggregateSpec) -> str:
    """The spec's description when it says what happened, else a name from its fields."""
    if not INTERNAL_WORDS.search(spec.description) and spec.aggregation not in (
            "decayed_sum", "decayed_mean"):
        return spec.description
    if spec.aggregation == "decayed_mean":
        return f"average {value_noun(spec)}"
    return event_noun(spec)

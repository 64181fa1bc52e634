"""A driver family's reason told with the customer's raw facts: counts, days, amounts.

A decayed feature's value ("4.00") means nothing to a retention agent, and its definition
(half-life, cap, power) means less. The same customer's plain features say what happened:
"3 late deliveries in the last 90 days, average delay 5 days". Per family, ``FAMILY_FACTS``
lists the clauses a reason may use, each read from one plain feature of the same row (the
first of its alternatives that has a value); the wording of every clause, in English and
Turkish, is in the message catalogue (``MESSAGES["reason"]["fact_<key>"]``, with ``_one`` and
``_zero`` variants where the count changes the words).

A clause belongs to event types; a driver shows the clauses of its own event types (a
complaints driver tells complaints, not ticket times), or the whole family's when none match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from serving.messages import MESSAGES
from serving.reasons.numbers import as_number, number_text

__all__ = ["FAMILY_FACTS", "MAX_CLAUSES", "Clause", "fact_clauses", "own_fact"]

MAX_CLAUSES: Final = 3


@dataclass(frozen=True)
class Clause:
    """One fact: catalogue key, the features that can tell it (first with a value wins)."""

    key: str
    features: tuple[str, ...]
    events: tuple[str, ...] = ()
    # which values are worth saying: > 0 (a delay, a count of bad things), != 0, or any
    when: Literal["positive", "nonzero", "any"] = "positive"
    decimals: int = 1
    sign: bool = False


def _c(key: str, features: str | Sequence[str], *events: str, **kw: Any) -> Clause:
    names = (features,) if isinstance(features, str) else tuple(features)
    return Clause(key, names, tuple(events), **kw)


FAMILY_FACTS: Final[Mapping[str, tuple[Clause, ...]]] = {
    "delivery": (
        _c("late_deliveries", ("late_deliveries_90d", "late_deliveries_180d"), "delivery"),
        _c("delay_mean", "delivery_delay_mean_90d", "delivery"),
        _c("delay_max", "delivery_delay_max_90d", "delivery"),
        _c("returns", ("returns_90d", "returns_180d"), "return"),
    ),
    "service": (
        _c("tickets", ("tickets_90d", "tickets_180d"), "support_ticket"),
        _c("slow_tickets", "slow_tickets_90d", "support_ticket"),
        _c("ticket_hours", "ticket_hours_mean_90d", "support_ticket"),
        _c("reopenings", ("reopenings_90d", "reopenings_30d"), "ticket_reopened"),
        _c("complaints", ("complaints_90d", "complaints_180d"), "complaint"),
        _c("last_complaint", "days_since_last_complaint", "complaint", when="any"),
    ),
    "survey": (
        _c("nps_last", "nps_last", "survey_nps", when="any"),
        _c("nps_low", "nps_detractor_answers_180d", "survey_nps"),
        _c("csat_last", "csat_last", "survey_csat", when="any"),
        _c("csat_min", "csat_min_180d", "survey_csat", when="any"),
        _c("ces_last", "ces_last", "survey_ces", when="any"),
        _c("negative_feedback", ("negative_feedback_90d", "negative_feedback_180d"),
           "feedback"),
    ),
    "price": (
        _c("price_rises", "price_rises_180d", "price_change"),
        _c("price_change", "price_change_180d", "price_change", when="nonzero", decimals=2,
           sign=True),
        _c("monthly_price", "monthly_price", when="any", decimals=2),
    ),
    "billing": (
        _c("payment_failures", ("payment_failures_90d", "payment_failures_30d"),
           "payment_failed"),
        _c("last_payment_failure", "days_since_last_payment_failure", "payment_failed",
           when="any"),
    ),
    "engagement": (
        _c("orders", ("orders_90d", "orders_180d"), "order", when="any"),
        _c("last_order", "days_since_last_order", "order", when="any"),
        _c("sessions", ("sessions_30d", "sessions_90d"), "session", when="any"),
        _c("last_session", "days_since_last_session", "session", when="any"),
        _c("email_opens", ("email_opens_90d", "email_opens_30d"), "email_open", when="any"),
    ),
    "tenure": (_c("tenure", "tenure_days", when="any", decimals=0),),
}


def _window(feature: str) -> str:
    """The window a windowed feature name ends with ("late_deliveries_90d" -> "90")."""
    tail = feature.rsplit("_", 1)[-1]
    return tail[:-1] if tail.endswith("d") and tail[:-1].isdigit() else ""


def _worth_saying(x: float, when: str) -> bool:
    return when == "any" or (x > 0 if when == "positive" else x != 0)


def _say(clause: Clause, feature: str, x: float, lang: str) -> str:
    entries = MESSAGES["reason"]
    key = f"fact_{clause.key}"
    if x == 0 and f"{key}_zero" in entries:
        key = f"{key}_zero"
    elif x == 1 and f"{key}_one" in entries:
        key = f"{key}_one"
    return entries[key][lang].format(
        n=number_text(x, lang, clause.decimals, sign=clause.sign), window=_window(feature))


def _clause_text(clause: Clause, row: Mapping[str, Any], lang: str) -> str | None:
    for feature in clause.features:
        x = as_number(row.get(feature))
        if x is not None and _worth_saying(x, clause.when):
            return _say(clause, feature, x, lang)
    return None


def own_fact(feature: str, value: Any, lang: str) -> str | None:
    """A plain feature that is itself a fact ("late_deliveries_90d" = 3), in its clause's words."""
    x = as_number(value)
    if x is None:
        return None
    stem = _stem(feature)
    for clauses in FAMILY_FACTS.values():
        for clause in clauses:
            if feature in clause.features:
                return _say(clause, feature, x, lang)
            # another window of the same count ("orders_30d" for "orders_90d"), when the
            # words name the window
            if _window(feature) and "{window}" in MESSAGES["reason"][f"fact_{clause.key}"]["en"] \
                    and stem in {_stem(f) for f in clause.features}:
                return _say(clause, feature, x, lang)
    return None


def _stem(feature: str) -> str:
    return feature.rsplit("_", 1)[0] if _window(feature) else feature


def fact_clauses(family: str, events: Sequence[str], row: Mapping[str, Any], lang: str
                 ) -> list[str]:
    """The family's facts for this customer, of the driver's own event types when it has any."""
    clauses = FAMILY_FACTS.get(family, ())
    own = [c for c in clauses if set(c.events) & set(events)]
    said = [t for c in (own or clauses) if (t := _clause_text(c, row, lang)) is not None]
    return said[:MAX_CLAUSES]

"""Which driver family a model feature belongs to, derived from the feature spec.

The retention policy matches a customer's top SHAP drivers to actions by family (late
deliveries -> apology voucher, support friction -> priority callback ...). The family is read
from the spec's event types, never from a hand-kept list of feature names, so a feature added
to ``features/default_specs.py`` gets a family without touching this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Final

from features.default_specs import DEFAULT_SPECS
from features.spec import AggregateSpec, BtydSpec, FeatureSpec

# The families an action can answer (see serving/retention/actions.yaml), then families no
# action answers.
ACTIONABLE: Final = ("delivery", "service", "survey", "price", "billing", "plan", "engagement")
FAMILIES: Final = (*ACTIONABLE, "contract", "tenure", "profile", "other")

EVENT_FAMILY: Final[Mapping[str, str]] = {
    "delivery": "delivery",
    "return": "delivery",
    "support_ticket": "service",
    "ticket_reopened": "service",
    "complaint": "service",
    "survey_nps": "survey",
    "survey_csat": "survey",
    "survey_ces": "survey",
    "feedback": "survey",
    "price_change": "price",
    "payment_failed": "billing",
    "order": "engagement",
    "session": "engagement",
    "email_open": "engagement",
    "cancellation": "engagement",
}

# Static customer attributes (customers table columns) and the builder's tenure column.
STATIC_FAMILY: Final[Mapping[str, str]] = {
    "monthly_price": "price",
    "price": "price",
    "plan": "plan",
    "contract": "contract",
    "tenure_days": "tenure",
    "segment": "profile",
    "region": "profile",
    "preferred_channel": "profile",
}


def _spec_family(spec: FeatureSpec, by_name: Mapping[str, FeatureSpec]) -> str:
    if isinstance(spec, BtydSpec):  # a purchase-process figure: the purchases it reads
        return EVENT_FAMILY.get(spec.event_types[0], "other")
    if not isinstance(spec, AggregateSpec):  # trend / nps_category: what they read
        found = {_spec_family(by_name[i], by_name) for i in spec.inputs if i in by_name}
        return found.pop() if len(found) == 1 else "engagement"
    if spec.channel is not None:  # channel mix describes how the customer engages
        return "engagement"
    found = {EVENT_FAMILY.get(t, "other") for t in spec.event_types}
    # Several kinds of events at once (e.g. "any activity") measure engagement.
    return found.pop() if len(found) == 1 else "engagement"


@lru_cache(maxsize=8)
def _families(specs: tuple[FeatureSpec, ...]) -> dict[str, str]:
    by_name = {s.name: s for s in specs}
    return {s.name: _spec_family(s, by_name) for s in specs}


@lru_cache(maxsize=1)
def _default_families() -> dict[str, str]:
    return _families(tuple(DEFAULT_SPECS))


def feature_family(feature: str, specs: Sequence[FeatureSpec] = DEFAULT_SPECS) -> str:
    """The driver family of one model feature (a spec name or a static attribute)."""
    # the default set skips hashing its hundred specs on every call (reasons call this per
    # driver: it was most of the time of explaining a batch)
    table = _default_families() if specs is DEFAULT_SPECS else _families(tuple(specs))
    family = table.get(feature)
    if family is not None:
        return family
    return STATIC_FAMILY.get(feature, "profile")


def family_map(features: Sequence[str], specs: Sequence[FeatureSpec] = DEFAULT_SPECS
               ) -> dict[str, str]:
    """Feature -> family for a model's feature list."""
    return {f: feature_family(f, specs) for f in features}

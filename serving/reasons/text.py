"""SHAP drivers in plain words, in English or Turkish, per feature family.

A retention agent reads "Delivery experience: late deliveries in the last 90 days is 3; this
raises the churn risk", not ``late_deliveries_90d +0.41``. The family is the driver family of
``features.families`` (the one the retention policy matches actions by, so the reason and the
suggested action agree); the English description is the spec's own, the Turkish one is composed
from the spec's structure (``serving.reasons.turkish``). A new spec so gets a reason in both
languages without touching this module; static attributes get a label in each language. Every
fixed word (family labels, "this raises the churn risk", attribute names) is in the message
catalogue ``serving.messages``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from features.default_specs import DEFAULT_SPECS
from features.families import feature_family
from serving.messages import MESSAGES, text
from serving.reasons.turkish import describe_tr, value_tr

__all__ = ["FAMILY_LABELS", "LANGUAGES", "feature_family", "reason", "reasons_for"]

LANGUAGES: Final = ("en", "tr")

# One label per driver family of features.families.FAMILIES, from the one message catalogue.
FAMILY_LABELS: Final = MESSAGES["family"]


@lru_cache(maxsize=1)
def _spec_index() -> dict[str, tuple[str, str]]:
    """Feature name -> (English, Turkish) description, for the default spec set."""
    by_name = {s.name: s for s in DEFAULT_SPECS}
    return {s.name: (s.description, describe_tr(s, by_name)) for s in DEFAULT_SPECS}


def _description(feature: str, lang: str) -> str:
    found = _spec_index().get(feature)
    if found is not None:
        return found[0] if lang == "en" else found[1]
    attribute = MESSAGES["attribute"].get(feature)
    return attribute[lang] if attribute else feature.replace("_", " ")


def _value_text(value: float | str | None, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text("reason", "no_data", lang)
    if isinstance(value, float):
        shown = f"{value:.0f}" if value.is_integer() else f"{value:.2f}"
        return shown.replace(".", ",") if lang == "tr" else shown
    return value_tr(str(value)) if lang == "tr" else str(value)


def reason(feature: str, value: float | str | None, direction: str, lang: str = "en") -> str:
    """One sentence: family, what the feature measures, the customer's value, the effect."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    family = FAMILY_LABELS[feature_family(feature)][lang]
    what = _description(feature, lang)
    effect = text("reason", "raises" if direction == "raises" else "lowers", lang)
    return f"{family}: {what} {text('reason', 'is', lang)} {_value_text(value, lang)}; {effect}."


def reasons_for(features: Sequence[str], values: Sequence[float | str | None],
                directions: Sequence[str], lang: str = "en") -> list[str]:
    """``reason`` for several drivers at once."""
    return [reason(f, v, d, lang) for f, v, d in zip(features, values, directions, strict=True)]

"""Plain-word reasons: fully Turkish in lang=tr, and labelled with the policy's driver family."""

from __future__ import annotations

import re

import pytest

from features import schema
from features.default_specs import DEFAULT_SPECS
from features.families import FAMILIES, feature_family
from features.spec import AggregateSpec, validate_specs
from serving.reasons.text import FAMILY_LABELS, reason
from serving.reasons.turkish import CHANNELS, EVENT_NOUNS, describe_tr

# Words Turkish readers use as they are (acronyms, "web").
SHARED_WORDS = {"nps", "csat", "web"}


def _english_words(feature: str) -> set[str]:
    spec = next(s for s in DEFAULT_SPECS if s.name == feature)
    return set(re.findall(r"[a-z]{3,}", spec.description.lower())) - SHARED_WORDS


@pytest.mark.parametrize("feature", [
    "delivery_delay_max_90d", "late_delivery_damage", "slow_ticket_damage", "reopening_damage",
    "price_rise_damage", "payment_failure_damage", "nps_decayed_mean", "orders_trend_30_180",
    "channel_share_call_centre_90d", "negative_feedback_share_180d", "days_since_last_activity",
])
def test_a_turkish_reason_has_no_english_description_words(feature: str) -> None:
    tr = reason(feature, 9.0, "raises", "tr")
    words = set(re.findall(r"\w+", tr.lower()))
    assert not words & _english_words(feature), tr
    assert "ayrılma riskini artırıyor" in tr


def test_every_default_feature_has_a_turkish_description_of_its_own() -> None:
    by_name = {s.name: s for s in DEFAULT_SPECS}
    texts = {describe_tr(s, by_name) for s in DEFAULT_SPECS}
    assert len(texts) == len(DEFAULT_SPECS)  # no two features read the same
    for spec in DEFAULT_SPECS:
        tr_words = set(re.findall(r"\w+", describe_tr(spec, by_name).lower()))
        assert not tr_words & _english_words(spec.name), spec.name


def test_a_new_spec_gets_a_turkish_description_from_its_structure() -> None:
    specs = validate_specs([*DEFAULT_SPECS, AggregateSpec(
        name="return_value_7d", description="value of returns in the last 7 days",
        family="windowed", event_types=("return",), aggregation="sum", column="amount",
        window_days=7)])
    by_name = {s.name: s for s in specs}
    assert describe_tr(by_name["return_value_7d"], by_name) == \
        "son 7 günde toplam iade edilen tutar"


def test_the_vocabulary_covers_every_event_type_and_channel() -> None:
    assert set(schema.EVENT_TYPES) <= set(EVENT_NOUNS)
    assert set(schema.CHANNELS) <= set(CHANNELS)


@pytest.mark.parametrize(("feature", "value", "words"), [
    ("contract", "annual", ["Sözleşme", "sözleşme türü", "yıllık"]),
    ("plan", "premium", ["Paket"]),
    ("segment", "family", ["müşteri segmenti", "aile"]),
    ("monthly_price", 30.0, ["Fiyat", "aylık fiyat"]),
    ("tenure_days", 400.0, ["Müşteri olma süresi", "400 gündür müşteri"]),
    ("nps_category", "detractor", ["NPS grubu: kötüleyen"]),
])
def test_static_attributes_and_categories_read_in_turkish(feature: str, value: object,
                                                          words: list[str]) -> None:
    tr = reason(feature, value, "raises", "tr")  # type: ignore[arg-type]
    for word in words:
        assert word in tr


@pytest.mark.parametrize(("feature", "label"), [
    ("price_rise_damage", "Price"), ("price_rises_180d", "Price"), ("monthly_price", "Price"),
    ("payment_failure_damage", "Payments"), ("slow_ticket_damage", "Customer service"),
    ("late_delivery_damage", "Delivery experience"),
])
def test_the_reason_is_labelled_with_the_family_the_policy_acts_on(feature: str,
                                                                   label: str) -> None:
    assert reason(feature, 1.0, "raises").startswith(label)
    assert reason(feature, 1.0, "raises").startswith(FAMILY_LABELS[feature_family(feature)]["en"])


def test_every_driver_family_has_a_label_in_both_languages() -> None:
    assert set(FAMILY_LABELS) == set(FAMILIES)
    assert all(set(labels) == {"en", "tr"} for labels in FAMILY_LABELS.values())

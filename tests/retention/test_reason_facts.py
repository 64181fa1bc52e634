"""Reasons tell what happened to the customer, never how a feature is computed."""

from __future__ import annotations

import re

import pytest

from features.default_specs import DEFAULT_SPECS
from serving.reasons.numbers import date_text, number_text, percent_text
from serving.reasons.text import reason

# A customer's plain features, as the online store row holds them.
ROW = {"late_deliveries_90d": 3.0, "deliveries_90d": 7.0, "delivery_delay_mean_90d": 2.46,
       "delivery_delay_max_90d": 5.0, "tickets_90d": 2.0, "slow_tickets_90d": 1.0,
       "ticket_hours_mean_90d": 61.25, "complaints_180d": 2.0, "days_since_last_complaint": 40.0,
       "nps_last": 4.0, "csat_last": 2.0, "price_rises_180d": 1.0, "price_change_180d": 5.5,
       "payment_failures_90d": 2.0, "days_since_last_payment_failure": 12.0,
       "orders_30d": 1.0, "orders_90d": 0.0, "orders_180d": 12.0, "sessions_30d": 0.0,
       "sessions_90d": 4.0, "order_value_30d": 1234.5, "order_value_180d": 20000.0,
       "csat_mean_30d": 2.5, "csat_mean_180d": 3.75, "email_opens_90d": 1.0,
       "tenure_days": 1400.0, "monthly_price": 1299.9}
INTERNALS = ("half-life", "half life", "halflife", "yarı ömür", "power", "üs ", "cap", "sınırlı",
             "decay", "weigh", "ağırlık", "ağır basar")
# English words that must not slip into a Turkish reason.
ENGLISH = {"the", "last", "days", "in", "of", "and", "late", "deliveries", "average", "score",
           "orders", "tickets", "recent", "raises", "risk", "times", "pace", "price", "is"}


@pytest.mark.parametrize("lang", ["en", "tr"])
@pytest.mark.parametrize("row", [None, ROW], ids=["no-row", "row"])
def test_no_reason_tells_a_spec_internal_or_a_feature_name(lang: str, row: dict | None) -> None:
    for spec in DEFAULT_SPECS:
        value: object = "detractor" if spec.kind == "nps_category" else 4.5
        said = reason(spec.name, value, "raises", lang, row)  # type: ignore[arg-type]
        low = said.lower()
        assert not [w for w in INTERNALS if w in low], said
        assert spec.name not in low and not re.search(r"\b[a-z]+_[a-z0-9_]+\b", low), said


def test_a_decayed_delivery_feature_tells_the_counts_behind_it() -> None:
    en = reason("late_delivery_damage", 4.0, "raises", "en", ROW)
    assert en == ("Delivery experience: 3 late deliveries in the last 90 days, average delay "
                  "2.5 days, the longest 5 days late; this raises the churn risk.")
    tr = reason("late_delivery_damage", 4.0, "raises", "tr", ROW)
    assert tr == ("Teslimat deneyimi: son 90 günde 3 geç teslimat, ortalama gecikme 2,5 gün, "
                  "en uzun gecikme 5 gün; bu, ayrılma riskini artırıyor.")


def test_a_driver_tells_the_facts_of_its_own_events() -> None:
    said = reason("complaint_damage", 1.2, "raises", "en", ROW).split(": ", 1)[1]
    assert said.startswith("2 formal complaints in the last 180 days") and "ticket" not in said
    assert "1 failed payment" not in reason("payment_failure_damage", 1.0, "raises", "en", ROW)


def test_a_trend_tells_both_counts_and_a_single_one_reads_singular() -> None:
    assert "1 order in the last 30 days, 12 orders in the last 180 days" in reason(
        "orders_trend_30_180", 0.5, "raises", "en", ROW)
    assert "son 30 günde 1 sipariş, son 180 günde 12 sipariş" in reason(
        "orders_trend_30_180", 0.5, "raises", "tr", ROW)
    assert "no web or app sessions in the last 30 days" in reason(
        "sessions_trend_30_90", 0.0, "raises", "en", ROW)


def test_without_the_row_a_decayed_feature_names_what_it_sums_up_without_a_number() -> None:
    assert reason("late_delivery_damage", 4.0, "raises") == \
        "Delivery experience: recent late deliveries; this raises the churn risk."
    assert "4" not in reason("late_delivery_damage", 4.0, "raises", "tr")


@pytest.mark.parametrize("row", [None, ROW], ids=["no-row", "row"])
def test_turkish_reasons_are_turkish_throughout(row: dict | None) -> None:
    for spec in DEFAULT_SPECS:
        value: object = "detractor" if spec.kind == "nps_category" else 4.5
        said = reason(spec.name, value, "raises", "tr", row)  # type: ignore[arg-type]
        words = set(re.findall(r"[a-zçğıöşü]+", said.lower()))
        assert not words & ENGLISH, said
        assert not re.search(r"\d\.\d{1,2}(?!\d)", said), said  # no decimal point


def test_turkish_numbers_and_dates() -> None:
    said = reason("order_value_trend_30_180", 0.3, "raises", "tr", ROW)
    assert "1.234,50" in said and "20.000" in said
    assert number_text(1234.5, "en") == "1,234.5" and number_text(1234.5, "tr") == "1.234,5"
    assert percent_text(0.25, "tr") == "%25" and percent_text(0.25, "en") == "25%"
    import datetime as dt
    assert date_text(dt.date(2024, 3, 31), "tr") == "31.03.2024"
    assert reason("tenure_days", 1400.0, "lowers", "tr") == \
        "Müşteri olma süresi: 1.400 gündür müşteri; bu, ayrılma riskini azaltıyor."


def test_values_are_translated_through_the_catalogue() -> None:
    assert "NPS grubu: kötüleyen, son NPS puanı 10 üzerinden 4" in reason(
        "nps_category", "detractor", "raises", "tr", ROW)
    assert "sözleşme türü: yıllık" in reason("contract", "annual", "lowers", "tr")


def test_a_row_can_be_a_pandas_series() -> None:
    import pandas as pd

    row = pd.Series(ROW, dtype=object)
    assert reason("late_delivery_damage", 4.0, "raises", "en", row) == \
        reason("late_delivery_damage", 4.0, "raises", "en", ROW)
    assert "4 out of 10" in reason("nps_category", "detractor", "raises", "en", row)

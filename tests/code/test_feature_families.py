"""Each feature family on a hand-written tiny history, checked to the value."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from features.default_specs import DEFAULT_SPECS
from features.pipeline import build_feature_table
from features.spec import AggregateSpec, Filter

CUTOFF = pd.Timestamp("2025-03-01", tz="UTC")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def events(rows: list[tuple]) -> pd.DataFrame:
    """rows: (customer, time, type, channel, amount, score, duration, text)."""
    frame = pd.DataFrame(rows, columns=["customer_id", "event_time", "event_type", "channel",
                                        "amount", "score", "duration", "text"])
    frame["event_time"] = pd.to_datetime(frame["event_time"], utc=True, format="ISO8601").astype(
        "datetime64[us, UTC]")
    for col in ("amount", "score", "duration"):
        frame[col] = frame[col].astype("float64")
    frame["text"] = frame["text"].astype("object")
    return frame


CUSTOMERS = pd.DataFrame({
    "customer_id": ["a", "b"],
    "signup_date": pd.to_datetime(["2024-03-01", "2025-02-01"], utc=True).astype(
        "datetime64[us, UTC]"),
    "plan": ["basic", "plus"],
    "monthly_price": [10.0, 20.0],
})

N = None
HISTORY = events([
    # orders: 100 days, 20 days and 3 days before the cutoff; one AT the cutoff (label side)
    ("a", "2024-11-21", "order", "web", 50.0, N, N, N),
    ("a", "2025-02-09", "order", "app", 30.0, N, N, N),
    ("a", "2025-02-26", "order", "app", 20.0, N, N, N),
    ("a", "2025-03-01", "order", "app", 999.0, N, N, N),
    # deliveries: one late by 2 days, one on time, one late by 5 days (older than 90 days)
    ("a", "2025-02-10", "delivery", "web", N, N, 2.0, N),
    ("a", "2025-02-27", "delivery", "web", N, N, -1.0, N),
    ("a", "2024-10-01", "delivery", "web", N, N, 5.0, N),
    # tickets: 10 h and 60 h to resolve; one reopening; one complaint
    ("a", "2025-02-15", "support_ticket", "chat", N, N, 10.0, N),
    ("a", "2025-01-15", "support_ticket", "call_centre", N, N, 60.0, N),
    ("a", "2025-02-16", "ticket_reopened", "chat", N, N, N, N),
    ("a", "2025-02-20", "complaint", "call_centre", N, N, N, N),
    # surveys: NPS 9 then 4 (change -5, detractor), CSAT 2 and 4, CES 6
    ("a", "2024-12-01", "survey_nps", "email", N, 9.0, N, N),
    ("a", "2025-02-20", "survey_nps", "email", N, 4.0, N, N),
    ("a", "2025-02-25", "survey_csat", "email", N, 2.0, N, N),
    ("a", "2024-12-31", "survey_csat", "email", N, 4.0, N, N),
    ("a", "2025-02-01", "survey_ces", "email", N, 6.0, N, N),
    # feedback: one negative (Turkish), one positive (English)
    ("a", "2025-02-21", "feedback", "app", N, N, N, "Kargo çok GECİKTİ, berbat"),
    ("a", "2025-02-22", "feedback", "app", N, N, N, "Great support, thank you"),
    # b: a single session
    ("b", "2025-02-28 12:00", "session", "app", N, N, 15.0, N),
])


@pytest.fixture(scope="module")
def row() -> dict:
    cut = pd.DataFrame({"customer_id": ["a", "b"], "cutoff": [CUTOFF, CUTOFF]})
    table = build_feature_table(CUSTOMERS, HISTORY, cut)
    return {r["customer_id"]: r for r in table.to_dict("records")}


def test_recency_frequency_monetary(row: dict) -> None:
    a = row["a"]
    assert a["days_since_last_order"] == 3.0
    assert a["orders_total"] == 3.0 and a["order_value_total"] == 100.0
    assert (a["orders_7d"], a["orders_30d"], a["orders_90d"], a["orders_180d"]) == (1, 2, 2, 3)
    assert (a["order_value_30d"], a["order_value_90d"], a["order_value_180d"]) == (50, 50, 100)
    assert a["order_value_mean_90d"] == 25.0 and a["order_value_max_180d"] == 50.0


def test_no_events_means_zero_counts_and_missing_means(row: dict) -> None:
    b = row["b"]
    assert b["orders_30d"] == 0.0 and b["order_value_30d"] == 0.0
    assert math.isnan(b["order_value_mean_90d"]) and math.isnan(b["days_since_last_order"])
    assert b["sessions_7d"] == 1.0 and b["session_minutes_30d"] == 15.0
    assert b["days_since_last_session"] == 0.5


def test_trends_compare_rates(row: dict) -> None:
    # orders: 2 in 30 days vs 3 in 180 days -> (2/30) / (3/180) = 4
    assert row["a"]["orders_trend_30_180"] == pytest.approx(4.0)
    # CSAT: mean 2 in 30 days minus mean 3 over 180 days
    assert row["a"]["csat_trend_30_180"] == pytest.approx(-1.0)
    assert math.isnan(row["b"]["orders_trend_30_180"])


def test_cx_metrics(row: dict) -> None:
    a = row["a"]
    assert a["nps_last"] == 4.0 and a["nps_category"] == "detractor"
    assert a["nps_change"] == -5.0
    assert a["nps_mean_180d"] == 6.5 and a["nps_detractor_answers_180d"] == 1.0
    assert a["days_since_last_nps"] == 9.0
    assert a["csat_last"] == 2.0 and a["csat_min_180d"] == 2.0
    assert a["csat_mean_30d"] == 2.0 and a["csat_mean_90d"] == 3.0
    assert a["ces_last"] == 6.0 and a["ces_mean_90d"] == 6.0
    assert row["b"]["nps_category"] is None or pd.isna(row["b"]["nps_category"])


def test_service_friction(row: dict) -> None:
    a = row["a"]
    assert (a["tickets_30d"], a["tickets_90d"]) == (1.0, 2.0)
    assert a["ticket_hours_mean_30d"] == 10.0 and a["ticket_hours_mean_90d"] == 35.0
    assert a["ticket_hours_max_90d"] == 60.0 and a["slow_tickets_90d"] == 1.0
    assert a["reopenings_30d"] == 1.0 and a["complaints_30d"] == 1.0
    assert a["days_since_last_complaint"] == 9.0


def test_delivery_experience(row: dict) -> None:
    a = row["a"]
    assert a["deliveries_90d"] == 2.0 and a["late_deliveries_90d"] == 1.0
    assert a["late_deliveries_180d"] == 2.0
    assert a["late_share_90d"] == 0.5 and a["late_share_180d"] == pytest.approx(2 / 3)
    assert a["delivery_delay_mean_90d"] == 0.5 and a["delivery_delay_max_90d"] == 2.0


def test_channel_mix(row: dict) -> None:
    a = row["a"]
    # activity events in 90 days: 2 orders (app), 2 tickets (chat, call_centre),
    # 2 NPS (2024-12-01 is exactly 90 days back, so inside) + 2 CSAT + 1 CES (email),
    # 2 feedback (app) -> 11 (the 2024-11-21 order is older)
    assert a["channel_share_app_90d"] == pytest.approx(4 / 11)
    assert a["channel_share_email_90d"] == pytest.approx(5 / 11)
    assert a["channel_share_chat_90d"] == pytest.approx(1 / 11)
    assert a["channel_share_web_90d"] == 0.0


def test_text_feedback_signals_english_and_turkish(row: dict) -> None:
    a = row["a"]
    assert a["feedback_90d"] == 2.0
    assert a["negative_feedback_30d"] == 1.0 and a["positive_feedback_90d"] == 1.0
    assert a["negative_feedback_share_180d"] == 0.5


def test_tenure_and_static_attributes_pass_through(row: dict) -> None:
    assert row["a"]["tenure_days"] == 365.0 and row["b"]["tenure_days"] == 28.0
    assert row["a"]["plan"] == "basic" and row["b"]["monthly_price"] == 20.0


def test_custom_spec_with_filter_and_channel() -> None:
    specs = [AggregateSpec(name="big_app_orders_90d", description="orders over 25 via the app",
                           family="windowed", event_types=("order",), aggregation="count",
                           window_days=90, filter=Filter("amount", ">", 25.0), channel="app")]
    cut = pd.DataFrame({"customer_id": ["a"], "cutoff": [CUTOFF]})
    table = build_feature_table(CUSTOMERS, HISTORY, cut, specs)
    assert table["big_app_orders_90d"].tolist() == [1.0]
    assert list(table.columns) == ["customer_id", "cutoff", "plan", "monthly_price",
                                   "tenure_days", "big_app_orders_90d"]


def test_output_types_follow_the_convention(row: dict) -> None:
    cut = pd.DataFrame({"customer_id": ["a"], "cutoff": [CUTOFF]})
    table = build_feature_table(CUSTOMERS, HISTORY, cut)
    assert str(table["cutoff"].dtype) == "datetime64[us, UTC]"
    numeric = [s.name for s in DEFAULT_SPECS if s.kind != "nps_category"]
    assert all(str(table[c].dtype) == "float64" for c in numeric)


def fade(days: float, half_life: float = 62.0) -> float:
    return 0.5 ** (days / half_life)


def test_decayed_damage_weighs_recent_experiences_more(row: dict) -> None:
    a, b = row["a"], row["b"]
    # late by 2 days 19 days ago, late by 5 days 151 days ago (on-time ones do not count)
    assert a["late_delivery_damage"] == pytest.approx(2**0.6 * fade(19) + 5**0.6 * fade(151))
    assert a["ticket_damage"] == pytest.approx(fade(14) + fade(45))
    assert a["slow_ticket_damage"] == pytest.approx(60**0.5 * fade(45))  # only the 60 h one
    assert a["reopening_damage"] == pytest.approx(fade(13))
    assert a["complaint_damage"] == pytest.approx(fade(9))
    # NPS 9 (90 days ago) and 4 (9 days ago): the recent detractor answer dominates
    nps = (9 * fade(90) + 4 * fade(9)) / (fade(90) + fade(9))
    assert a["nps_decayed_mean"] == pytest.approx(nps) and nps < 6.5 == a["nps_mean_180d"]
    assert b["sessions_decayed"] == pytest.approx(fade(0.5, 30.0))
    assert b["late_delivery_damage"] == 0.0 and math.isnan(b["nps_decayed_mean"])


def test_price_and_payment_features_read_the_whole_history() -> None:
    history = events([
        ("a", "2023-01-10", "price_change", "email", 2.0, N, N, N),
        ("a", "2025-01-30", "price_change", "email", 1.5, N, N, N),
        ("a", "2025-02-27", "price_change", "email", -0.5, N, N, N),
        ("a", "2025-02-19", "payment_failed", "app", 10.0, N, N, N),
    ])
    cut = pd.DataFrame({"customer_id": ["a"], "cutoff": [CUTOFF]})
    a = build_feature_table(CUSTOMERS, history, cut).iloc[0]
    assert a["price_change_total"] == pytest.approx(3.0)
    assert a["price_rise_damage"] == pytest.approx(2.0 * fade(781) + 1.5 * fade(30))
    assert a["price_cut_relief"] == pytest.approx(-0.5 * fade(2))
    assert a["days_since_last_payment_failure"] == 10.0
    assert a["payment_failure_damage"] == pytest.approx(fade(10))


def test_decay_stays_exact_over_cutoffs_years_apart() -> None:
    # A 1-day half-life over a batch spanning ten years: a naive exp(k * age) would overflow.
    spec = AggregateSpec(name="complaints_fading", description="complaints, fading fast",
                         family="friction", event_types=("complaint",),
                         aggregation="decayed_sum", half_life_days=1.0)
    history = events([("a", "2024-12-30", "complaint", "web", N, N, N, N),
                      ("a", "2015-01-01", "complaint", "web", N, N, N, N)])
    early = pd.Timestamp("2015-01-03", tz="UTC")
    cut = pd.DataFrame({"customer_id": ["a", "a"], "cutoff": [early, ts("2025-01-01")]})
    table = build_feature_table(CUSTOMERS, history, cut, [spec]).set_index("cutoff")
    assert table.loc[early, "complaints_fading"] == pytest.approx(0.25)
    assert table.loc[ts("2025-01-01"), "complaints_fading"] == pytest.approx(0.25)


def test_an_unknown_value_adds_nothing_to_a_capped_decayed_sum() -> None:
    # SQL's LEAST/GREATEST skip NULL: an unknown delay must not count as the cap (or 0)
    spec = AggregateSpec(name="delay_damage", description="delivery delays, capped, fading",
                         family="delivery", event_types=("delivery",),
                         aggregation="decayed_sum", column="duration", half_life_days=10.0,
                         cap=6.0, power=0.5)
    mean = AggregateSpec(name="delay_fading_mean", description="delivery delay, fading mean",
                         family="delivery", event_types=("delivery",),
                         aggregation="decayed_mean", column="duration", half_life_days=10.0,
                         cap=6.0)
    history = events([("a", "2025-02-19", "delivery", "web", N, N, 9.0, N),
                      ("a", "2025-02-27", "delivery", "web", N, N, N, N)])
    cut = pd.DataFrame({"customer_id": ["a"], "cutoff": [CUTOFF]})
    a = build_feature_table(CUSTOMERS, history, cut, [spec, mean]).iloc[0]
    assert a["delay_damage"] == pytest.approx(6**0.5 * fade(10, 10.0))
    assert a["delay_fading_mean"] == pytest.approx(6.0)

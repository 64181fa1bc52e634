"""CX KPIs on hand-made frames: every value and interval equals a hand computation.

The world: January 2025 has 10 NPS, 8 CSAT and 5 CES answers from six active customers;
February has no survey answer at all (an empty month); March has a single NPS answer (a tiny
sample). Churn is contractual, with a cancellation exactly at a month start.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError
from features.kpis import KpiConfig, kpi_table

Z = 1.959963984540054  # the 0.975 normal quantile
T4 = 2.7764451051977987  # the 0.975 Student-t quantile with 4 degrees of freedom


def _t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def _customers() -> pd.DataFrame:
    rows = [  # id, signup, segment
        ("A", "2024-12-15", "consumer"), ("B", "2024-12-20", "consumer"),
        ("C", "2024-12-01", "smb"), ("D", "2025-01-10", "smb"),
        ("E", "2024-11-01", "consumer"), ("F", "2024-10-01", "smb"),
        ("G", "2025-02-05", "smb"), ("H", "2024-06-01", "consumer"),
    ]
    return pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "signup_date": pd.to_datetime([r[1] for r in rows], utc=True).as_unit("us"),
        "segment": [r[2] for r in rows],
    })


def _events(rows: list[tuple[str, str, str, float | None]]) -> pd.DataFrame:
    """Rows of (customer, time, type, score) -> a contract events frame (channel web)."""
    n = len(rows)
    return pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "event_time": pd.to_datetime([r[1] for r in rows], utc=True, format="ISO8601"
                                     ).as_unit("us"),
        "event_type": [r[2] for r in rows],
        "channel": ["web"] * n,
        "amount": np.full(n, np.nan),
        "score": [np.nan if r[3] is None else float(r[3]) for r in rows],
        "duration": np.full(n, np.nan),
        "text": pd.Series([None] * n, dtype="str"),
    })


JAN_NPS = [("A", 10), ("A", 9), ("B", 9), ("B", 8), ("C", 7), ("C", 6), ("D", 3), ("D", 0),
           ("E", 10), ("E", 9)]  # promoters 5, passives 2, detractors 3
JAN_CSAT = [("A", 5), ("A", 4), ("B", 4), ("B", 3), ("C", 2), ("C", 5), ("D", 1), ("D", 4)]
JAN_CES = [("A", 2), ("B", 5), ("C", 7), ("D", 3), ("E", 6)]


def _world() -> pd.DataFrame:
    rows: list[tuple[str, str, str, float | None]] = []
    for kind, answers in (("survey_nps", JAN_NPS), ("survey_csat", JAN_CSAT),
                          ("survey_ces", JAN_CES)):
        rows += [(cid, f"2025-01-{12 + i:02d} 09:00", kind, s) for i, (cid, s) in
                 enumerate(answers)]
    rows += [
        ("H", "2025-01-03", "session", None),  # active, answers no survey
        ("F", "2024-12-10", "cancellation", None),  # gone before January
        ("E", "2025-01-20", "cancellation", None),  # churns in January
        ("B", "2025-02-01 00:00", "cancellation", None),  # exactly at the February start
        ("A", "2025-02-14", "session", None),  # February: active, no survey
        ("G", "2025-02-25", "cancellation", None),  # signed up mid-February: never at risk
        ("A", "2025-03-03", "survey_nps", 10),  # March: one answer
    ]
    return _events(rows)


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    with np.errstate(all="raise"):
        return kpi_table(_customers(), _world(), by=("month",), min_n=30).set_index("month")


@pytest.mark.filterwarnings("error")
def test_months_run_from_first_to_last_event_with_the_empty_month_as_a_row() -> None:
    with np.errstate(all="raise"):  # a division by zero would raise here
        table = kpi_table(_customers(), _world(), by=("month",), min_n=30)
    months = pd.date_range("2024-12-01", "2025-03-01", freq="MS", tz="UTC").as_unit("us")
    assert list(table["month"]) == list(months)
    feb = table.set_index("month").loc[_t("2025-02-01")]
    assert (feb["n_nps"], feb["n_csat"], feb["n_ces"]) == (0, 0, 0)
    assert all(math.isnan(feb[c]) for c in ("nps", "nps_ci_low", "csat", "csat_ci_high",
                                            "ces_mean", "ces_ci_low", "high_effort"))
    assert feb["small_nps"] and feb["small_csat"] and feb["small_ces"]


def test_nps_and_its_trinomial_interval(monthly: pd.DataFrame) -> None:
    jan = monthly.loc[_t("2025-01-01")]
    assert (jan["n_nps"], jan["n_promoters"], jan["n_passives"], jan["n_detractors"]) == (
        10, 5, 2, 3)
    assert jan["nps"] == pytest.approx(20.0)  # 100 * (5 - 3) / 10
    # var = (0.5 * 0.5 + 0.3 * 0.7 + 2 * 0.5 * 0.3) / 10 = 0.076
    half = 100 * Z * math.sqrt(0.076)  # 54.0325 points
    assert jan["nps_ci_low"] == pytest.approx(20 - half)
    assert jan["nps_ci_high"] == pytest.approx(20 + half)
    assert (jan["nps_ci_low"], jan["nps_ci_high"]) == pytest.approx((-34.0325, 74.0325),
                                                                     abs=1e-4)
    assert (jan["promoters"], jan["passives"], jan["detractors"]) == pytest.approx(
        (0.5, 0.2, 0.3))


def _wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return centre - half, centre + half


def test_csat_is_the_share_of_4_and_5_with_a_wilson_interval(monthly: pd.DataFrame) -> None:
    jan = monthly.loc[_t("2025-01-01")]
    assert (jan["n_csat"], jan["n_csat_satisfied"]) == (8, 5)
    assert jan["csat"] == pytest.approx(0.625)
    assert (jan["csat_ci_low"], jan["csat_ci_high"]) == pytest.approx(_wilson(5, 8))
    assert (jan["csat_ci_low"], jan["csat_ci_high"]) == pytest.approx((0.30574, 0.86316),
                                                                      abs=1e-5)


def test_ces_mean_with_a_t_interval_and_the_high_effort_share(monthly: pd.DataFrame) -> None:
    jan = monthly.loc[_t("2025-01-01")]
    assert jan["n_ces"] == 5
    assert jan["ces_mean"] == pytest.approx(4.6)  # (2 + 5 + 7 + 3 + 6) / 5
    # squared deviations 6.76 + 0.16 + 5.76 + 2.56 + 1.96 = 17.2; sd = sqrt(17.2 / 4)
    assert jan["ces_sd"] == pytest.approx(math.sqrt(4.3))
    half = T4 * math.sqrt(4.3) / math.sqrt(5)  # 2.5748
    assert (jan["ces_ci_low"], jan["ces_ci_high"]) == pytest.approx((4.6 - half, 4.6 + half))
    assert (jan["ces_ci_low"], jan["ces_ci_high"]) == pytest.approx((2.0252, 7.1748), abs=1e-4)
    assert (jan["n_high_effort"], jan["high_effort"]) == (3, pytest.approx(0.6))  # 5, 7, 6
    assert (jan["high_effort_ci_low"], jan["high_effort_ci_high"]) == pytest.approx(
        _wilson(3, 5))


def test_contractual_churn_counts_customers_at_risk_at_the_month_start(
        monthly: pd.DataFrame) -> None:
    # January: A, B, C, E, H at risk (D signs up in January, F left in December); E churns.
    # February: A, B, C, D, H at risk; B cancels exactly at the start, so in February.
    # G signs up and cancels within February: never at risk. March: A, C, D, H; none churns.
    got = monthly.loc[pd.date_range("2025-01-01", periods=3, freq="MS", tz="UTC"),
                      ["n_at_risk", "n_churned"]]
    assert got.to_numpy().tolist() == [[5, 1], [5, 1], [4, 0]]
    jan = monthly.loc[_t("2025-01-01")]
    assert jan["churn_rate"] == pytest.approx(0.2)
    assert (jan["churn_ci_low"], jan["churn_ci_high"]) == pytest.approx(_wilson(1, 5))
    assert (jan["churn_ci_low"], jan["churn_ci_high"]) == pytest.approx((0.036224, 0.624465),
                                                                        abs=1e-6)
    mar = monthly.loc[_t("2025-03-01")]
    assert mar["churn_rate"] == 0.0
    assert (mar["churn_ci_low"], mar["churn_ci_high"]) == pytest.approx(_wilson(0, 4))


def test_response_rate_is_responders_over_active_customers(monthly: pd.DataFrame) -> None:
    jan, feb = monthly.loc[_t("2025-01-01")], monthly.loc[_t("2025-02-01")]
    assert (jan["n_active"], jan["n_responded"]) == (6, 5)  # A-E answered, H only browsed
    assert jan["response_rate"] == pytest.approx(5 / 6)
    assert (jan["response_ci_low"], jan["response_ci_high"]) == pytest.approx(_wilson(5, 6))
    assert jan["nps_response_rate"] == pytest.approx(5 / 6)
    assert jan["ces_response_rate"] == pytest.approx(5 / 6)
    assert jan["csat_response_rate"] == pytest.approx(4 / 6)
    assert (feb["n_active"], feb["n_responded"], feb["response_rate"]) == (1, 0, 0.0)


def test_a_tiny_sample_is_flagged_and_kept_with_its_n(monthly: pd.DataFrame) -> None:
    mar = monthly.loc[_t("2025-03-01")]
    assert (mar["n_nps"], mar["nps"], mar["small_nps"]) == (1, 100.0, True)
    assert (mar["nps_ci_low"], mar["nps_ci_high"]) == (100.0, 100.0)  # var 0 at n = 1
    assert math.isnan(mar["ces_ci_low"])  # no t interval below two answers
    jan = kpi_table(_customers(), _world(), min_n=10).set_index("month").loc[_t("2025-01-01")]
    assert not jan["small_nps"] and jan["small_csat"] and jan["small_ces"]  # n 10, 8, 5


def test_by_segment_splits_every_month_into_levels() -> None:
    table = kpi_table(_customers(), _world(), by=("month", "segment"))
    assert len(table) == 4 * 2  # every month x {consumer, smb}, empty cells included
    jan = table[table["month"] == _t("2025-01-01")].set_index("segment")
    # consumer answers: A 10, 9; B 9, 8; E 10, 9 -> 5 promoters of 6; smb: C 7, 6; D 3, 0
    assert jan.loc["consumer", "n_nps"] == 6 and jan.loc["smb", "n_nps"] == 4
    assert jan.loc["consumer", "nps"] == pytest.approx(100 * 5 / 6)
    assert jan.loc["smb", "nps"] == pytest.approx(-75.0)
    assert (jan.loc["consumer", "n_at_risk"], jan.loc["consumer", "n_churned"]) == (4, 1)


def test_channel_groups_have_no_customer_kpis() -> None:
    table = kpi_table(_customers(), _world(), by=("month", "channel"))
    assert table["n_at_risk"].isna().all() and table["churn_rate"].isna().all()
    assert table["n_nps"].sum() == 11


def test_an_unknown_group_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"by must name distinct groups among .*segment.*"
                                          r"unknown: \['plan'\]"):
        kpi_table(_customers(), _world(), by=("month", "plan"))


def test_touchpoint_is_the_latest_one_within_the_window_and_never_after_the_answer() -> None:
    customers = pd.DataFrame({
        "customer_id": ["X", "Y", "Z"],
        "signup_date": pd.to_datetime(["2024-01-01"] * 3, utc=True).as_unit("us"),
    })
    events = _events([
        ("X", "2025-01-01 10:00", "delivery", None),
        ("X", "2025-01-05 10:00", "support_ticket", None),  # latest before X's answer
        ("X", "2025-01-06 10:00", "order", None),  # at the answer instant: not before it
        ("X", "2025-01-06 10:00", "survey_csat", 5),
        ("X", "2025-01-06 12:00", "delivery", None),  # after the answer
        ("Y", "2025-01-01 10:00", "delivery", None),
        ("Y", "2025-01-08 10:00", "survey_csat", 4),  # exactly 7 days later: attributed
        ("Y", "2025-01-08 10:00:01", "survey_nps", 9),  # 7 days and a second: none
        ("Z", "2025-01-03 10:00", "survey_csat", 1),  # X's delivery is not Z's
        ("Z", "2025-01-20 08:00", "order", None),  # a tie at one instant: the type listed
        ("Z", "2025-01-20 08:00", "support_ticket", None),  # last in touchpoint_types wins
        ("Z", "2025-01-21 08:00", "survey_nps", 2),
    ])
    table = kpi_table(customers, events, by=("touchpoint",),
                      config=KpiConfig(touchpoint_days=7)).set_index("touchpoint")
    assert sorted(table.index) == ["delivery", "none", "support_ticket"]
    assert table.loc["support_ticket", ["n_csat", "n_csat_satisfied", "n_nps"]].tolist() == [
        1, 1, 1]
    assert table.loc["delivery", ["n_csat", "n_csat_satisfied", "n_nps"]].tolist() == [1, 1, 0]
    assert table.loc["none", ["n_csat", "n_nps"]].tolist() == [1, 1]

"""The NumPy form of the feature specs (``features.evaluate``, served by live updates) gives
the rows the compiled query gives (``build_feature_table``), over random events and a spec
set that uses every aggregation, filter operator, channel, text signal, decay shape, window,
trend and the NPS category; for contractual and non-contractual labels.

Floats to 1e-12, as the live tests: the two forms may add the same numbers in another order.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.btyd_features import btyd_specs
from features.default_specs import DEFAULT_SPECS
from features.evaluate import epoch
from features.pipeline import build_feature_table
from features.schema import CHANNELS, CUSTOMER_ID, CUTOFF, EVENT_COLUMNS
from features.spec import AggregateSpec, BtydSpec, Filter, NpsCategorySpec, TrendSpec
from serving.live.compute import LiveFeatures

CUTOFF_AT = pd.Timestamp("2025-06-01", tz="UTC")
TYPES = ("order", "delivery", "return", "support_ticket", "complaint", "survey_nps",
         "survey_csat", "session", "feedback", "cancellation", "email_open")
TEXTS = ("KARGO GEÇ GELDİ", "Şikâyetim var", "great, thank you", "late again", "İyi", None,
         "x²late", "ok")


def _agg(name: str, types: tuple[str, ...], aggregation: str, **kw: object) -> AggregateSpec:
    return AggregateSpec(name=name, description=name, family="cx", event_types=types,
                         aggregation=aggregation, **kw)  # type: ignore[arg-type]


EVERY_KIND = (
    _agg("n_all", ("order", "delivery"), "count"),
    _agg("n_web_30", ("order",), "count", window_days=30, channel="web"),
    _agg("amount_sum_60", ("order", "return"), "sum", column="amount", window_days=60),
    _agg("amount_mean", ("order",), "mean", column="amount"),
    _agg("late_min", ("delivery",), "min", column="duration", filter=Filter("duration", ">", 0)),
    _agg("late_max_90", ("delivery",), "max", column="duration", window_days=90),
    _agg("nps_last", ("survey_nps",), "last", column="score"),
    _agg("csat_change", ("survey_csat",), "change", column="score"),
    _agg("since_complaint", ("complaint",), "days_since_last"),
    _agg("neg_share", ("feedback",), "share", text_signal="negative"),
    _agg("pos_count_30", ("feedback",), "count", text_signal="positive", window_days=30),
    _agg("not_three", ("survey_nps",), "count", filter=Filter("score", "!=", 3.0)),
    _agg("low_le", ("survey_csat",), "count", filter=Filter("score", "<=", 2.0)),
    _agg("eq_five", ("survey_csat",), "count", filter=Filter("score", "=", 5.0)),
    _agg("ge_ten", ("order",), "count", filter=Filter("amount", ">=", 10.0)),
    _agg("lt_zero", ("order",), "count", filter=Filter("amount", "<", 0.0)),
    _agg("repeat", ("order",), "repeat_count"),
    _agg("age_first", ("order",), "days_since_first"),
    _agg("span", ("order",), "active_span"),
    _agg("gap_mean", ("order",), "gap_mean"),
    _agg("gap_cv", ("order",), "gap_cv"),
    _agg("fade", ("complaint", "support_ticket"), "decayed_sum", half_life_days=7.0),
    _agg("fade_capped", ("delivery",), "decayed_sum", column="duration", half_life_days=3.5,
         cap=6.0, power=0.6),  # no filter: unknown durations are not summed
    _agg("fade_mean_30", ("survey_nps",), "decayed_mean", column="score", half_life_days=1.0,
         window_days=30),
    _agg("n_30", ("order",), "count", window_days=30),
    _agg("n_180", ("order",), "count", window_days=180),
    TrendSpec(name="trend_ratio", description="r", family="trend", inputs=("n_30", "n_180"),
              op="ratio"),
    TrendSpec(name="trend_diff", description="d", family="trend", inputs=("n_30", "n_180"),
              op="difference"),
    TrendSpec(name="trend_rate", description="rr", family="trend", inputs=("n_30", "n_180"),
              op="rate_ratio"),
    NpsCategorySpec(name="nps_group", description="g", family="cx", inputs=("nps_last",)),
    BtydSpec(name="alive", description="a", family="rfm", output="p_alive"),
    BtydSpec(name="expected_30", description="e", family="rfm", output="expected_purchases",
             horizon_days=30),
)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(3, 8))
    ids = [f"K{i:03d}" for i in range(n)]
    signup = [CUTOFF_AT - pd.Timedelta(days=draw(st.integers(-5, 400))) for _ in ids]
    if draw(st.booleans()):
        signup[0] = pd.NaT
    customers = pd.DataFrame({CUSTOMER_ID: ids, "signup_date": pd.to_datetime(signup, utc=True),
                              "plan": [draw(st.sampled_from(("a", "b"))) for _ in ids],
                              "price": [draw(st.floats(0, 99)) for _ in ids]})
    rows = []
    for cid in ids[1:]:  # the first customer has no events at all
        for _ in range(draw(st.integers(0, 25))):
            kind = draw(st.sampled_from(TYPES))
            seconds = draw(st.integers(-400 * 86400, 10 * 86400))
            micros = draw(st.integers(0, 999_999))
            rows.append({
                CUSTOMER_ID: cid, "event_type": kind,
                "event_time": CUTOFF_AT + pd.Timedelta(seconds=seconds, microseconds=micros),
                "channel": draw(st.sampled_from((*CHANNELS, None))),
                "amount": draw(st.sampled_from((None, -5.0, 0.0, 12.5, 99.99))),
                "score": draw(st.sampled_from((None, 0.0, 2.0, 3.0, 5.0, 7.0, 9.0, 10.0))),
                "duration": draw(st.sampled_from((None, -1.0, 0.0, 0.5, 3.0, 30.0))),
                "text": draw(st.sampled_from(TEXTS)) if kind == "feedback" else None})
    events = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    events["event_time"] = pd.to_datetime(events["event_time"], utc=True)
    for column in ("amount", "score", "duration"):
        events[column] = events[column].astype(float)
    return customers, events


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(world=worlds(), kind=st.sampled_from(("contractual", "non_contractual")),
       split=st.integers(0, 12))
def test_the_numpy_form_gives_the_compiled_rows(world, kind, split) -> None:
    customers, events = world
    ids = sorted(customers[CUSTOMER_ID])
    cutoff = CUTOFF_AT + pd.Timedelta(days=split)
    # history before the store's cutoff, the rest posted live: both paths of the live build
    history = events[events["event_time"] < CUTOFF_AT]
    live = events[events["event_time"] >= CUTOFF_AT]
    features = LiveFeatures(customers, history, CUTOFF_AT, EVERY_KIND, kind)
    features._prepare(cutoff)
    rows, ineligible = features._evaluated(ids, live, cutoff)
    compiled, compiled_out = features._compiled(ids, live, cutoff)
    assert ineligible == compiled_out
    pd.testing.assert_frame_equal(rows.reset_index(drop=True),
                                  compiled.reset_index(drop=True),
                                  check_exact=False, rtol=1e-12, atol=1e-12)
    # and the whole build, BG/NBD columns included, is the batch build's
    built, _ = features.build(ids, live, cutoff)
    if not len(built):
        return
    batch = build_feature_table(customers, events, pd.DataFrame(
        {CUSTOMER_ID: list(built[CUSTOMER_ID]), CUTOFF: cutoff}), EVERY_KIND)
    pd.testing.assert_frame_equal(built.sort_values(CUSTOMER_ID).reset_index(drop=True),
                                  batch.sort_values(CUSTOMER_ID).reset_index(drop=True),
                                  check_exact=False, rtol=1e-12, atol=1e-12)


def test_the_live_build_uses_the_numpy_form_after_checking_it(default_world) -> None:
    customers, events = default_world.customers, default_world.events  # type: ignore[attr-defined]
    features = LiveFeatures(customers, events, CUTOFF_AT, DEFAULT_SPECS)
    ids = sorted(customers[CUSTOMER_ID])[:50]
    rows, _ = features.build(ids, events.iloc[:0], CUTOFF_AT)
    assert features.fast, "the check on real customers found a difference"
    assert {s.name for s in btyd_specs(DEFAULT_SPECS)} <= set(rows.columns)


def test_a_form_that_differs_is_not_served(default_world, monkeypatch, caplog) -> None:
    import serving.live.compute as compute

    real = compute.evaluate_specs

    def off_by_one(*args: object, **kw: object) -> dict[str, np.ndarray]:
        values = real(*args, **kw)  # type: ignore[arg-type]
        values["complaints_30d"] = values["complaints_30d"] + 1
        return values

    monkeypatch.setattr(compute, "evaluate_specs", off_by_one)
    customers, events = default_world.customers, default_world.events  # type: ignore[attr-defined]
    features = LiveFeatures(customers, events, CUTOFF_AT, DEFAULT_SPECS)
    ids = sorted(customers[CUSTOMER_ID])[:20]
    rows, _ = features.build(ids, events.iloc[:0], CUTOFF_AT)
    assert not features.fast
    assert "complaints_30d" in caplog.text and "compiled query serves" in caplog.text
    batch = build_feature_table(customers, events[events["event_time"] < CUTOFF_AT],
                                pd.DataFrame({CUSTOMER_ID: list(rows[CUSTOMER_ID]),
                                              CUTOFF: CUTOFF_AT}))
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), batch.reset_index(drop=True),
                                  check_exact=False, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("micros", [0, 1, 999, 1_762_654_047_840_054, -1, -1_001,
                                    -3_000_000_000_000_123])
def test_epoch_rounds_as_duckdb_does(micros: int) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    (expected,) = con.execute("SELECT EPOCH(CAST(make_timestamp(?) AS TIMESTAMPTZ))",
                              [micros]).fetchone()  # type: ignore[misc]
    assert float(epoch(micros)) == expected

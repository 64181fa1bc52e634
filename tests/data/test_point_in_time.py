"""Point-in-time correctness: features at a cutoff ignore everything at or after it.

Property (hypothesis): adding, changing or removing events with ``event_time >= cutoff``
never changes that cutoff's features. Plus the boundary: an event exactly at the cutoff.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from features import schema
from features.default_specs import DEFAULT_SPECS
from features.pipeline import build_feature_table

CUTOFFS = [pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-03-01", tz="UTC")]
FIRST = CUTOFFS[0]
ORIGIN = pd.Timestamp("2024-06-01", tz="UTC")
SPAN_HOURS = 24 * 365
IDS = ["a", "b", "c"]
CUSTOMERS = pd.DataFrame({
    "customer_id": IDS,
    "signup_date": pd.to_datetime(["2024-01-01"] * 3, utc=True).astype("datetime64[us, UTC]"),
    "plan": ["basic", "plus", "basic"],
})
TEXTS = [None, "late and broken", "harika, teşekkürler", "kötü hizmet"]

event = st.fixed_dictionaries({
    "customer_id": st.sampled_from(IDS),
    "hour": st.integers(0, SPAN_HOURS),
    "event_type": st.sampled_from(sorted(schema.EVENT_TYPES)),
    "channel": st.sampled_from(schema.CHANNELS),
    "amount": st.one_of(st.none(), st.floats(-50, 500, allow_nan=False)),
    "score": st.one_of(st.none(), st.integers(0, 10).map(float)),
    "duration": st.one_of(st.none(), st.floats(-5, 100, allow_nan=False)),
    "text": st.sampled_from(TEXTS),
})


def to_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "hour", "event_type", "channel",
                                        "amount", "score", "duration", "text"])
    frame.insert(1, "event_time", ORIGIN + pd.to_timedelta(frame.pop("hour"), unit="h"))
    frame["event_time"] = frame["event_time"].astype("datetime64[us, UTC]")
    for col in ("amount", "score", "duration"):
        frame[col] = frame[col].astype("float64")
    frame["text"] = frame["text"].astype("object")
    return frame[list(schema.EVENT_COLUMNS)]


def features_at(events: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Features at ``cutoff`` computed in a batch with BOTH cutoffs (as training does)."""
    cut = pd.DataFrame([(c, d) for c in IDS for d in CUTOFFS], columns=["customer_id", "cutoff"])
    table = build_feature_table(CUSTOMERS, events, cut, DEFAULT_SPECS)
    return table[table["cutoff"] == cutoff].reset_index(drop=True)


def unique_times(rows: list[dict]) -> list[dict]:
    """One event per (customer, type, hour): 'last value' of tied events is undefined."""
    seen, out = set(), []
    for row in rows:
        key = (row["customer_id"], row["event_type"], row["hour"])
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


cutoff_hour = int((FIRST - ORIGIN) / pd.Timedelta(hours=1))


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(past=st.lists(event, max_size=25), future=st.lists(event, max_size=15),
       changed=st.lists(event, max_size=15), drop=st.integers(0, 15), data=st.data())
def test_events_at_or_after_cutoff_never_change_its_features(
    past: list[dict], future: list[dict], changed: list[dict], drop: int, data: st.DataObject,
) -> None:
    before = [dict(r, hour=r["hour"] % cutoff_hour) for r in unique_times(past)]
    after_a = [dict(r, hour=cutoff_hour + r["hour"] % (SPAN_HOURS - cutoff_hour)) for r in future]
    after_b = [dict(r, hour=cutoff_hour + r["hour"] % (SPAN_HOURS - cutoff_hour))
               for r in changed]
    # world A: past + some future events; world B: past + other future events, some of A's
    # removed, the rest changed (always keeping an event exactly at the cutoff in play)
    at_cutoff = data.draw(event).copy()
    at_cutoff["hour"] = cutoff_hour
    world_a = to_frame(before + after_a + [at_cutoff])
    world_b = to_frame(before + after_a[drop:] + after_b)
    assert_frame_equal(features_at(world_a, FIRST), features_at(world_b, FIRST))


def test_event_exactly_at_the_cutoff_is_not_a_feature() -> None:
    just_before = {"customer_id": "a", "hour": cutoff_hour - 1, "event_type": "complaint",
                   "channel": "web", "amount": None, "score": None, "duration": None,
                   "text": None}
    at = dict(just_before, hour=cutoff_hour)
    with_at = features_at(to_frame([just_before, at]), FIRST).set_index("customer_id")
    assert with_at.loc["a", "complaints_30d"] == 1.0
    assert with_at.loc["a", "days_since_last_complaint"] == 1 / 24
    # the next cutoff sees both
    later = features_at(to_frame([just_before, at]), CUTOFFS[1]).set_index("customer_id")
    assert later.loc["a", "complaints_90d"] == 2.0


def test_window_start_is_inclusive() -> None:
    # exactly 30 days before the cutoff: inside the 30-day window; one hour earlier: outside
    edge = {"customer_id": "a", "hour": cutoff_hour - 30 * 24, "event_type": "order",
            "channel": "web", "amount": 10.0, "score": None, "duration": None, "text": None}
    older = dict(edge, hour=edge["hour"] - 1, amount=5.0)
    row = features_at(to_frame([edge, older]), FIRST).set_index("customer_id").loc["a"]
    assert (row["orders_30d"], row["order_value_30d"], row["orders_90d"]) == (1.0, 10.0, 2.0)


# -------------------------------------------- purchase history and BG/NBD (fitted per cutoff)

BUYERS = [f"b{i:02d}" for i in range(40)]
BUYER_TABLE = pd.DataFrame({
    "customer_id": BUYERS,
    "signup_date": pd.to_datetime(["2024-01-01"] * len(BUYERS), utc=True).astype(
        "datetime64[us, UTC]"),
})
PURCHASE_COLUMNS = ["repeat_orders", "days_since_first_order", "order_span_days",
                    "order_gap_mean", "order_gap_cv", "order_p_alive", "expected_orders_90d"]


def _orders(seed: int) -> list[dict]:
    """A population of order histories before the first cutoff, enough to fit BG/NBD on."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for cid in BUYERS:
        hours = np.sort(rng.integers(0, cutoff_hour, rng.integers(1, 12)))
        rows += [{"customer_id": cid, "hour": int(h), "event_type": "order", "channel": "web",
                  "amount": 20.0, "score": None, "duration": None, "text": None} for h in hours]
    return rows


def buyer_features_at(events: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    cut = pd.DataFrame([(c, d) for c in BUYERS for d in CUTOFFS],
                       columns=["customer_id", "cutoff"])
    table = build_feature_table(BUYER_TABLE, events, cut, DEFAULT_SPECS)
    return table[table["cutoff"] == cutoff].reset_index(drop=True)[["customer_id",
                                                                    *PURCHASE_COLUMNS]]


order = st.fixed_dictionaries({
    "customer_id": st.sampled_from(BUYERS), "hour": st.integers(0, SPAN_HOURS),
    "event_type": st.just("order"), "channel": st.just("web"), "amount": st.just(20.0),
    "score": st.none(), "duration": st.none(), "text": st.none()})


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 3), future=st.lists(order, min_size=1, max_size=30),
       other=st.lists(order, max_size=30))
def test_orders_at_or_after_a_cutoff_never_reach_its_purchase_statistics_or_bgnbd_fit(
        seed: int, future: list[dict], other: list[dict]) -> None:
    past = _orders(seed)
    later = [dict(r, hour=cutoff_hour + r["hour"] % (SPAN_HOURS - cutoff_hour)) for r in future]
    moved = [dict(r, hour=cutoff_hour + r["hour"] % (SPAN_HOURS - cutoff_hour)) for r in other]
    at_cutoff = dict(later[0], hour=cutoff_hour)
    a = buyer_features_at(to_frame(past + later + [at_cutoff]), FIRST)
    b = buyer_features_at(to_frame(past + moved), FIRST)
    assert_frame_equal(a, b)
    # not vacuous: the fit ran and every buyer has figures at the first cutoff
    assert a[[*PURCHASE_COLUMNS[:3], "order_p_alive", "expected_orders_90d"]].notna().all().all()


def test_a_later_cutoff_sees_the_orders_between_the_cutoffs() -> None:
    past = _orders(0)
    between = dict(past[0], hour=cutoff_hour + 24)  # a day after the first cutoff
    with_it = buyer_features_at(to_frame([*past, between]), CUTOFFS[1]).set_index("customer_id")
    without = buyer_features_at(to_frame(past), CUTOFFS[1]).set_index("customer_id")
    cid = between["customer_id"]
    assert with_it.loc[cid, "repeat_orders"] == without.loc[cid, "repeat_orders"] + 1
    assert with_it.loc[cid, "order_p_alive"] != without.loc[cid, "order_p_alive"]

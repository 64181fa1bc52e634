"""The live path's shortcuts through the history give what a full recompute gives.

``HistoryIndex`` slices must hold exactly a customer's history rows, and the BG/NBD population
kept between live updates (only buyers with new purchases recomputed, the fit reused when the
buyers it saw did not change, and the cutoff's own day never reaching it) must equal the
summaries and the fit of a recompute from scratch over history + every live purchase. The
end-to-end proof over random streams is ``tests/api/test_live_feed.py``; these pin the two
shortcuts where a stream would rarely probe them (many updates at one cutoff, a fit that sees
a sample of the buyers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import features.btyd_features as btyd_features
from features.btyd_features import FitCache, _fit
from features.default_specs import DEFAULT_SPECS
from features.schema import CUSTOMER_ID, EVENT_COLUMNS
from features.simulate import SimConfig, simulate
from serving.live.compute import LiveFeatures

CUTOFF = pd.Timestamp("2025-06-01", tz="UTC")


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return simulate(SimConfig(n_customers=150, seed=3))


def _live_orders(world, customers: list[str], start_seq: int, day: int,  # type: ignore[no-untyped-def]
                 today: bool = False) -> pd.DataFrame:
    rows = [{"seq": start_seq + i, CUSTOMER_ID: c, "event_type": "order", "channel": "web",
             "event_time": CUTOFF - pd.Timedelta(days=3) + pd.Timedelta(hours=day + i % 5),
             "amount": 20.0 + i, "score": np.nan, "duration": np.nan, "text": None}
            for i, c in enumerate(customers)]
    frame = pd.DataFrame(rows)
    if today:  # the cutoff's own day: after the population fit's instant
        frame["event_time"] = CUTOFF - pd.Timedelta(hours=2)
    frame["event_time"] = frame["event_time"].astype("datetime64[us, UTC]")
    return frame


def _loader(frame: pd.DataFrame, asked: list | None = None):  # type: ignore[no-untyped-def]
    """What the event store answers: all purchases, those after a seq, or some customers'."""
    def load(after: int | None, ids: list[str] | None) -> pd.DataFrame:
        if asked is not None:
            asked.append((after, ids))
        out = frame if after is None else frame[frame["seq"] > after]
        return out if ids is None else out[out[CUSTOMER_ID].isin(ids)]
    return load


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(CUSTOMER_ID).reset_index(drop=True)[
        [CUSTOMER_ID, "x", "t_x", "age"]]


def test_history_slices_hold_exactly_each_customers_rows(world) -> None:  # type: ignore[no-untyped-def]
    live = LiveFeatures(world.customers, world.events, CUTOFF, DEFAULT_SPECS)
    before = world.events[world.events["event_time"] < CUTOFF]
    for cid in sorted(before[CUSTOMER_ID].astype(str).unique())[:25]:
        mine = live.history.rows([cid]).to_pandas()
        assert len(mine) == (before[CUSTOMER_ID] == cid).sum() == live.history.count(cid)
        assert set(mine[CUSTOMER_ID]) == {cid}
    assert live.history.rows(["nobody"]).num_rows == 0
    orders = live.history.rows(sorted(before[CUSTOMER_ID].unique())[:5], ["order"]).to_pandas()
    assert set(orders["event_type"]) <= {"order"}


def test_kept_population_equals_a_recompute_after_many_updates_at_one_cutoff(
        world) -> None:  # type: ignore[no-untyped-def]
    kept = LiveFeatures(world.customers, world.events, CUTOFF, DEFAULT_SPECS)
    ids = sorted(world.customers[CUSTOMER_ID].astype(str))
    live = pd.DataFrame(columns=["seq", *EVENT_COLUMNS])
    kept.population.update(CUTOFF, _loader(live))
    assert len(kept.population.summaries("order")) > 50
    steps = [ids[:3], ids[2:6], [ids[0]], ids[-4:]]  # repeat buyers and new ones
    asked: list = []
    for k, who in enumerate(steps):
        live = pd.concat([live, _live_orders(world, who, 100 * k + 1, k)],  # seqs from 1
                         ignore_index=True)
        kept.population.update(CUTOFF, _loader(live, asked))
        fresh = LiveFeatures(world.customers, world.events, CUTOFF, DEFAULT_SPECS)
        fresh.population.update(CUTOFF, _loader(live))
        assert kept.population.changed == {"order": sorted(set(who))}
        pd.testing.assert_frame_equal(_sorted(kept.population.summaries("order")),
                                      _sorted(fresh.population.summaries("order")))
    # every stored purchase is read once per cutoff; later updates read the new ones and
    # the changed buyers' own
    assert (None, None) not in asked
    assert all(after is not None or buyers for after, buyers in asked)


def test_a_kept_fit_is_the_fit_of_the_changed_population(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(btyd_features, "MAX_FIT_CUSTOMERS", 40)  # a fit sees a sample
    live = LiveFeatures(world.customers, world.events, CUTOFF, DEFAULT_SPECS)
    empty = pd.DataFrame(columns=["seq", *EVENT_COLUMNS])
    live.population.update(CUTOFF, _loader(empty))
    cache = FitCache()
    first = cache.fit(live.population.summaries("order"), CUTOFF, "order")
    everyone = live.population.summaries("order")
    sampled = set(btyd_features._fit_sample(everyone)[CUSTOMER_ID])
    outside = [c for c in sorted(everyone[CUSTOMER_ID]) if c not in sampled][:3]
    inside = sorted(sampled)[:2]
    # the cutoff's own day never reaches the fit; then an earlier order of a buyer the fit did
    # not see; then of one it saw
    for k, (who, today) in enumerate([(inside, True), (outside, False), (inside, False)]):
        orders = _live_orders(world, who, 100 * k + 1, k, today)
        empty = pd.concat([empty, orders], ignore_index=True)
        live.population.update(CUTOFF, _loader(empty))
        assert live.population.changed == {"order": [] if today else sorted(who)}
        population = live.population.summaries("order")
        fit = cache.fit(population, CUTOFF, "order", live.population.changed["order"])
        again = _fit(population, CUTOFF, "order")
        assert first is not None and fit is not None and again is not None
        assert (fit.r, fit.alpha, fit.a, fit.b) == (again.r, again.alpha, again.a, again.b)
        assert (fit is first) == (k < 2)  # kept while no buyer it saw changed

"""The simulator's shock: a crisis from a date, validated, carried in world.json, and a world
without one unchanged draw for draw."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from cxchurn.errors import ConfigError
from features.simulate import SimConfig, simulate

# Hash of SimConfig(n_customers=600, seed=11)'s tables, computed with the simulator as it was
# before shocks existed: a world without a shock must stay byte-identical. The truth's
# columns for longer horizons came later (they add to the truth, they change no draw).
UNSHOCKED_HASH = "ced9b9fc9965dc63"
LATER_TRUTH = ("p_churn_30d", "p_churn_60d", "p_churn_90d")


def _hash(world: object) -> str:
    digest = hashlib.sha256()
    for name in ("customers", "events", "actions", "truth_churn", "truth_action_effects"):
        frame = getattr(world, name)
        frame = frame[[c for c in frame.columns if c not in LATER_TRUTH]]
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def test_a_world_without_a_shock_is_unchanged() -> None:
    assert _hash(simulate(SimConfig(n_customers=600, seed=11))) == UNSHOCKED_HASH


@pytest.mark.parametrize("value, message", [
    ("flood:2025-04-01", "one of \\['delivery', 'price', 'support'\\]"),
    ("delivery", "KIND:YYYY-MM-DD"),
    ("delivery:someday", "SimConfig.shock must be a date"),
    ("price:2030-01-01", "outside the world"),
])
def test_a_bad_shock_is_refused_naming_the_field(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SimConfig(shock=value)


def test_the_shock_travels_in_world_json() -> None:
    config = SimConfig(shock="support:2025-04-01T00:00")
    assert config.shock == "support:2025-04-01"
    assert SimConfig.from_json(config.to_json()) == config
    assert "shock" not in SimConfig().to_json()


def _late_share(events: pd.DataFrame, lo: str, hi: str) -> float:
    d = events[(events.event_type == "delivery") & (events.event_time >= lo)
               & (events.event_time < hi)]
    return float((d.duration > 0).mean())


def test_a_delivery_shock_triples_late_deliveries_from_its_date_only() -> None:
    config = SimConfig(n_customers=800, seed=5, start="2024-06-01",
                       cutoffs=("2025-03-01", "2025-05-01"))
    plain = simulate(config).events
    shocked = simulate(SimConfig(**{**config.__dict__, "shock": "delivery:2025-04-01"})).events
    # What happened before the date is the same (channels are drawn after the whole run, so
    # they may differ; the events themselves do not).
    same = ["customer_id", "event_time", "event_type", "amount", "duration", "score"]
    before = plain.loc[plain.event_time < "2025-04-01", same].reset_index(drop=True)
    assert before.equals(shocked.loc[shocked.event_time < "2025-04-01", same]
                         .reset_index(drop=True))
    ratio = (_late_share(shocked, "2025-04-05", "2025-06-01")
             / _late_share(plain, "2025-04-05", "2025-06-01"))
    assert 2.3 < ratio < 3.5

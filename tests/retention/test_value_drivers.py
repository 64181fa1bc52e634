"""Customer value from spend history, and driver families read from the feature spec."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError, FeatureMismatchError
from features.default_specs import DEFAULT_SPECS
from features.families import feature_family
from features.spec import AggregateSpec, validate_specs
from serving.retention.value import ValueConfig, customer_value, monthly_revenue


def test_value_grows_with_spend_and_price_and_short_histories_are_not_inflated() -> None:
    rows = pd.DataFrame({
        "monthly_price": [10.0, 10.0, 30.0, 10.0],
        "order_value_180d": [0.0, 600.0, 0.0, 100.0],
        "tenure_days": [400.0, 400.0, 400.0, 5.0],
    })
    revenue = monthly_revenue(rows)
    assert revenue[0] == pytest.approx(10.0)
    assert revenue[1] == pytest.approx(10.0 + 600 / 180 * 30.44)
    assert revenue[2] == pytest.approx(30.0)
    # 100 spent in 5 days counts as 100 over 30 days, not as 600 a month
    assert revenue[3] == pytest.approx(10.0 + 100.0 / 30 * 30.44)
    value = customer_value(rows)
    assert value[1] > value[2] > value[0] > 0
    longer = customer_value(rows, ValueConfig(horizon_months=48))
    assert (longer > value).all()


def test_value_needs_the_spend_feature_and_sane_assumptions() -> None:
    with pytest.raises(FeatureMismatchError, match="order_value_180d"):
        customer_value(pd.DataFrame({"tenure_days": [1.0]}))
    with pytest.raises(ConfigError, match="margin"):
        ValueConfig(margin=1.5)


@pytest.mark.parametrize(("feature", "family"), [
    ("late_deliveries_90d", "delivery"),
    ("slow_tickets_90d", "service"),
    ("complaints_30d", "service"),
    ("nps_category", "survey"),
    ("negative_feedback_90d", "survey"),
    ("price_rises_180d", "price"),
    ("payment_failures_30d", "billing"),
    ("orders_trend_30_180", "engagement"),
    ("days_since_last_activity", "engagement"),
    ("channel_share_web_90d", "engagement"),
    ("monthly_price", "price"),
    ("plan", "plan"),
    ("contract", "contract"),
    ("tenure_days", "tenure"),
])
def test_default_features_fall_in_the_expected_family(feature: str, family: str) -> None:
    assert feature_family(feature) == family


def test_a_new_spec_gets_its_family_from_its_event_types() -> None:
    specs = validate_specs([*DEFAULT_SPECS, AggregateSpec(
        name="returns_7d", description="returns in the last 7 days", family="windowed",
        event_types=("return",), aggregation="count", window_days=7)])
    assert feature_family("returns_7d", specs) == "delivery"
    assert np.isin(feature_family("something_unknown"), ["profile"])

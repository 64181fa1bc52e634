"""What a customer is worth keeping: a simple CLV estimate from the spend history.

Why not a fitted CLV model: the policy needs a value in the same currency as action costs
that a retention manager can check by hand. Monthly revenue = the plan's monthly price plus
the customer's order spend per month over the last 180 days (or over its tenure when that is
shorter); the value is the margin on that revenue over the months the customer is expected to
stay (a geometric retention curve, discounted, capped). Reads the feature table's columns
(``monthly_price``, ``order_value_180d``, ``tenure_days``): the spend is a declared feature, not
recomputed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError, FeatureMismatchError

DAYS_PER_MONTH = 30.44
SPEND_COLUMN = "order_value_180d"
SPEND_WINDOW_DAYS = 180
PRICE_COLUMN = "monthly_price"
TENURE_COLUMN = "tenure_days"


@dataclass(frozen=True)
class ValueConfig:
    """CLV assumptions; defaults suit a subscription retailer with ~3% monthly churn."""

    margin: float = 0.25  # share of revenue that is profit
    monthly_retention: float = 0.97  # the base chance a customer stays another month
    monthly_discount: float = 0.01  # cost of money per month
    horizon_months: int = 24  # no value counted beyond this
    min_history_days: float = 30.0  # shorter histories are stretched to this (no spikes)

    def __post_init__(self) -> None:
        checks = {
            "margin": 0 < self.margin <= 1,
            "monthly_retention": 0 < self.monthly_retention <= 1,
            "monthly_discount": 0 <= self.monthly_discount < 1,
            "horizon_months": isinstance(self.horizon_months, int) and self.horizon_months >= 1,
            "min_history_days": self.min_history_days > 0,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(
                f"ValueConfig {bad} out of range: margin and monthly_retention in (0, 1], "
                f"monthly_discount in [0, 1), horizon_months >= 1, min_history_days > 0; got "
                f"{ {k: getattr(self, k) for k in bad} }."
            )

    def lifetime_months(self) -> float:
        """Expected discounted months of margin: sum over m of (retention / (1+discount))^m."""
        q = self.monthly_retention / (1.0 + self.monthly_discount)
        m = np.arange(1, self.horizon_months + 1)
        return float((q**m).sum())


def monthly_revenue(features: pd.DataFrame, min_history_days: float = 30.0) -> pd.Series:
    """Subscription price plus order spend per month (NaN spend = no orders = 0)."""
    missing = [c for c in (SPEND_COLUMN, TENURE_COLUMN) if c not in features.columns]
    if missing:
        raise FeatureMismatchError(
            f"customer value needs the feature column(s) {missing}; build features with the "
            f"default spec set (features/default_specs.py), which declares them."
        )
    spend = pd.to_numeric(features[SPEND_COLUMN], errors="coerce").fillna(0.0).clip(lower=0)
    tenure = pd.to_numeric(features[TENURE_COLUMN], errors="coerce").fillna(SPEND_WINDOW_DAYS)
    days = tenure.clip(lower=min_history_days, upper=SPEND_WINDOW_DAYS)
    price = (
        pd.to_numeric(features[PRICE_COLUMN], errors="coerce").fillna(0.0).clip(lower=0)
        if PRICE_COLUMN in features.columns else 0.0
    )
    return (price + spend / days * DAYS_PER_MONTH).astype("float64")


def customer_value(features: pd.DataFrame, config: ValueConfig | None = None) -> pd.Series:
    """CLV per row of a feature table: margin x monthly revenue x expected discounted months."""
    config = config or ValueConfig()
    revenue = monthly_revenue(features, config.min_history_days)
    value = revenue * config.margin * config.lifetime_months()
    return value.rename("value")

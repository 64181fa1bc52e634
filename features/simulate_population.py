"""Who the synthetic customers are: static attributes and hidden traits, drawn per block.

Static attributes (plan, price, segment, region, contract, preferred channel, signup date) go
to ``customers.parquet`` and are visible to models. Hidden traits (baseline satisfaction,
price sensitivity, payment fragility, engagement, survey willingness, language) are only
partly predictable from the attributes; they are what makes two customers with the same
profile behave differently, as real customers do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from features.schema import CHANNELS

DAY_US: Final = 86_400_000_000  # microseconds in a day; all simulator clocks are int64 us UTC

PLANS: Final = ("basic", "standard", "premium")
PLAN_SHARE: Final = (0.47, 0.36, 0.17)
PLAN_PRICE: Final = (9.99, 19.99, 34.99)
PLAN_SATISFACTION: Final = (-0.08, 0.0, 0.12)
PLAN_ORDERS_PER_DAY: Final = (1 / 24, 1 / 16, 1 / 11)

SEGMENTS: Final = ("consumer", "family", "business")
SEGMENT_SHARE: Final = (0.55, 0.30, 0.15)
SEGMENT_SATISFACTION: Final = (0.0, -0.2, 0.15)  # shift of baseline satisfaction
SEGMENT_PRICE_SENSITIVITY: Final = (1.0, 1.6, 0.5)

# Turkish and British regions: language follows the region (with a few exceptions), and late
# deliveries are more common in some regions than others.
REGIONS: Final = ("istanbul", "ankara", "izmir", "london", "manchester", "leeds")
REGION_SHARE: Final = (0.26, 0.14, 0.10, 0.24, 0.14, 0.12)
REGION_TURKISH: Final = (0.93, 0.95, 0.92, 0.03, 0.02, 0.02)  # share writing in Turkish
REGION_LATE_RATE: Final = (0.18, 0.10, 0.06, 0.05, 0.12, 0.24)

CHANNEL_PREFERENCE_SHARE: Final = (0.30, 0.30, 0.13, 0.11, 0.09, 0.07)  # in CHANNELS order

ANNUAL_SHARE: Final = 0.28
PRE_START_SHARE: Final = 0.45  # customers who joined before the simulated period
PRE_START_YEARS: Final = 3.0


@dataclass(frozen=True)
class Population:
    """One block of customers as parallel arrays (index i = the block's i-th customer)."""

    index: np.ndarray  # global customer number (int64), fixes the customer id
    signup_us: np.ndarray  # signup time, int64 microseconds since epoch UTC
    plan: np.ndarray  # int codes into PLANS
    segment: np.ndarray
    region: np.ndarray
    preferred: np.ndarray  # int codes into schema.CHANNELS
    annual: np.ndarray  # bool: annual contract
    price0: np.ndarray  # monthly price at signup
    baseline: np.ndarray  # hidden: long-run satisfaction the customer returns to
    price_sensitivity: np.ndarray  # hidden
    fragility: np.ndarray  # hidden: probability a monthly payment fails
    engagement: np.ndarray  # hidden: session propensity multiplier
    order_rate: np.ndarray  # hidden: orders per day at neutral satisfaction
    responder: np.ndarray  # hidden: bool, answers surveys when invited
    turkish: np.ndarray  # hidden: bool, writes feedback in Turkish
    overpaying: np.ndarray  # hidden: bool, plan bigger than the customer needs

    def __len__(self) -> int:
        return len(self.index)


def draw_population(
    rng: np.random.Generator, first_index: int, n: int, start_us: int, end_us: int
) -> Population:
    """Draw n customers numbered first_index.. ; signups before start (with tenure) or during."""
    index = np.arange(first_index, first_index + n, dtype=np.int64)
    pre = rng.random(n) < PRE_START_SHARE
    span_pre = int(PRE_START_YEARS * 365 * DAY_US)
    signup_us = np.where(
        pre,
        start_us - 1 - (rng.random(n) * span_pre).astype(np.int64),
        start_us + (rng.random(n) * (end_us - start_us)).astype(np.int64),
    )
    plan = rng.choice(len(PLANS), size=n, p=PLAN_SHARE)
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARE)
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARE)
    preferred = rng.choice(len(CHANNELS), size=n, p=CHANNEL_PREFERENCE_SHARE)
    annual = rng.random(n) < ANNUAL_SHARE
    # Legacy price points: a minority pay a little more or less than today's list price.
    legacy = rng.choice([-2.0, 0.0, 0.0, 0.0, 2.0], size=n)
    price0 = np.round(np.asarray(PLAN_PRICE)[plan] + np.where(plan == 0, legacy / 2, legacy), 2)
    baseline = (
        np.asarray(SEGMENT_SATISFACTION)[segment]
        + np.asarray(PLAN_SATISFACTION)[plan]
        + rng.normal(0.0, 0.10, n)
    )
    price_sensitivity = np.asarray(SEGMENT_PRICE_SENSITIVITY)[segment] * rng.lognormal(
        0.0, 0.2, n
    )
    fragility = np.where(rng.random(n) < 0.12, 0.16, 0.01) * (1 + 0.5 * (segment == 1))
    engagement = np.exp(rng.normal(0.0, 0.2, n))
    order_rate = np.asarray(PLAN_ORDERS_PER_DAY)[plan] * np.exp(rng.normal(0.0, 0.3, n))
    responder = rng.random(n) < 0.30
    turkish = rng.random(n) < np.asarray(REGION_TURKISH)[region]
    overpaying = (plan > 0) & (rng.random(n) < 0.3)
    order_rate = np.where(overpaying, order_rate * 0.5, order_rate)  # they use less of it
    return Population(
        index=index, signup_us=signup_us, plan=plan, segment=segment, region=region,
        preferred=preferred, annual=annual, price0=price0, baseline=baseline,
        price_sensitivity=price_sensitivity, fragility=fragility, engagement=engagement,
        order_rate=order_rate, responder=responder, turkish=turkish, overpaying=overpaying,
    )


def customer_ids(index: np.ndarray) -> np.ndarray:
    """Stable ids from the global customer number: C00000001 ... (sortable, size-independent)."""
    return np.char.mod("C%08d", np.asarray(index) + 1).astype(object)


def to_us(ts: pd.Timestamp | str) -> int:
    """A UTC timestamp (or ISO date) as int64 microseconds since the epoch."""
    stamp = pd.Timestamp(ts)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.as_unit("us").asm8.astype("int64"))


def us_to_utc(values: np.ndarray) -> pd.Series:
    """int64 microseconds to a ``datetime64[us, UTC]`` series (the contract's timestamp type)."""
    arr = np.asarray(values, dtype=np.int64).view("datetime64[us]")
    return pd.Series(arr).dt.tz_localize("UTC")


def customers_frame(pop: Population) -> pd.DataFrame:
    """The visible side of the population, as ``customers.parquet`` holds it."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series(customer_ids(pop.index), dtype="str"),
            "signup_date": us_to_utc(pop.signup_us),
            "plan": pd.Series(np.asarray(PLANS, dtype=object)[pop.plan], dtype="str"),
            "segment": pd.Series(np.asarray(SEGMENTS, dtype=object)[pop.segment], dtype="str"),
            "region": pd.Series(np.asarray(REGIONS, dtype=object)[pop.region], dtype="str"),
            "preferred_channel": pd.Series(
                np.asarray(CHANNELS, dtype=object)[pop.preferred], dtype="str"
            ),
            "contract": pd.Series(np.where(pop.annual, "annual", "monthly"), dtype="str"),
            "monthly_price": pop.price0.astype(np.float64),
        }
    )

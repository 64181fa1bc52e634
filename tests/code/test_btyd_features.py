"""BG/NBD figures as features agree with the BG/NBD baseline's own fit, cutoff by cutoff.

The build fits on every customer's orders before the day before the cutoff (not only on the
rows it scores; ``FIT_LAG_DAYS``), with the same day-level summaries as
``features.btyd.summaries_at``, and scores each customer on their own orders before the cutoff;
a customer with no order before the cutoff gets no figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError
from features.btyd import BgNbd, summaries_at
from features.btyd_features import FIT_LAG_DAYS
from features.default_specs import DEFAULT_SPECS
from features.pipeline import build_feature_table
from features.spec import BtydSpec, spec_from_dict

CUTOFFS = pd.to_datetime(["2024-10-01", "2025-01-01"], utc=True)


def purchase_log(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    rows = []
    for i in range(n):
        rate, t = rng.gamma(1.0, 1 / 20), rng.uniform(0, 400)
        while t < 540:
            rows.append((f"C{i:03d}", start + pd.Timedelta(days=float(t)), "order", "web", 10.0))
            t += rng.exponential(1 / rate)
    events = pd.DataFrame(rows, columns=["customer_id", "event_time", "event_type", "channel",
                                         "amount"]).assign(score=np.nan, duration=np.nan,
                                                           text=None)
    customers = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(n)],
                              "signup_date": start})
    return customers, events


def test_build_figures_equal_a_fit_on_every_buyer_before_each_cutoff() -> None:
    customers, events = purchase_log()
    # score only a third of the customers: the fit must still use every buyer
    scored = customers["customer_id"].iloc[::3]
    cut = pd.DataFrame([(c, d) for c in scored for d in CUTOFFS],
                       columns=["customer_id", "cutoff"])
    table = build_feature_table(customers, events, cut, DEFAULT_SPECS)
    for cutoff in CUTOFFS:
        summ = summaries_at(events, [cutoff])
        fitted_on = summaries_at(events, [cutoff - pd.Timedelta(days=FIT_LAG_DAYS)])
        fit = BgNbd.fit(fitted_on["x"], fitted_on["t_x"], fitted_on["T"], with_se=False)
        at = table[table["cutoff"] == cutoff].merge(summ, on="customer_id", how="left")
        bought = at["x"].notna()
        np.testing.assert_allclose(at.loc[bought, "order_p_alive"],
                                   fit.p_alive(at.loc[bought, "x"], at.loc[bought, "t_x"],
                                               at.loc[bought, "T"]), rtol=1e-6)
        np.testing.assert_allclose(
            at.loc[bought, "expected_orders_90d"],
            fit.expected_purchases(90, at.loc[bought, "x"], at.loc[bought, "t_x"],
                                   at.loc[bought, "T"]), rtol=1e-6)
        # no order before the cutoff: no figure (BG/NBD starts at the first purchase)
        assert at.loc[~bought, ["order_p_alive", "expected_orders_90d"]].isna().all().all()
        assert (~bought).any() and bought.any()
        # the SQL statistics count orders and exact times; BG/NBD counts order days
        assert (at.loc[bought, "repeat_orders"] >= at.loc[bought, "x"]).all()
        assert (at.loc[bought, "days_since_first_order"] - at.loc[bought, "T"]).abs().max() < 1


def test_btyd_specs_are_checked_when_built() -> None:
    with pytest.raises(ConfigError, match="horizon_days"):
        BtydSpec(name="e", description="expected", family="rfm", output="expected_purchases")
    with pytest.raises(ConfigError, match="output must be one of"):
        spec_from_dict({"kind": "btyd", "name": "p", "description": "d", "family": "rfm",
                        "output": "p_dead"})
    with pytest.raises(ConfigError, match="exactly one purchase event type"):
        BtydSpec(name="p", description="d", family="rfm", output="p_alive",
                 event_types=("order", "session"))

"""The simulator's own satisfaction damage by driver family, at any moments: the true causes.

A simulated customer's satisfaction is ``baseline + d_delivery + d_support + d_price +
d_payment + noise`` (``simulate_dynamics``), and NPS / CSAT answers are noisy readings of it
(NPS = 7 + 2.6 x satisfaction + noise). Every damage term is made of observable events with
the shocks of ``simulate_truth`` (a late delivery hurts by ``LATE_SHOCK x late_factor(delay)``
on its arrival day, a ticket by ``TICKET_SHOCK + SLOW_SHOCK x slow_factor(hours)``, a
reopening, a complaint, a relative price rise by ``RISE_SHOCK x rise``, a failed payment) and
all of them fade by ``DAMAGE_DECAY`` a day, so the damage each family has done to a customer
by a moment can be recomputed exactly (to the day) from the events and the customers' first
price. Tests judge the driver analysis against these: the family whose damage varies most
among the people who answer is the one that truly moves their answers.

Day rule, as in the daily loop: satisfaction is read at the start of a day, after that day's
late parcels land and before the day's tickets, complaints, price changes and failed payments
add theirs, which count from the next day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.simulate_truth import (
    COMPLAINT_SHOCK,
    DAMAGE_DECAY,
    FAILED_PAYMENT_SHOCK,
    LATE_SHOCK,
    REOPEN_SHOCK,
    RISE_SHOCK,
    SLOW_SHOCK,
    TICKET_SHOCK,
    late_factor,
    slow_factor,
)

CAUSES = ("delivery", "service", "price", "billing")  # families of features.families
DAY = pd.Timedelta(days=1)


def _day(times: pd.Series) -> np.ndarray:
    since = pd.to_datetime(times, utc=True) - pd.Timestamp(0, tz="UTC")
    return (since // DAY).to_numpy(dtype=np.int64)


def shocks(customers: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Every satisfaction shock: (customer_id, day, family, shock, same_day)."""
    ev = events[["customer_id", "event_time", "event_type", "amount", "duration"]]
    kind = ev["event_type"]
    parts = []

    def add(rows: pd.DataFrame, family: str, shock: np.ndarray, same_day: bool) -> None:
        parts.append(pd.DataFrame({"customer_id": rows["customer_id"].to_numpy(),
                                   "day": _day(rows["event_time"]), "family": family,
                                   "shock": shock, "same_day": same_day}))

    late = ev[(kind == "delivery") & (ev["duration"] > 0)]
    add(late, "delivery", LATE_SHOCK * late_factor(late["duration"].to_numpy(float)), True)
    tickets = ev[kind == "support_ticket"]
    add(tickets, "service",
        TICKET_SHOCK + SLOW_SHOCK * slow_factor(tickets["duration"].to_numpy(float)), False)
    reopened = ev[kind == "ticket_reopened"]
    add(reopened, "service", np.full(len(reopened), REOPEN_SHOCK), False)
    complaints = ev[kind == "complaint"]
    add(complaints, "service", np.full(len(complaints), COMPLAINT_SHOCK), False)
    failed = ev[kind == "payment_failed"]
    add(failed, "billing", np.full(len(failed), FAILED_PAYMENT_SHOCK), False)
    changes = ev[kind == "price_change"].sort_values(["customer_id", "event_time"])
    price0 = customers.set_index("customer_id")["monthly_price"]
    before = (changes["customer_id"].map(price0).to_numpy(float)
              + changes.groupby("customer_id")["amount"].cumsum().to_numpy(float)
              - changes["amount"].to_numpy(float))
    rel = changes["amount"].to_numpy(float) / before
    add(changes, "price", np.where(rel > 0, RISE_SHOCK * rel, -rel), False)
    return pd.concat(parts, ignore_index=True)


def damage_at(customers: pd.DataFrame, events: pd.DataFrame, moments: pd.DataFrame
              ) -> pd.DataFrame:
    """Per row of ``moments`` (customer_id, time): each family's damage at that moment."""
    table = shocks(customers, events)
    at = pd.DataFrame({"row": np.arange(len(moments)),
                       "customer_id": moments["customer_id"].to_numpy(),
                       "at_day": _day(moments["time"])})
    pairs = at.merge(table, on="customer_id", how="inner")
    seen = np.where(pairs["same_day"], pairs["day"] <= pairs["at_day"],
                    pairs["day"] < pairs["at_day"])
    pairs = pairs[seen]
    pairs = pairs.assign(value=pairs["shock"] * DAMAGE_DECAY ** (pairs["at_day"] - pairs["day"]))
    wide = pairs.pivot_table(index="row", columns="family", values="value", aggfunc="sum")
    wide = wide.reindex(index=np.arange(len(moments)), columns=list(CAUSES)).fillna(0.0)
    return wide.reset_index(drop=True)

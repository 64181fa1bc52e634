"""Vital signs of a simulated world: churn per cutoff, events per type, truth AUC.

Gathered either block by block while a world streams to disk (``Accumulator``) or from a
world in memory (``world_summary``); both end in the same ``_summary`` so the figures agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from features.schema import CHANNELS, EVENT_TYPES
from features.simulate_population import DAY_US

if TYPE_CHECKING:
    from features.simulate import SimConfig, World
    from features.simulate_dynamics import BlockResult
    from features.simulate_population import Population

SURVEY_TYPES: Final = ("survey_nps", "survey_csat", "survey_ces")


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC by ranks (ties averaged); NaN when only one class is present."""
    labels = np.asarray(labels, dtype=bool)
    pos = labels.sum()
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


class Accumulator:
    """Summary figures gathered block by block (so a streamed world gets one too)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.type_counts = np.zeros(len(EVENT_TYPES), dtype=np.int64)
        self.channel_counts = np.zeros(len(CHANNELS), dtype=np.int64)
        self.n_customers = 0
        self.responders = 0
        self.n_actions = 0
        self.cutoff: list[np.ndarray] = []
        self.p: list[np.ndarray] = []
        self.label: list[np.ndarray] = []

    def add(self, pop: Population, res: BlockResult, cutoffs_us: np.ndarray) -> None:
        ev = res.events
        self.type_counts += np.bincount(ev["type"], minlength=len(EVENT_TYPES))
        self.channel_counts += np.bincount(ev["channel"], minlength=len(CHANNELS))
        self.n_customers += len(pop)
        survey_codes = [list(EVENT_TYPES).index(s) for s in SURVEY_TYPES]
        answered = np.unique(ev["cust"][np.isin(ev["type"], survey_codes)])
        self.responders += len(answered)
        self.n_actions += len(res.action_customer)
        cut = cutoffs_us[res.truth_cutoff]
        cancel = res.cancel_us[res.truth_customer]
        horizon = self.config.horizon_days * DAY_US
        self.cutoff.append(res.truth_cutoff)
        self.p.append(res.truth_p)
        self.label.append((cancel >= cut) & (cancel < cut + horizon))

    def summary(self) -> dict[str, Any]:
        return _summary(
            self.config, self.n_customers, self.type_counts, self.channel_counts,
            self.responders, np.concatenate(self.cutoff), np.concatenate(self.p),
            np.concatenate(self.label), self.n_actions,
        )


def _summary(
    config: SimConfig, n_customers: int, type_counts: np.ndarray, channel_counts: np.ndarray,
    responders: int, cutoff_idx: np.ndarray, p: np.ndarray, label: np.ndarray, n_actions: int,
) -> dict[str, Any]:
    per_cutoff = {
        c: {
            "eligible": int((cutoff_idx == i).sum()),
            "churn_rate": float(label[cutoff_idx == i].mean()) if (cutoff_idx == i).any() else 0.0,
            "mean_p_churn": float(p[cutoff_idx == i].mean()) if (cutoff_idx == i).any() else 0.0,
        }
        for i, c in enumerate(config.cutoffs)
    }
    return {
        "n_customers": n_customers,
        "n_events": int(type_counts.sum()),
        "events_per_customer": float(type_counts.sum() / max(n_customers, 1)),
        "events_per_type": {t: int(k) for t, k in zip(EVENT_TYPES, type_counts, strict=True)},
        "events_per_channel": {c: int(k) for c, k in zip(CHANNELS, channel_counts, strict=True)},
        "survey_responder_share": responders / max(n_customers, 1),
        "cutoffs": per_cutoff,
        "churn_rate": float(label.mean()) if len(label) else 0.0,
        "mean_p_churn": float(p.mean()) if len(p) else 0.0,
        "truth_auc": auc(label, p),
        "n_pilot_actions": n_actions,
    }


def world_summary(world: World) -> dict[str, Any]:
    """Figures that say whether a world looks like real churn data.

    Churn rate per cutoff (realised: a cancellation in [cutoff, cutoff + horizon) among the
    eligible), mean true probability, events per type and channel, the share of customers who
    ever answered a survey, and the truth AUC: true p_churn against the realised label, pooled
    over cutoffs (the best AUC any model can expect on this world). With a retention pilot,
    treated customers churn less than their (pre-treatment) p_churn says, which lowers the
    realised churn rate and the truth AUC a little; ``n_pilot_actions`` says how many there were.
    """
    config, ev, truth = world.config, world.events, world.truth_churn
    types = pd.Categorical(ev["event_type"], categories=list(EVENT_TYPES))
    channels = pd.Categorical(ev["channel"], categories=list(CHANNELS))
    cancel = ev.loc[ev["event_type"] == "cancellation", ["customer_id", "event_time"]]
    cancel_time = truth["customer_id"].map(cancel.set_index("customer_id")["event_time"])
    cut = truth["cutoff"]
    horizon = pd.Timedelta(days=config.horizon_days)
    label = ((cancel_time >= cut) & (cancel_time < cut + horizon)).fillna(False).to_numpy(bool)
    cutoff_idx = pd.Categorical(
        cut.dt.strftime("%Y-%m-%d"), categories=list(config.cutoffs)
    ).codes.astype(np.int64)
    responders = ev.loc[ev["event_type"].isin(SURVEY_TYPES), "customer_id"].nunique()
    return _summary(
        config, len(world.customers), np.bincount(types.codes, minlength=len(EVENT_TYPES)),
        np.bincount(channels.codes, minlength=len(CHANNELS)), responders, cutoff_idx,
        truth["p_churn"].to_numpy(), label, len(world.actions),
    )

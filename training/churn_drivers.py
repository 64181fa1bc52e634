"""How much of the churn model's risk each driver family carries, per cutoff.

A retention lead asks "is today's risk mostly delivery, support or price?". The answer here is
the champion's TreeSHAP values (``training.explain.shap_values``, the one explainer) for the
scoring population of each cutoff, summed over the features of each driver family
(``features.families``):

- ``share``: the family's share of the total |SHAP| mass (how much of the model's departure
  from its base rate, in either direction, the family explains);
- ``raising_share``: the family's share of the positive SHAP mass (what pushes risk *up*;
  the part a retention action can take away);
- ``mean_shap``: the family's mean signed contribution per customer, in log-odds.

SHAP values are in log-odds and additive, so a family's contribution to one customer is the
sum of its features' values and the shares are exact decompositions, not heuristics. The
interval of ``share`` is a bootstrap over customers (rows resampled with replacement, 200
times by default): it says how much the share would move in another draw of customers of
the same kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.families import FAMILIES, family_map
from training.explain import shap_values

DEFAULT_RESAMPLES = 200
COLUMNS = ("cutoff", "family", "n", "share", "share_ci_low", "share_ci_high",
           "raising_share", "mean_abs_shap", "mean_shap")


def family_contributions(values: np.ndarray, features: Sequence[str],
                         families: Mapping[str, str]) -> tuple[list[str], np.ndarray]:
    """(families present, (rows, families) summed SHAP): each family's signed contribution."""
    present = {families[x] for x in features}
    names: list[str] = [str(f) for f in FAMILIES if f in present]
    names += sorted(present - set(names))
    index: dict[str, int] = {f: i for i, f in enumerate(names)}
    member = np.zeros((len(features), len(names)))
    for j, feature in enumerate(features):
        member[j, index[families[feature]]] = 1.0
    return names, np.asarray(values, dtype=float) @ member


def family_shares(contrib: np.ndarray, names: Sequence[str], n_resamples: int = 0,
                  seed: int = 0) -> pd.DataFrame:
    """Per family: |SHAP| share (with a bootstrap interval), positive share, mean values.

    ``contrib`` is (rows, families) of summed SHAP values, one row per scored customer.
    """
    contrib = np.asarray(contrib, dtype=float)
    mass = np.abs(contrib)
    total = mass.sum()
    positive = np.clip(contrib, 0.0, None)
    n = len(contrib)
    share = mass.sum(axis=0) / total if total > 0 else np.full(len(names), np.nan)
    low = high = np.full(len(names), np.nan)
    if n_resamples and n > 1 and total > 0:
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples)
        sums = counts @ mass
        draws = sums / sums.sum(axis=1, keepdims=True)
        low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    pos_total = positive.sum()
    return pd.DataFrame({
        "family": list(names), "n": n, "share": share, "share_ci_low": low,
        "share_ci_high": high,
        "raising_share": positive.sum(axis=0) / pos_total if pos_total > 0 else np.nan,
        "mean_abs_shap": mass.mean(axis=0) if n else np.nan,
        "mean_shap": contrib.mean(axis=0) if n else np.nan,
    })


def shap_mass_by_cutoff(model: Any, rows_by_cutoff: Mapping[str, pd.DataFrame],
                        n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """One row per (cutoff, family): the family's share of the model's SHAP mass there.

    ``model`` is a ``ChurnModel``; each frame holds the scoring population of one cutoff (at
    least the model's features). Families come from the feature specs, so a model trained on
    extra spec files is split the same way as the default one.
    """
    features = list(model.feature_names_)
    families = family_map(features)
    parts = []
    for cutoff, rows in rows_by_cutoff.items():
        if not len(rows):
            continue
        values, _ = shap_values(model, rows[features])
        names, contrib = family_contributions(values, features, families)
        parts.append(family_shares(contrib, names, n_resamples, seed).assign(cutoff=str(cutoff)))
    if not parts:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(COLUMNS)]

"""Where each action's effect comes from, and the range of saves that follows from it.

"Expected saves 29.6" reads as a fact, but it rests on each action's ``effect`` and
``general_effect``: either the shipped assumption (``actions.yaml``, fitted to simulated worlds,
never tested on this company's customers) or learned from this company's randomised outcomes
(``cxchurn retention learn-effects``: n treated and a 95% interval, ``Catalogue`` ``learned``).
Each effect therefore carries an interval:

* learned: the 95% interval of the posterior (``uplift.effects``);
* assumed: the prior learn-effects starts from, effect +- 1.96 x ``ASSUMED_SD`` (0.5): wide on
  purpose, because nothing measured narrows it.

An action's expected saving rises with both effects (``policy.saved_probability`` is monotone
in the log-odds shift), so a customer's saving range is its saving at the interval's low ends
and at its high ends; totals add the rows' ends, which treats the effects' errors as fully
correlated (a conservative, wider range).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

import numpy as np
import pandas as pd

from serving.retention.catalogue import MAX_EFFECT, Action, Catalogue
from serving.retention.policy import candidate_values

ASSUMED_SD: Final = 0.5  # also the prior sd of uplift.effects.UpliftConfig
Z95: Final = 1.959964
ASSUMED, LEARNED = "assumed", "learned"


def _assumed(estimate: float) -> tuple[float, float]:
    return (float(np.clip(estimate - Z95 * ASSUMED_SD, 0.0, MAX_EFFECT)),
            float(np.clip(estimate + Z95 * ASSUMED_SD, 0.0, MAX_EFFECT)))


def effect_intervals(action: Action) -> tuple[tuple[float, float], tuple[float, float]]:
    """(effect interval, general-effect interval) of an action (see the module docstring)."""
    if action.learned is not None:
        return action.learned.effect_95, action.learned.general_95
    return _assumed(action.effect), _assumed(action.general_effect)


def effect_source(action: Action) -> dict[str, Any]:
    """What the page and ``/retention/recommend`` say about an action's effect."""
    effect_95, general_95 = effect_intervals(action)
    return {"source": LEARNED if action.learned is not None else ASSUMED,
            "treated": action.learned.treated if action.learned is not None else 0,
            "effect": action.effect, "effect_95": list(effect_95),
            "general_effect": action.general_effect, "general_95": list(general_95)}


def bound_catalogues(catalogue: Catalogue) -> tuple[Catalogue, Catalogue]:
    """The catalogue with every effect at its interval's low end, and at its high end."""
    lows, highs = [], []
    for action in catalogue:
        effect_95, general_95 = effect_intervals(action)
        lows.append(replace(action, effect=effect_95[0], general_effect=general_95[0]))
        highs.append(replace(action, effect=effect_95[1], general_effect=general_95[1]))
    return replace(catalogue, actions=tuple(lows)), replace(catalogue, actions=tuple(highs))


def saved_ranges(customers: pd.DataFrame, mass: pd.DataFrame, catalogue: Catalogue
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) expected saving of every (customer, action), shape (customers, actions)."""
    low_cat, high_cat = bound_catalogues(catalogue)
    low, _, _ = candidate_values(customers, mass, low_cat)
    high, _, _ = candidate_values(customers, mass, high_cat)
    # a zero shift saves nothing; rounding in the sigmoid must not make it "-0"
    return np.maximum(low, 0.0), np.maximum(high, 0.0)


def plan_ranges(plan: pd.DataFrame, customers: pd.DataFrame, mass: pd.DataFrame,
                catalogue: Catalogue) -> pd.DataFrame:
    """``plan`` with ``expected_saved_low`` / ``_high`` for its chosen actions (0 for none).

    ``customers`` and ``mass`` in the same row order as each other (not as ``plan``, which is
    ranked); rows are matched by customer id.
    """
    low, high = saved_ranges(customers.reset_index(drop=True), mass.reset_index(drop=True),
                             catalogue)
    row = pd.Series(np.arange(len(customers)),
                    index=customers["customer_id"].astype(str).to_numpy())
    rows = row.reindex(plan["customer_id"].astype(str)).to_numpy()
    column = {name: j for j, name in enumerate(catalogue.names())}
    cols = plan["action"].map(lambda a: column.get(a, -1) if isinstance(a, str) else -1
                              ).to_numpy(dtype=int)
    has = cols >= 0
    safe_rows, safe_cols = np.where(has, rows, 0).astype(int), np.maximum(cols, 0)
    return plan.assign(expected_saved_low=np.where(has, low[safe_rows, safe_cols], 0.0),
                       expected_saved_high=np.where(has, high[safe_rows, safe_cols], 0.0))


def option_ranges(customers: pd.DataFrame, mass: pd.DataFrame, catalogue: Catalogue,
                  options: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """``policy.ranked_options`` rows with each option's saving range and effect source."""
    low, high = saved_ranges(customers.reset_index(drop=True), mass.reset_index(drop=True),
                             catalogue)
    column = {name: j for j, name in enumerate(catalogue.names())}
    out = []
    for i, opts in enumerate(options):
        out.append([{**o, "expected_saved_low": float(low[i, column[str(o["action"])]]),
                     "expected_saved_high": float(high[i, column[str(o["action"])]]),
                     "effect_source": effect_source(catalogue.get(str(o["action"])))}
                    for o in opts])
    return out


__all__ = ["ASSUMED", "ASSUMED_SD", "LEARNED", "bound_catalogues", "effect_intervals",
           "effect_source", "option_ranges", "plan_ranges", "saved_ranges"]

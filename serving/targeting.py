"""Judge targeting strategies against the simulator's true action effects, at equal budget.

The synthetic world records, per customer at its newest cutoff, how much each action type
would really lower its churn probability (``truth_action_effects``). Summing those true
effects over the customers a strategy contacts gives the customers it saves (in
expectation); times customer value, the value it saves. Strategies compared with the same
budget: the policy (as deployed, maximising value; and with one value for everybody, which
maximises customers saved), the highest-risk customers with one fixed action (each action in
turn), and random customers with random actions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxchurn.errors import DataContractError
from serving.catalogue import Catalogue
from serving.policy import SELECTED, PolicyConfig, plan_actions


def truth_matrix(effects: pd.DataFrame, customer_ids: pd.Series, catalogue: Catalogue
                 ) -> np.ndarray:
    """(customers, actions) true effects, rows in ``customer_ids`` order, catalogue columns."""
    wide = effects.pivot_table(index="customer_id", columns="action_type", values="effect",
                               aggfunc="last")
    unknown = [a for a in catalogue.names() if a not in wide.columns]
    if unknown:
        raise DataContractError(f"the truth has no effects for action(s) {unknown}; name the "
                                f"catalogue's actions after the simulator's action types "
                                f"{sorted(wide.columns)}.")
    matrix = wide.reindex(customer_ids.astype(str))[catalogue.names()].to_numpy(dtype=float)
    if np.isnan(matrix).any():
        raise DataContractError("the truth lacks effects for some scored customers; score the "
                                "customers at their newest cutoff (where the truth is recorded).")
    return matrix


def _row(name: str, rows: np.ndarray, cols: np.ndarray, truth: np.ndarray, value: np.ndarray,
         costs: np.ndarray) -> dict[str, object]:
    return {
        "strategy": name,
        "contacted": len(rows),
        "cost": float(costs[cols].sum()),
        "saved": float(truth[rows, cols].sum()),
        "value_saved": float((truth[rows, cols] * value[rows]).sum()),
    }


def compare_strategies(customers: pd.DataFrame, shares: pd.DataFrame, catalogue: Catalogue,
                       truth: np.ndarray, budget: float, random_draws: int = 200,
                       seed: int = 0) -> pd.DataFrame:
    """One row per strategy: contacted, cost, saved (customers), value_saved; same budget."""
    customers = customers.reset_index(drop=True)
    value = customers["value"].to_numpy(dtype=float)
    p = customers["p_churn"].to_numpy(dtype=float)
    costs = np.array([a.cost for a in catalogue], dtype=float)
    column = {a: j for j, a in enumerate(catalogue.names())}
    position = {c: i for i, c in enumerate(customers["customer_id"].astype(str))}
    config = PolicyConfig(budget=budget)
    rows = []
    for name, frame in (("policy (value)", customers),
                        ("policy (customers)", customers.assign(value=float(np.mean(value))))):
        plan = plan_actions(frame, shares, catalogue, config)
        sel = plan[plan["status"] == SELECTED]
        rows.append(_row(name, sel["customer_id"].map(position).to_numpy(dtype=int),
                         sel["action"].map(column).to_numpy(dtype=int), truth, value, costs))
    by_risk = np.argsort(-p, kind="stable")
    for j, action in enumerate(catalogue):
        n = len(p) if action.cost == 0 else min(len(p), int(budget // action.cost))
        picked = by_risk[:n]
        rows.append(_row(f"highest risk + {action.name}", picked, np.full(n, j), truth, value,
                         costs))
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(random_draws):
        order = rng.permutation(len(p))
        acts = rng.integers(0, len(costs), len(p))
        n = int(np.searchsorted(np.cumsum(costs[acts]), budget, side="right"))
        draws.append(_row("random", order[:n], acts[:n], truth, value, costs))
    mean = pd.DataFrame(draws).drop(columns="strategy").mean()
    rows.append({"strategy": f"random ({random_draws} draws, mean)", **mean.to_dict()})
    out = pd.DataFrame(rows)
    out["budget"] = float(budget)
    return out

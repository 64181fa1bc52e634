"""Judge targeting strategies against the simulator's true action effects, at equal budget.

The synthetic world records, per customer at its newest cutoff, how much each action type
would really lower its churn probability (``truth_action_effects``). Summing those true
effects over the customers a strategy contacts gives the customers it saves (in
expectation); times customer value, the value it saves. Strategies compared with the same
budget: the policy with each objective (``PolicyConfig.objective``: "value", the default,
maximises value saved; "customers", one value for everybody, maximises customers saved), with
the catalogue's prior effects and, when given, with effects learned from a randomised pilot
(``uplift.effects``); the highest-risk customers with one fixed action (each action in turn);
and random customers with random actions.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from cxchurn.errors import DataContractError
from serving.retention.catalogue import MAX_EFFECT, Catalogue
from serving.retention.policy import (
    SELECTED,
    PolicyConfig,
    action_masses,
    plan_actions,
    saved_probability,
)


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


def compare_strategies(customers: pd.DataFrame, mass: pd.DataFrame, catalogue: Catalogue,
                       truth: np.ndarray, budget: float, random_draws: int = 200,
                       seed: int = 0, learned: Catalogue | None = None) -> pd.DataFrame:
    """One row per strategy: contacted, cost, saved (customers), value_saved; same budget.

    ``learned`` (the same actions with learned effects) adds the two policies planned with it,
    named "... learned effects)"; the baselines use only names and costs, never effects.
    """
    if learned is not None and learned.names() != catalogue.names():
        raise DataContractError(f"the learned catalogue's actions {learned.names()} differ from "
                                f"the catalogue's {catalogue.names()}.")
    customers = customers.reset_index(drop=True)
    value = customers["value"].to_numpy(dtype=float)
    p = customers["p_churn"].to_numpy(dtype=float)
    costs = np.array([a.cost for a in catalogue], dtype=float)
    column = {a: j for j, a in enumerate(catalogue.names())}
    position = {c: i for i, c in enumerate(customers["customer_id"].astype(str))}
    config = PolicyConfig(budget=budget)
    rows = []
    plans = [("policy (value)", "value", catalogue), ("policy (customers)", "customers", catalogue)]
    if learned is not None:
        plans += [(f"{name[:-1]}, learned effects)", objective, learned)
                  for name, objective, _ in plans]
    for name, objective, cat in plans:
        plan = plan_actions(customers, mass, cat, replace(config, objective=objective))
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


def fit_effects_to_truth(customers: pd.DataFrame, mass: pd.DataFrame, truth: np.ndarray,
                         catalogue: Catalogue) -> Catalogue:
    """The catalogue with each action's (effect, general_effect) fitted to true effects.

    Least squares between the policy's expected saving (``serving.retention.policy``) and the
    simulator's true drop in churn probability, per action. Synthetic worlds only (nobody
    knows true effects of real customers): it calibrates the shipped catalogue's priors on
    worlds other than the one the benchmark judges, so the judgement stays out of sample.
    """
    customers = customers.reset_index(drop=True)
    p = customers["p_churn"].to_numpy(dtype=float)
    answered, other = action_masses(mass.reset_index(drop=True), catalogue)
    if truth.shape != answered.shape:
        raise DataContractError(f"truth must be (customers, actions) = {answered.shape}; "
                                f"got {truth.shape}.")
    actions = []
    for j, action in enumerate(catalogue):
        def residual(x: np.ndarray, j: int = j) -> np.ndarray:
            return saved_probability(p, x[0] * answered[:, j] + x[1] * other[:, j]) - truth[:, j]

        start = [min(action.effect, MAX_EFFECT), min(action.general_effect, MAX_EFFECT)]
        fit = least_squares(residual, start, bounds=([0.0, 0.0], [MAX_EFFECT, MAX_EFFECT]))
        actions.append(replace(action, effect=round(float(fit.x[0]), 2),
                               general_effect=round(float(fit.x[1]), 2)))
    return replace(catalogue, actions=tuple(actions), source=f"{catalogue.source} (fitted)")

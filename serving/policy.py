"""The retention policy: which action for which customer, ranked, under a budget.

For every customer and every catalogue action that answers at least one of the customer's top
risk-raising SHAP drivers (matched by driver family, see ``serving.drivers``):

    expected saved      = p(churn) x (effect x match + general x (experience - match))
    expected net value  = expected saved x customer value - action cost

where ``match`` is the share of the customer's top risk-raising SHAP mass that lies in the
families the action answers (an apology voucher for a customer whose risk is all late
deliveries matches fully; for one whose risk is half delivery, half price, it matches half),
``experience`` the share that lies in any actionable family (risk from the contract, tenure or
profile is nothing an action repairs), and ``general`` the action's ``general_effect`` (0
unless the catalogue says it also helps customers whose drivers it does not answer; only such
actions are offered unmatched).
Each customer gets the action with the best net value; customers are ranked by it; an action
with net value <= 0 is never recommended.

Budget: when the budget cannot pay for every positive action, money goes where it saves most
per unit spent. A shadow price ``lam`` per unit of cost is found by bisection so that the
actions with ``net - lam x cost > 0`` just fit the budget (the Lagrangian relaxation of the
knapsack); each customer's choice and the ranking then use ``net - lam x cost``, and the
budget and per-action capacities are filled greedily in that order, falling back to a
customer's next best action when its best one is full. Without a binding budget ``lam = 0``.
Everything here is pure: frames and arrays in, frames out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError, DataContractError
from serving.catalogue import Catalogue
from serving.drivers import ACTIONABLE, FAMILIES, family_map
from serving.value import ValueConfig, customer_value

CUSTOMER_ID: Final = "customer_id"
PLAN_COLUMNS: Final = (
    "customer_id", "p_churn", "value", "action", "cost", "expected_saved",
    "expected_net_value", "matched_families", "rank", "status",
)
# Why a customer has no action: over the budget / capacity, or no action worth its cost.
SELECTED, OVER_BUDGET, NO_ACTION = "selected", "over_budget", "no_positive_action"


@dataclass(frozen=True)
class PolicyConfig:
    """Limits of one plan. ``budget`` None = unlimited; ``capacity`` overrides the catalogue."""

    budget: float | None = None
    top_k: int = 5
    capacity: Mapping[str, int] = field(default_factory=dict)
    use_capacity: bool = True

    def __post_init__(self) -> None:
        if self.budget is not None and (not np.isfinite(self.budget) or self.budget < 0):
            raise ConfigError(f"budget must be a number >= 0 or empty (no limit); "
                              f"got {self.budget!r}.")
        if not isinstance(self.top_k, int) or self.top_k < 1:
            raise ConfigError(f"top_k must be a whole number >= 1; got {self.top_k!r}.")
        bad = {k: v for k, v in self.capacity.items() if not isinstance(v, int) or v < 0}
        if bad:
            raise ConfigError(f"capacity must map action names to whole numbers >= 0; "
                              f"got {bad}.")


def family_shares(shap: np.ndarray, features: Sequence[str], top_k: int = 5,
                  families: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per row, each family's share of the top-``top_k`` risk-raising SHAP mass.

    Only drivers that raise risk count (a feature that lowers risk needs no action). Rows
    with no risk-raising driver get all-zero shares. Columns: ``serving.drivers.FAMILIES``.
    """
    shap = np.asarray(shap, dtype=float)
    if shap.ndim != 2 or shap.shape[1] != len(features):
        raise DataContractError(f"SHAP matrix must be (rows, {len(features)} features); "
                                f"got shape {shap.shape}.")
    fam = families or family_map(features)
    codes = np.array([FAMILIES.index(fam.get(f, "other")) for f in features], dtype=int)
    positive = np.where(shap > 0, shap, 0.0)
    k = min(top_k, shap.shape[1])
    if k < shap.shape[1]:  # keep each row's k largest absolute drivers, if they raise risk
        cut = np.argpartition(-np.abs(shap), k - 1, axis=1)[:, :k]
        mask = np.zeros_like(positive, dtype=bool)
        np.put_along_axis(mask, cut, True, axis=1)
        positive = np.where(mask, positive, 0.0)
    out = np.zeros((shap.shape[0], len(FAMILIES)))
    for j, code in enumerate(codes):
        out[:, code] += positive[:, j]
    total = out.sum(axis=1, keepdims=True)
    out = np.divide(out, total, out=np.zeros_like(out), where=total > 0)
    return pd.DataFrame(out, columns=list(FAMILIES))


def shares_from_reasons(reasons: Iterable[Sequence[Mapping[str, object]]],
                        top_k: int = 5) -> pd.DataFrame:
    """Family shares from explanation reason dicts (``feature`` and ``shap`` keys) per row."""
    rows = []
    for drivers in reasons:
        row = dict.fromkeys(FAMILIES, 0.0)
        top = sorted(drivers, key=lambda d: -abs(float(d.get("shap", 0.0))))[:top_k]
        for d in top:
            value = float(d.get("shap", 0.0))
            if value > 0:
                family = str(d.get("family") or family_map([str(d["feature"])])[str(d["feature"])])
                row[family if family in row else "other"] += value
        total = sum(row.values())
        rows.append({k: (v / total if total > 0 else 0.0) for k, v in row.items()})
    return pd.DataFrame(rows, columns=list(FAMILIES))


def candidate_values(customers: pd.DataFrame, shares: pd.DataFrame, catalogue: Catalogue
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(expected_saved, expected_net_value, match) arrays of shape (customers, actions)."""
    _check_customers(customers)
    if len(shares) != len(customers):
        raise DataContractError(f"expected one row of driver shares per customer "
                                f"({len(customers)}); got {len(shares)}.")
    p = customers["p_churn"].to_numpy(dtype=float)[:, None]
    value = customers["value"].to_numpy(dtype=float)[:, None]
    match = np.column_stack([
        shares[list(a.families)].to_numpy(dtype=float).sum(axis=1) for a in catalogue
    ])
    effect = np.array([a.effect for a in catalogue])[None, :]
    general = np.array([a.general_effect for a in catalogue])[None, :]
    cost = np.array([a.cost for a in catalogue])[None, :]
    # Risk from the contract, tenure or profile is not something an action repairs: the
    # general effect applies only to the share of risk that comes from experience.
    experience = shares[list(ACTIONABLE)].to_numpy(dtype=float).sum(axis=1)[:, None]
    saved = p * (effect * match + general * np.maximum(experience - match, 0.0))
    net = saved * value - cost
    offered = (match > 0) | ((general > 0) & (experience > 0))
    return saved, np.where(offered, net, -np.inf), match


def _check_customers(customers: pd.DataFrame) -> None:
    missing = [c for c in (CUSTOMER_ID, "p_churn", "value") if c not in customers.columns]
    if missing:
        raise DataContractError(f"the policy needs columns {missing} in the customer frame "
                                f"(customer_id, p_churn, value); got {list(customers.columns)}.")
    p = customers["p_churn"].to_numpy(dtype=float)
    if np.any(~np.isfinite(p) | (p < 0) | (p > 1)):
        raise DataContractError("p_churn must be probabilities in [0, 1]; found values outside.")
    if np.any(~np.isfinite(customers["value"].to_numpy(dtype=float))):
        raise DataContractError("customer value must be a finite number for every customer.")


def plan_actions(customers: pd.DataFrame, shares: pd.DataFrame, catalogue: Catalogue,
                 config: PolicyConfig | None = None) -> pd.DataFrame:
    """One row per customer (``PLAN_COLUMNS``), sorted by expected net value, best first.

    ``status`` says whether the customer got its action (selected), would have one but the
    budget or capacity ran out (over_budget), or has no action worth its cost.
    """
    config = config or PolicyConfig()
    customers = customers.reset_index(drop=True)
    shares = shares.reset_index(drop=True)
    saved, net, _ = candidate_values(customers, shares, catalogue)
    n, k = net.shape
    actions = list(catalogue)
    capacity = [
        config.capacity.get(a.name, a.capacity if config.use_capacity else None) for a in actions
    ]
    costs = np.array([a.cost for a in actions], dtype=float)
    lam = shadow_price(net, costs, config.budget)
    adjusted = net - lam * costs[None, :]
    used = [0] * k
    budget_left = np.inf if config.budget is None else float(config.budget)
    chosen = np.full(n, -1)
    flat_adj = adjusted.reshape(-1)
    flat = np.flatnonzero((net.reshape(-1) > 0) & (flat_adj > 0))
    order = flat[np.argsort(-flat_adj[flat], kind="stable")]
    for idx in order:
        i, j = divmod(int(idx), k)
        if chosen[i] >= 0:
            continue
        if capacity[j] is not None and used[j] >= capacity[j]:
            continue
        if costs[j] > budget_left:
            continue
        chosen[i] = j
        used[j] += 1
        budget_left -= costs[j]
    best = np.where(np.isfinite(net).any(axis=1), np.argmax(net, axis=1), -1)
    has_positive = np.isfinite(net).any(axis=1) & (net.max(axis=1, initial=-np.inf) > 0)
    pick = np.where(chosen >= 0, chosen, np.where(has_positive, best, -1))
    rows = np.arange(n)
    safe = np.maximum(pick, 0)
    plan = pd.DataFrame({
        CUSTOMER_ID: customers[CUSTOMER_ID].astype(str).to_numpy(),
        "p_churn": customers["p_churn"].to_numpy(dtype=float),
        "value": customers["value"].to_numpy(dtype=float),
        "action": pd.Series([actions[j].name if j >= 0 else None for j in pick], dtype="str"),
        "cost": np.where(pick >= 0, [actions[j].cost for j in safe], 0.0),
        "expected_saved": np.where(pick >= 0, saved[rows, safe], 0.0),
        "expected_net_value": np.where(pick >= 0, net[rows, safe], 0.0),
        "matched_families": [
            ",".join(f for f in actions[j].families if shares.at[i, f] > 0) if j >= 0 else ""
            for i, j in enumerate(pick)
        ],
        "status": np.where(chosen >= 0, SELECTED, np.where(has_positive, OVER_BUDGET, NO_ACTION)),
    })
    plan = plan.sort_values(["expected_net_value", "p_churn"], ascending=False, kind="stable")
    plan["rank"] = np.arange(1, len(plan) + 1)
    return plan[list(PLAN_COLUMNS)].reset_index(drop=True)


def ranked_options(customers: pd.DataFrame, shares: pd.DataFrame, catalogue: Catalogue
                   ) -> list[list[dict[str, float | str]]]:
    """Per customer, every action worth its cost, best expected net value first (no budget)."""
    saved, net, _ = candidate_values(customers.reset_index(drop=True),
                                     shares.reset_index(drop=True), catalogue)
    names = catalogue.names()
    out = []
    for i in range(net.shape[0]):
        order = [j for j in np.argsort(-net[i], kind="stable") if net[i, j] > 0]
        out.append([{"action": names[j], "expected_saved": float(saved[i, j]),
                     "expected_net_value": float(net[i, j])} for j in order])
    return out


def shadow_price(net: np.ndarray, costs: np.ndarray, budget: float | None,
                 iterations: int = 50) -> float:
    """The smallest price per unit of cost at which the best positive actions fit the budget.

    0 when there is no budget or every customer's best positive action fits in it.
    """
    if budget is None or net.size == 0:
        return 0.0

    def spend(lam: float) -> float:
        adjusted = np.where(net > 0, net - lam * costs[None, :], -np.inf)
        best = np.argmax(adjusted, axis=1)
        take = adjusted[np.arange(len(best)), best] > 0
        return float(costs[best][take].sum())

    if spend(0.0) <= budget:
        return 0.0
    priced = costs > 0
    high = float(np.max(np.where(np.isfinite(net[:, priced]), net[:, priced], 0.0)
                        / costs[priced])) if priced.any() else 0.0
    low = 0.0
    for _ in range(iterations):
        mid = (low + high) / 2
        if spend(mid) > budget:
            low = mid
        else:
            high = mid
    return high


def policy_inputs(model: Any, rows: pd.DataFrame, top_k: int = 5,
                  value_config: ValueConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, shares) for ``plan_actions`` from a churn model and raw feature rows.

    Batch path (CLI, benchmark): scores, exact TreeSHAP and value in one pass over the rows.
    """
    from training.explain import shap_values
    from training.pyfunc import model_frame

    X = model_frame(model, rows)
    values, _ = shap_values(model, X)
    customers = pd.DataFrame({
        CUSTOMER_ID: rows[CUSTOMER_ID].astype(str).to_numpy(),
        "p_churn": np.asarray(model.predict_churn(X), dtype=float),
        "value": customer_value(rows, value_config).to_numpy(dtype=float),
    })
    return customers, family_shares(values, list(model.feature_names_), top_k)


def plan_summary(plan: pd.DataFrame) -> dict[str, float]:
    """Totals of the selected actions: customers contacted, cost, expected saves and value."""
    sel = plan[plan["status"] == SELECTED]
    return {
        "contacted": len(sel),
        "cost": float(sel["cost"].sum()),
        "expected_saved": float(sel["expected_saved"].sum()),
        "expected_net_value": float(sel["expected_net_value"].sum()),
    }

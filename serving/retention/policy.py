"""The retention policy: which action for which customer, ranked, under a budget.

The churn model explains each score in log-odds: a customer's positive SHAP values say how much
each driver adds to its log-odds of leaving. Summed per driver family (``features.families``),
they give the customer's *risk mass* per family. An action removes part of that mass:

    shift               = effect x (mass it answers) + general x (other actionable mass)
    expected saved      = p - sigmoid(logit(p) - shift)       (drop in churn probability)
    expected net value  = expected saved x customer value - action cost

``effect`` is the share of the answered families' log-odds the action removes (an apology
voucher repairs most of what late deliveries did), ``general`` (``general_effect``) the share
of the other experience families' log-odds it removes (a manager's call calms many unhappy
customers a little). Risk from the contract, tenure or profile is nothing an action repairs.
Why log-odds and not shares of p: SHAP is additive in log-odds, so removing a driver's part is
a counterfactual score; a customer whose late deliveries add 2.0 to the log-odds gains far more
from a voucher than one whose deliveries add 0.1, even when each is "all delivery".
The catalogue's effects are priors; ``uplift.effects`` learns them from randomised outcomes.
Each customer gets the action with the best net value; customers are ranked by it; an action
with net value <= 0 is never recommended.
Objective: by default customer value is what it is (save the most value); with
``PolicyConfig(objective="customers")`` every customer counts as the list's average value, so the
plan saves the most customers for the money instead.

Budget: when the budget cannot pay for every positive action, money goes where it saves most
per unit spent. A shadow price ``lam`` per unit of cost is found by bisection so that the
actions with ``net - lam x cost > 0`` just fit the budget (the Lagrangian relaxation of the
knapsack); each customer's choice and the ranking then use ``net - lam x cost``, and the
budget and per-action capacities are filled greedily in that order (money left at the price,
e.g. by ties, buys the next candidates), falling back to a customer's next best action when
its best one is full. Without a binding budget ``lam = 0``.
Holdout: ``PolicyConfig.holdout`` keeps a stable random share of customers out as a control
group (``holdout_mask``); they are listed with the action they would have got, never
contacted, and the budget goes to the others.
Everything here is pure: frames and arrays in, frames out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from cxchurn.errors import ConfigError, DataContractError
from cxchurn.hashing import stable_digests
from features.families import ACTIONABLE, FAMILIES, family_map
from serving.retention.catalogue import Catalogue
from serving.retention.value import ValueConfig, customer_value
from training.explain import shap_values
from training.pyfunc import model_frame

CUSTOMER_ID: Final = "customer_id"
PLAN_COLUMNS: Final = (
    "customer_id", "p_churn", "value", "action", "cost", "expected_saved",
    "expected_net_value", "matched_families", "rank", "status",
)
# Why a customer has no action: over the budget / capacity, or no action worth its cost, or
# held out at random as the control group that measures what the contacts really save.
SELECTED, OVER_BUDGET, NO_ACTION = "selected", "over_budget", "no_positive_action"
HOLDOUT = "holdout"


OBJECTIVES: Final = ("value", "customers")


@dataclass(frozen=True)
class PolicyConfig:
    """Limits and aim of one plan. ``budget`` None = unlimited; ``capacity`` overrides the
    catalogue. ``objective`` "value" saves the most customer value for the money; "customers"
    saves the most customers: every customer counts as the list's average value, so a
    low-spending customer is worth the same call as a high-spending one."""

    budget: float | None = None
    capacity: Mapping[str, int] = field(default_factory=dict)
    use_capacity: bool = True
    objective: str = "value"
    holdout: float = 0.0  # share of customers kept out at random, as a control group
    holdout_salt: str = "cxchurn"  # the same salt keeps the same customers out, run after run

    def __post_init__(self) -> None:
        if not (isinstance(self.holdout, int | float) and 0 <= self.holdout < 1):
            raise ConfigError(f"holdout must be a share in [0, 1), e.g. 0.1 for a 10% control "
                              f"group; got {self.holdout!r}.")
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {list(OBJECTIVES)}; "
                              f"got {self.objective!r}.")
        if self.budget is not None and (not np.isfinite(self.budget) or self.budget < 0):
            raise ConfigError(f"budget must be a number >= 0 or empty (no limit); "
                              f"got {self.budget!r}.")
        bad = {k: v for k, v in self.capacity.items() if not isinstance(v, int) or v < 0}
        if bad:
            raise ConfigError(f"capacity must map action names to whole numbers >= 0; "
                              f"got {bad}.")


def holdout_mask(customer_ids: Sequence[str] | pd.Series, share: float,
                 salt: str = "cxchurn") -> np.ndarray:
    """True for the customers in the control group: a salted hash of the id below ``share``.

    A hash, not a draw: a customer stays in (or out of) the control group on every plan with
    the same salt, whatever the list holds, so the group's churn can later be compared with
    the contacted customers' (what the campaign really saved; unbiased controls for
    ``uplift.effects``). Change the salt to start a new control group.
    """
    if share <= 0:
        return np.zeros(len(customer_ids), dtype=bool)
    return stable_digests(customer_ids, salt).astype(float) / 2.0**64 < share


def family_mass(shap: np.ndarray, features: Sequence[str],
                families: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per row, the log-odds each driver family adds to the churn score (positive SHAP summed).

    Only drivers that raise risk count (a feature that lowers risk needs no action). Columns:
    ``features.families.FAMILIES``; rows with no risk-raising driver are all zero.
    """
    shap = np.asarray(shap, dtype=float)
    if shap.ndim != 2 or shap.shape[1] != len(features):
        raise DataContractError(f"SHAP matrix must be (rows, {len(features)} features); "
                                f"got shape {shap.shape}.")
    fam = families or family_map(features)
    codes = np.array([FAMILIES.index(fam.get(f, "other")) for f in features], dtype=int)
    positive = np.where(shap > 0, shap, 0.0)
    out = np.zeros((shap.shape[0], len(FAMILIES)))
    for j, code in enumerate(codes):
        out[:, code] += positive[:, j]
    return pd.DataFrame(out, columns=list(FAMILIES))


def action_masses(mass: pd.DataFrame, catalogue: Catalogue) -> tuple[np.ndarray, np.ndarray]:
    """(answered, other) risk mass per customer and action, each of shape (customers, actions).

    ``answered`` is the mass in the families the action answers, ``other`` the rest of the
    actionable mass (what its general effect works on).
    """
    missing = [f for f in FAMILIES if f not in mass.columns]
    if missing:
        raise DataContractError(f"driver mass needs one column per family {list(FAMILIES)}; "
                                f"missing {missing}.")
    answered = np.column_stack([
        mass[list(a.families)].to_numpy(dtype=float).sum(axis=1) for a in catalogue
    ])
    experience = mass[list(ACTIONABLE)].to_numpy(dtype=float).sum(axis=1)[:, None]
    return answered, np.maximum(experience - answered, 0.0)


def saved_probability(p: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """p - sigmoid(logit(p) - shift): how much a log-odds shift lowers churn probability."""
    p = np.asarray(p, dtype=float)
    clipped = np.clip(p, 1e-12, 1 - 1e-12)
    return np.where(p > 0, p - expit(logit(clipped) - shift), 0.0)


def candidate_values(customers: pd.DataFrame, mass: pd.DataFrame, catalogue: Catalogue
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(expected_saved, expected_net_value, answered mass) arrays of shape (customers, actions).

    Net value is ``-inf`` where the action removes nothing (never offered).
    """
    _check_customers(customers)
    if len(mass) != len(customers):
        raise DataContractError(f"expected one row of driver mass per customer "
                                f"({len(customers)}); got {len(mass)}.")
    p = customers["p_churn"].to_numpy(dtype=float)[:, None]
    value = customers["value"].to_numpy(dtype=float)[:, None]
    answered, other = action_masses(mass, catalogue)
    effect = np.array([a.effect for a in catalogue])[None, :]
    general = np.array([a.general_effect for a in catalogue])[None, :]
    cost = np.array([a.cost for a in catalogue])[None, :]
    shift = effect * answered + general * other
    saved = saved_probability(np.broadcast_to(p, shift.shape), shift)
    net = saved * value - cost
    return saved, np.where(shift > 0, net, -np.inf), answered


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


def plan_actions(customers: pd.DataFrame, mass: pd.DataFrame, catalogue: Catalogue,
                 config: PolicyConfig | None = None) -> pd.DataFrame:
    """One row per customer (``PLAN_COLUMNS``), sorted by expected net value, best first.

    ``status`` says whether the customer got its action (selected), would have one but the
    budget or capacity ran out (over_budget), has no action worth its cost, or would have one
    but is in the control group (holdout: ``PolicyConfig.holdout``; the budget goes to others).
    """
    config = config or PolicyConfig()
    customers = customers.reset_index(drop=True)
    mass = mass.reset_index(drop=True)
    saved, net, _ = candidate_values(decision_frame(customers, config.objective), mass,
                                     catalogue)
    n, k = net.shape
    actions = list(catalogue)
    capacity = [
        config.capacity.get(a.name, a.capacity if config.use_capacity else None) for a in actions
    ]
    costs = np.array([a.cost for a in actions], dtype=float)
    held = holdout_mask(customers[CUSTOMER_ID].astype(str).tolist(), config.holdout,
                        config.holdout_salt)
    offered = np.where(held[:, None], -np.inf, net)  # the control group is never contacted
    lam = shadow_price(offered, costs, config.budget)
    adjusted = offered - lam * costs[None, :]
    used = [0] * k
    budget_left = np.inf if config.budget is None else float(config.budget)
    chosen = np.full(n, -1)
    flat_adj = adjusted.reshape(-1)
    # Every action worth its cost is a candidate, best per unit of budget first: the shadow
    # price orders them, and money it leaves (e.g. ties at the price) still buys the next.
    flat = np.flatnonzero(offered.reshape(-1) > 0)
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
            ",".join(f for f in actions[j].families if mass.at[i, f] > 0) if j >= 0 else ""
            for i, j in enumerate(pick)
        ],
        "status": np.where(chosen >= 0, SELECTED, np.where(
            has_positive, np.where(held, HOLDOUT, OVER_BUDGET), NO_ACTION)),
    })
    plan = plan.sort_values(["expected_net_value", "p_churn"], ascending=False, kind="stable")
    plan["rank"] = np.arange(1, len(plan) + 1)
    return plan[list(PLAN_COLUMNS)].reset_index(drop=True)


def decision_frame(customers: pd.DataFrame, objective: str = "value") -> pd.DataFrame:
    """The customers as the policy weighs them: real values, or the average for everyone."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {list(OBJECTIVES)}; got {objective!r}.")
    if objective == "value" or customers.empty:
        return customers
    _check_customers(customers)
    return customers.assign(value=float(customers["value"].mean()))


def ranked_options(customers: pd.DataFrame, mass: pd.DataFrame, catalogue: Catalogue
                   ) -> list[list[dict[str, float | str]]]:
    """Per customer, every action worth its cost, best expected net value first (no budget).

    ``customers`` as the policy weighs them: pass rows of the whole list's ``decision_frame``
    so the "customers" objective uses the list's average value, not the rows'.
    """
    saved, net, _ = candidate_values(customers.reset_index(drop=True),
                                     mass.reset_index(drop=True), catalogue)
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


def policy_inputs(model: Any, rows: pd.DataFrame,
                  value_config: ValueConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, mass) for ``plan_actions`` from a churn model and raw feature rows.

    Batch path (CLI, benchmark): scores, exact TreeSHAP and value in one pass over the rows.
    """

    X = model_frame(model, rows)
    values, _ = shap_values(model, X)
    customers = pd.DataFrame({
        CUSTOMER_ID: rows[CUSTOMER_ID].astype(str).to_numpy(),
        "p_churn": np.asarray(model.predict_churn(X), dtype=float),
        "value": customer_value(rows, value_config).to_numpy(dtype=float),
    })
    return customers, family_mass(values, list(model.feature_names_))


def plan_summary(plan: pd.DataFrame) -> dict[str, float]:
    """Totals of the selected actions: customers contacted, cost, expected saves and value."""
    sel = plan[plan["status"] == SELECTED]
    return {
        "contacted": len(sel),
        "cost": float(sel["cost"].sum()),
        "expected_saved": float(sel["expected_saved"].sum()),
        "expected_net_value": float(sel["expected_net_value"].sum()),
    }

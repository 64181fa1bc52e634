"""The retention policy as pure functions: matching, ranking, budget, capacity, no losses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError, DataContractError
from features.families import FAMILIES
from serving.retention.catalogue import load_catalogue, parse_catalogue
from serving.retention.policy import (
    HOLDOUT,
    NO_ACTION,
    OVER_BUDGET,
    SELECTED,
    PolicyConfig,
    family_mass,
    holdout_mask,
    plan_actions,
    plan_summary,
    saved_probability,
)

TEXT = {"en": {"title": "t", "script": "s"}, "tr": {"title": "t", "script": "s"}}


def _catalogue(*actions: dict):
    return parse_catalogue({"actions": [
        {"channel": "email", "text": TEXT, **a} for a in actions
    ]})


def _mass(*rows: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame([{f: row.get(f, 0.0) for f in FAMILIES} for row in rows])


def _customers(p, value) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(len(p))],
                         "p_churn": p, "value": value})


def test_each_customer_gets_the_action_that_answers_its_drivers() -> None:
    catalogue = load_catalogue()
    # valuable customers: the answering action beats cheap re-engagement's general effect
    customers = _customers([0.5, 0.5, 0.5, 0.5], [5000.0] * 4)
    mass = _mass({"delivery": 2.0}, {"service": 2.0}, {"price": 2.0},
                 {"delivery": 0.4, "survey": 1.6})
    plan = plan_actions(customers, mass, catalogue).set_index("customer_id")
    assert plan.loc["C0", "action"] == "apology_voucher"
    assert plan.loc["C1", "action"] == "priority_callback"
    assert plan.loc["C2", "action"] == "loyalty_offer"
    assert plan.loc["C3", "action"] == "cx_manager_call"
    assert plan.loc["C0", "matched_families"] == "delivery"
    voucher = catalogue.get("apology_voucher")
    # p = 0.5 is log-odds 0; the voucher removes effect x 2.0 of it (other mass is zero)
    saved = 0.5 - 1 / (1 + np.exp(voucher.effect * 2.0))
    assert plan.loc["C0", "expected_saved"] == pytest.approx(saved)
    assert plan.loc["C0", "expected_net_value"] == pytest.approx(saved * 5000 - voucher.cost)


def test_never_an_action_that_loses_money_and_the_list_is_ranked() -> None:
    catalogue = load_catalogue()
    customers = _customers([0.9, 0.001, 0.3, 0.6], [300.0, 300.0, 300.0, 10.0])
    mass = _mass({"delivery": 1.0}, {"delivery": 1.0}, {"delivery": 1.0},
                     {"delivery": 1.0})
    plan = plan_actions(customers, mass, catalogue)
    # the same log-odds shift saves more at p = 0.3 than at 0.9 (who leaves almost surely)
    assert list(plan["customer_id"]) == ["C2", "C0", "C3", "C1"]
    assert (plan["expected_net_value"].diff().dropna() <= 0).all()
    low = plan.set_index("customer_id").loc["C1"]
    assert low["status"] == NO_ACTION and low["action"] != low["action"]  # None -> NaN
    assert (plan.loc[plan["status"] == SELECTED, "expected_net_value"] > 0).all()


def test_customers_whose_risk_is_only_structural_get_nothing() -> None:
    catalogue = load_catalogue()
    plan = plan_actions(_customers([0.9], [1000.0]), _mass({"contract": 1.0}), catalogue)
    assert plan.loc[0, "status"] == NO_ACTION


def test_budget_and_capacity_are_respected_with_fallback_to_the_next_action() -> None:
    catalogue = _catalogue(
        {"name": "call", "cost": 10, "effect": 0.6, "families": ["service"], "capacity": 2},
        {"name": "mail", "cost": 1, "effect": 0.2, "families": ["service"]},
    )
    customers = _customers([0.8] * 5, [1000.0] * 5)
    mass = _mass(*[{"service": 1.0}] * 5)
    plan = plan_actions(customers, mass, catalogue)
    counts = plan.loc[plan["status"] == SELECTED, "action"].value_counts().to_dict()
    assert counts == {"call": 2, "mail": 3}
    tight = plan_actions(customers, mass, catalogue, PolicyConfig(budget=3.0))
    summary = plan_summary(tight)
    assert summary["cost"] <= 3.0
    assert (tight["status"] == OVER_BUDGET).any()
    no_cap = plan_actions(customers, mass, catalogue, PolicyConfig(capacity={"call": 5}))
    assert (no_cap["action"] == "call").all()


def test_a_tight_budget_goes_where_it_saves_most_per_euro() -> None:
    catalogue = _catalogue(
        {"name": "gift", "cost": 10, "effect": 0.5, "families": ["delivery"]},
        {"name": "note", "cost": 1, "effect": 0.3, "families": ["delivery"]},
    )
    customers = _customers([0.5] * 10, [200.0] * 10)
    mass = _mass(*[{"delivery": 1.0}] * 10)
    plan = plan_actions(customers, mass, catalogue, PolicyConfig(budget=10.0))
    summary = plan_summary(plan)
    # ten notes save 10 x (0.5 - sigmoid(-0.3)) = 0.74 customers; one gift would save 0.12
    assert summary["contacted"] == 10
    assert summary["expected_saved"] == pytest.approx(10 * (0.5 - 1 / (1 + np.exp(0.3))))


def test_a_bigger_driver_gains_more_from_the_same_action() -> None:
    """Risk mass is in log-odds: 'all delivery' at 2.0 is worth more than 'all delivery' at
    0.1, and the saving never exceeds the customer's churn probability."""
    catalogue = load_catalogue()
    customers = _customers([0.4, 0.4, 0.99], [500.0] * 3)
    plan = plan_actions(customers, _mass({"delivery": 2.0}, {"delivery": 0.1},
                                         {"delivery": 50.0}), catalogue).set_index("customer_id")
    assert plan.loc["C0", "expected_saved"] > 5 * plan.loc["C1", "expected_saved"]
    assert 0 < plan.loc["C2", "expected_saved"] <= 0.99
    p = np.array([0.0, 0.2, 1.0])
    assert saved_probability(p, np.array([1.0, 0.0, 1.0])).tolist() == pytest.approx(
        [0.0, 0.0, 0.0], abs=1e-9)


def test_family_mass_sums_only_risk_raising_drivers_in_log_odds() -> None:
    features = ["late_deliveries_90d", "tickets_30d", "nps_last", "contract", "orders_30d"]
    shap = np.array([
        [0.6, 0.2, -0.9, 0.0, 0.01],  # nps lowers risk: ignored
        [-0.1, -0.2, -0.3, -0.1, 0.0],  # nothing raises risk
    ])
    mass = family_mass(shap, features)
    assert mass.loc[0, "delivery"] == pytest.approx(0.6)
    assert mass.loc[0, "service"] == pytest.approx(0.2)
    assert mass.loc[0, "survey"] == 0.0
    assert mass.loc[0, "engagement"] == pytest.approx(0.01)
    assert mass.loc[1].sum() == 0.0
    with pytest.raises(DataContractError, match="SHAP matrix"):
        family_mass(shap[:, :3], features)


def test_the_customers_objective_weighs_every_customer_the_same() -> None:
    """By value, a big spender's risk is worth a call a small spender's is not; by customers,
    both get the same action and the reported value stays each customer's own."""
    catalogue = _catalogue({"name": "call", "cost": 20, "effect": 0.5, "families": ["service"]})
    customers = _customers([0.3, 0.3], [1000.0, 30.0])
    mass = _mass({"service": 1.0}, {"service": 1.0})
    by_value = plan_actions(customers, mass, catalogue).set_index("customer_id")
    assert by_value["status"].tolist() == [SELECTED, NO_ACTION]
    by_customers = plan_actions(customers, mass, catalogue,
                                PolicyConfig(objective="customers")).set_index("customer_id")
    assert (by_customers["status"] == SELECTED).all()
    assert by_customers["value"].tolist() == [1000.0, 30.0]
    with pytest.raises(ConfigError, match="objective must be one of"):
        PolicyConfig(objective="profit")


def test_a_holdout_keeps_a_stable_random_control_group_out_and_spends_on_others() -> None:
    catalogue = _catalogue({"name": "mail", "cost": 1, "effect": 0.5, "families": ["service"]})
    n = 2000
    customers = _customers([0.3] * n, [500.0] * n)
    mass = _mass(*[{"service": 1.0}] * n)
    plan = plan_actions(customers, mass, catalogue, PolicyConfig(holdout=0.2, budget=1000.0))
    held = plan[plan["status"] == HOLDOUT]
    assert abs(len(held) - 0.2 * n) < 4 * (0.2 * 0.8 * n) ** 0.5  # binomial, 4 sd
    assert (held["action"] == "mail").all()  # what they would have got, for the comparison
    # the budget still buys 1,000 contacts, all outside the control group
    assert plan_summary(plan)["contacted"] == 1000
    # the same customers stay out whatever else the list holds, and in any order
    subset = customers.iloc[::-1].iloc[:500]
    again = plan_actions(subset, mass.iloc[:500], catalogue, PolicyConfig(holdout=0.2))
    assert set(again.loc[again["status"] == HOLDOUT, "customer_id"]) == (
        set(held["customer_id"]) & set(subset["customer_id"]))
    assert not holdout_mask(["a", "b"], 0.0).any()
    with pytest.raises(ConfigError, match="holdout must be a share"):
        PolicyConfig(holdout=1.0)


def test_bad_inputs_are_refused_with_a_clear_message() -> None:
    catalogue = load_catalogue()
    with pytest.raises(DataContractError, match="p_churn must be probabilities"):
        plan_actions(_customers([1.5], [1.0]), _mass({}), catalogue)
    with pytest.raises(DataContractError, match="value"):
        plan_actions(pd.DataFrame({"customer_id": ["a"], "p_churn": [0.1]}), _mass({}),
                     catalogue)
    with pytest.raises(ConfigError, match="budget"):
        PolicyConfig(budget=-5)

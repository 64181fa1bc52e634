"""Acceptance: on the synthetic world, judged by the simulator's true action effects, the
policy's targeting beats contacting the highest-risk customers with one fixed action and
beats random targeting, with the same budget.

The policy maximises expected net value (money); its customers-saved twin (one value for
everybody) maximises customers saved. Each is judged on what it maximises: the value policy
must save more value than every baseline, the customers policy more customers. Budgets of
1,000 and 2,000 (EUR): at 500 the customers policy and "highest risk + re-engagement" (the
cheapest action on the riskiest 250) are within a customer of each other and either can win,
so that budget is reported by ``benchmarks/retention.py`` but not asserted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from features.spec import DEFAULT_SPECS
from serving.catalogue import load_catalogue
from serving.policy import policy_inputs
from serving.targeting import compare_strategies, truth_matrix
from training.train import TrainConfig, train_churn_model

pytestmark = pytest.mark.slow


def _judged(world: Any, examples: Any, folder: Path) -> tuple[Any, Any, Any, Any]:
    result = train_churn_model(examples, DEFAULT_SPECS, TrainConfig(write_plots=False), folder)
    catalogue = load_catalogue()
    customers, shares = policy_inputs(result.model, result.split.test)
    effects = world.truth_action_effects
    effects = effects[effects["cutoff"] == result.split.test_cutoffs[0]]
    truth = truth_matrix(effects, customers["customer_id"], catalogue)
    return customers, shares, catalogue, truth


def test_policy_beats_highest_risk_fixed_actions_and_random(
        default_world: Any, default_training_examples: Any, tmp_path: Path) -> None:
    # One test for both budgets: the model is trained once, on one test worker.
    customers, shares, catalogue, truth = _judged(default_world, default_training_examples,
                                                  tmp_path)
    for budget in (1000.0, 2000.0):
        table = compare_strategies(customers, shares, catalogue, truth, budget, random_draws=50)
        by = table.set_index("strategy")
        assert (table["cost"] <= budget + 1e-9).all()
        baselines = by[by.index.str.startswith(("highest risk", "random"))]
        value_policy = by.loc["policy (value)"]
        customers_policy = by.loc["policy (customers)"]
        assert value_policy["value_saved"] > baselines["value_saved"].max(), table.to_string()
        assert customers_policy["saved"] > baselines["saved"].max(), table.to_string()
        random_saved = by.filter(like="random", axis=0)["saved"].iloc[0]
        assert value_policy["saved"] > 10 * random_saved, table.to_string()

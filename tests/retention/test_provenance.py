"""Each action's effect says where it comes from, learned effects carry n and a 95% interval
that survives the catalogue file, and expected saves become ranges that hold the point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxchurn.errors import ConfigError
from features.families import FAMILIES
from serving.retention.catalogue import load_catalogue, parse_catalogue, write_catalogue
from serving.retention.policy import candidate_values, plan_actions
from serving.retention.provenance import (
    ASSUMED_SD,
    effect_source,
    option_ranges,
    plan_ranges,
    saved_ranges,
)
from tests.retention.test_uplift import CATALOGUE, TEXT, _world
from uplift.effects import UpliftConfig, fit_effects


def _customers(n: int = 400, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                              "p_churn": rng.uniform(0.05, 0.8, n),
                              "value": rng.uniform(50, 2000, n)})
    mass = pd.DataFrame(0.0, index=range(n), columns=list(FAMILIES))
    for family in ("delivery", "service", "survey", "price", "engagement"):
        mass[family] = rng.exponential(0.5, n)
    return customers, mass


def test_shipped_effects_are_assumptions_with_the_priors_range() -> None:
    shipped = load_catalogue()
    voucher = effect_source(shipped.get("apology_voucher"))
    assert voucher["source"] == "assumed" and voucher["treated"] == 0
    low, high = voucher["effect_95"]
    assert low == pytest.approx(max(0.0, voucher["effect"] - 1.96 * ASSUMED_SD), abs=1e-3)
    assert high == pytest.approx(voucher["effect"] + 1.96 * ASSUMED_SD, abs=1e-3)
    assert UpliftConfig().prior_sd == ASSUMED_SD  # the range is the learner's own prior


def test_saving_ranges_hold_the_point_and_widen_with_uncertainty() -> None:
    customers, mass = _customers()
    catalogue = load_catalogue()
    point, _, _ = candidate_values(customers, mass, catalogue)
    low, high = saved_ranges(customers, mass, catalogue)
    assert np.all(low <= point + 1e-12) and np.all(point <= high + 1e-12)
    assert np.all(low >= 0) and (high > low).any()
    plan = plan_ranges(plan_actions(customers, mass, catalogue), customers, mass, catalogue)
    chosen = plan[plan["action"].notna() & (plan["action"] != "None")]
    assert len(chosen) > 0
    assert (chosen["expected_saved_low"] <= chosen["expected_saved"] + 1e-12).all()
    assert (chosen["expected_saved"] <= chosen["expected_saved_high"] + 1e-12).all()
    none = plan[~plan.index.isin(chosen.index)]
    assert (none["expected_saved_low"] == 0).all() and (none["expected_saved_high"] == 0).all()


def test_learned_effects_carry_n_and_interval_through_the_catalogue_file(tmp_path: Path
                                                                         ) -> None:
    true = {"voucher": (0.9, 0.1), "callback": (0.5, 0.3)}
    p, mass, treated, y = _world(60_000, true)
    fit = fit_effects(p, mass, treated, y, CATALOGUE, UpliftConfig(prior_sd=5.0))
    table = fit.table.set_index("action")
    written = write_catalogue(fit.catalogue, tmp_path / "actions.learned.yaml")
    voucher = load_catalogue(written).get("voucher")
    assert voucher.learned is not None
    assert voucher.learned.treated == int(table.loc["voucher", "treated"])
    low, high = voucher.learned.effect_95
    se = table.loc["voucher", "effect_se"]
    assert low < 0.9 < high  # the interval covers the effect that made the outcomes
    assert high - low == pytest.approx(2 * 1.96 * se, abs=1e-3)
    source = effect_source(voucher)
    assert source["source"] == "learned" and source["effect_95"] == [low, high]
    # and ranges follow the learned interval: much narrower than the assumed one
    customers, cmass = _customers()
    cmass["delivery"] = mass["delivery"].head(len(cmass)).to_numpy()
    options = [[{"action": "voucher", "expected_saved": 0.0, "expected_net_value": 1.0}]]
    learned = option_ranges(customers.head(1), cmass.head(1), load_catalogue(written),
                            options)[0][0]
    assumed = option_ranges(customers.head(1), cmass.head(1), CATALOGUE, options)[0][0]
    assert learned["effect_source"]["source"] == "learned"
    assert assumed["effect_source"]["source"] == "assumed"
    assert (learned["expected_saved_high"] - learned["expected_saved_low"]
            < assumed["expected_saved_high"] - assumed["expected_saved_low"])


def test_too_few_treated_keeps_the_assumption() -> None:
    p, mass, treated, y = _world(600, {"voucher": (0.9, 0.1), "callback": (0.5, 0.3)})
    rare = fit_effects(p, mass, treated, y, CATALOGUE, UpliftConfig(min_treated=10_000))
    assert all(a.learned is None for a in rare.catalogue)


@pytest.mark.parametrize("learned, word", [
    ({"treated": 0, "effect_95": [0.1, 0.2], "general_95": [0, 0]}, "treated"),
    ({"treated": 5, "effect_95": [0.3, 0.2], "general_95": [0, 0]}, "effect_95"),
    ({"treated": 5, "effect_95": [0.1], "general_95": [0, 0]}, "effect_95"),
    ({"treated": 5, "effect_95": [0.1, 0.2]}, "general_95"),
])
def test_a_broken_learned_block_is_refused_naming_the_field(learned: dict, word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        parse_catalogue({"actions": [{"name": "voucher", "channel": "email", "cost": 1,
                                      "effect": 0.2, "families": ["delivery"], "text": TEXT,
                                      "learned": learned}]})

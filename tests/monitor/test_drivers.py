"""Key drivers against the simulator's known causes.

- A delivery shock: the champion's delivery share of SHAP mass rises after it, and the NPS
  and CSAT driver rankings put delivery first.
- An unshocked world: the survey driver ranking follows the families' true damage
  (``features.simulate_causes``), which is itself checked to explain answers with the world's
  own coefficient.
- Point in time: an event at or after an answer never reaches that answer's features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.monitor import train_champion, world_config, world_examples
from features.schema import CUTOFF
from features.simulate import SimConfig, simulate
from features.simulate_causes import CAUSES, damage_at
from training.churn_drivers import shap_mass_by_cutoff
from training.survey_drivers import (
    ANSWER,
    answer_features,
    experience_specs,
    survey_answers,
    survey_drivers,
)

SEED = 1


@pytest.fixture(scope="module")
def shocked_config() -> SimConfig:
    return world_config(3000, seed=SEED, shock="delivery")  # shock 2027-04-01


@pytest.fixture(scope="module")
def shocked_world() -> object:
    # 10,000 customers: about 700 NPS answers in the three months after the shock (with
    # 3,000, about 200, and delivery and service are within each other's intervals).
    return simulate(world_config(10_000, seed=SEED, shock="delivery"))


def test_the_delivery_share_of_shap_mass_rises_after_a_delivery_shock(shocked_config) -> None:
    examples = world_examples(shocked_config)
    model, _ = train_champion(examples, "2027-01-01")
    rows = {c.date().isoformat(): examples[examples[CUTOFF] == c].reset_index(drop=True)
            for c in sorted(examples[CUTOFF].unique())
            if c >= pd.Timestamp("2027-03-01", tz="UTC")}
    table = shap_mass_by_cutoff(model, rows, n_resamples=200)
    delivery = table[table["family"] == "delivery"].set_index("cutoff")
    before = delivery.loc["2027-03-01"]
    for after in ("2027-05-01", "2027-06-01"):
        # the whole interval after the shock lies above the share before it
        assert delivery.loc[after, "share_ci_low"] > before["share_ci_high"], delivery
    assert delivery.loc["2027-06-01", "share"] > 1.3 * before["share"]
    shares = table.groupby("cutoff")["share"].sum()
    assert np.allclose(shares, 1.0)


def test_after_a_delivery_shock_delivery_drives_nps_and_csat_first(shocked_world) -> None:
    world = shocked_world
    results = survey_drivers(world.customers, world.events, start="2027-04", end="2027-06",
                             n_resamples=100)
    for result in results:
        top = result.families.iloc[0]
        assert top["family"] == "delivery", (result.survey, result.families)
        assert top["direction"] == "lowers"
        second = result.families.iloc[1]
        assert top["share_ci_low"] > second["share_ci_high"], result.families


@pytest.fixture(scope="module")
def plain_world() -> object:
    return simulate(SimConfig(n_customers=5000, seed=SEED))


def _true_damage(world: object, survey: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    answers = survey_answers(world.events, survey)  # type: ignore[attr-defined]
    damage = damage_at(world.customers, world.events,  # type: ignore[attr-defined]
                       answers.rename(columns={ANSWER: "time"}))
    return answers, damage


def test_the_recomputed_damage_moves_nps_by_the_worlds_own_coefficient(plain_world) -> None:
    # NPS = 7 + 2.6 x satisfaction + noise, and satisfaction = baseline + the damages. Within
    # a customer the baseline cancels, so answers move 2.6 points per unit of damage.
    answers, damage = _true_damage(plain_world, "nps")
    frame = pd.concat([answers, damage], axis=1)
    cols = [*CAUSES, "score"]
    within = frame[cols] - frame.groupby("customer_id")[cols].transform("mean")
    coef = np.linalg.lstsq(within[list(CAUSES)].to_numpy(), within["score"].to_numpy(),
                           rcond=None)[0]
    assert coef[:2] == pytest.approx([2.6, 2.6], abs=0.5)


@pytest.mark.parametrize("survey", ["nps", "csat"])
def test_without_a_shock_the_ranking_follows_the_true_damage(plain_world, survey) -> None:
    # The true strength of a family is how much its damage varies among the people answering
    # (every unit of damage moves satisfaction by the same amount).
    _, damage = _true_damage(plain_world, survey)
    truth = damage.std().sort_values(ascending=False)
    (result,) = survey_drivers(plain_world.customers, plain_world.events, [survey],
                               n_resamples=50)
    ranking = result.families["family"].tolist()
    assert ranking[:2] == truth.index[:2].tolist() == ["delivery", "service"]
    assert set(ranking[2:]) == set(truth.index[2:])
    assert (result.families["direction"].head(2) == "lowers").all()


def test_an_event_at_or_after_the_answer_never_reaches_its_features(plain_world) -> None:
    world = plain_world
    # one answer per customer: an event at one answer's time may rightly reach a later one
    answers = (survey_answers(world.events, "nps").drop_duplicates("customer_id", keep="last")
               .head(300).reset_index(drop=True))
    specs = experience_specs()
    before = answer_features(world.customers, world.events, answers, specs)
    late = pd.DataFrame({"customer_id": answers["customer_id"], "event_time": answers[ANSWER],
                         "event_type": "delivery", "channel": "web", "amount": np.nan,
                         "score": np.nan, "duration": 9.0, "text": None})
    events = pd.concat([world.events, late.astype(world.events.dtypes)], ignore_index=True)
    after = answer_features(world.customers, events, answers, specs)
    pd.testing.assert_frame_equal(before, after)

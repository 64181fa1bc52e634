"""The synthetic CX world: deterministic, contract-shaped, point-in-time sane, as hard as real
churn data, and with a truth that moves the way the business expects."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cxchurn.errors import ConfigError, DataContractError
from features import contract, feedback_text
from features import simulate as sim
from features import simulate_dynamics as dyn
from features.load import load_actions
from features.schema import CHANNELS, EVENT_COLUMNS, EVENT_TYPES, SCORE_SCALES
from features.sim_commands import simulate_command
from features.simulate import SimConfig, read_world, simulate, simulate_to_folder, world_summary
from features.simulate_truth import ACTION_TYPES, PILOT_COSTS

SMALL = SimConfig(n_customers=600, seed=11)
PILOT = replace(SMALL, pilot_share=0.3)


@pytest.fixture(scope="module")
def world() -> sim.World:
    """The default world (5,000 customers), simulated once for the module."""
    return simulate(SimConfig())


@pytest.fixture(scope="module")
def summary(world: sim.World) -> dict:
    figures = world_summary(world)
    print(json.dumps(figures, indent=1))  # visible with -s: the world's vital signs
    return figures


def _label(world: sim.World) -> pd.DataFrame:
    """Truth rows with the realised label (a cancellation in [cutoff, cutoff + horizon))."""
    ev = world.events
    cancel = ev[ev["event_type"] == "cancellation"].set_index("customer_id")["event_time"]
    truth = world.truth_churn.copy()
    when = truth["customer_id"].map(cancel)
    horizon = pd.Timedelta(days=world.config.horizon_days)
    truth["churned"] = ((when >= truth["cutoff"]) & (when < truth["cutoff"] + horizon)).astype(int)
    return truth


@pytest.fixture(scope="module")
def labelled(world: sim.World) -> pd.DataFrame:
    """Truth rows of the default world with the realised label."""
    return _label(world)


@pytest.fixture(scope="module")
def plain_world() -> sim.World:
    """The small world without a pilot (the pilot world's twin)."""
    return simulate(SMALL)


@pytest.fixture(scope="module")
def pilot_world() -> sim.World:
    """A small world with a retention pilot treating 30% of the eligible at every cutoff."""
    return simulate(PILOT)


def _count_before(world: sim.World, truth: pd.DataFrame, mask: pd.Series, days: int) -> pd.Series:
    """Per truth row: events matching mask in [cutoff - days, cutoff)."""
    ev = world.events.loc[mask, ["customer_id", "event_time"]]
    rows = truth[["customer_id", "cutoff"]].reset_index().merge(ev, on="customer_id")
    inside = (rows["event_time"] < rows["cutoff"]) & (
        rows["event_time"] >= rows["cutoff"] - pd.Timedelta(days=days)
    )
    return rows[inside].groupby("index").size().reindex(truth.index, fill_value=0)


# --- determinism and storage ---------------------------------------------------------------


def _assert_worlds_equal(a: sim.World, b: sim.World) -> None:
    for name in ("customers", "events", "actions", "truth_churn", "truth_action_effects"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.config == b.config


def test_same_seed_gives_the_same_world_bit_for_bit():
    _assert_worlds_equal(simulate(SMALL), simulate(SMALL))


def test_different_seed_gives_a_different_world():
    a, b = simulate(SMALL), simulate(SimConfig(n_customers=600, seed=12))
    assert len(a.events) != len(b.events) or not a.events.equals(b.events)
    assert not a.truth_churn["p_churn"].equals(b.truth_churn["p_churn"])


@pytest.mark.slow
def test_streamed_world_equals_in_memory_world_whatever_the_chunk_size(tmp_path, monkeypatch):
    monkeypatch.setattr(sim, "BLOCK_SIZE", 250)  # three blocks, cheaply
    expected = simulate(SMALL)
    for chunk in (250, 600):
        folder = tmp_path / f"chunk{chunk}"
        summary = simulate_to_folder(SMALL, folder, chunk_size=chunk, progress=False)
        _assert_worlds_equal(read_world(folder), expected)
        assert summary["n_events"] == len(expected.events)


def test_write_and_read_round_trip(tmp_path):
    world = simulate(SMALL)
    sim.write_world(world, tmp_path / "w")
    again = read_world(tmp_path / "w")
    _assert_worlds_equal(world, again)
    assert list(again.actions.columns) == ["customer_id", "action_time", "action_type", "cost",
                                           "outcome"]
    meta = json.loads((tmp_path / "w" / "world.json").read_text())
    assert meta["cutoffs"][0] == "2025-01-01" and meta["horizon_days"] == 30


def test_reading_an_incomplete_folder_names_the_missing_files(tmp_path):
    with pytest.raises(DataContractError, match=r"missing \['customers.parquet'"):
        read_world(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_customers": 0}, "n_customers must be a positive integer; got 0"),
        ({"cutoffs": ("2025-06-15",)}, "leave a full horizon before end"),
        ({"cutoffs": ("2025-02-01", "2025-01-01")}, "increasing list of distinct dates"),
        ({"start": "not a date"}, "SimConfig.start must be a date"),
        ({"pilot_share": 1.5}, r"pilot_share must be a number between 0 and 1 .*got 1.5"),
        ({"pilot_share": -0.1}, "pilot_share must be a number between 0 and 1"),
        ({"pilot_share": "0.3"}, "pilot_share must be a number between 0 and 1"),
    ],
)
def test_bad_config_is_refused_with_a_fixable_message(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SimConfig(**kwargs)


def test_cli_writes_a_world_folder(tmp_path):
    app = typer.Typer()
    app.command()(simulate_command)
    result = CliRunner().invoke(
        app, ["--out", str(tmp_path / "cli"), "--customers", "300", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert all((tmp_path / "cli" / f).is_file() for f in sim.FILES)
    assert "truth_auc" in result.output


# --- the data contract ---------------------------------------------------------------------


def test_tables_follow_the_contract(world):
    assert tuple(world.events.columns) == EVENT_COLUMNS
    assert str(world.events["event_time"].dtype) == "datetime64[us, UTC]"
    assert str(world.customers["signup_date"].dtype) == "datetime64[us, UTC]"
    assert world.customers["customer_id"].is_unique
    assert set(world.events["customer_id"]) <= set(world.customers["customer_id"])
    assert {"plan", "segment", "region", "preferred_channel", "contract", "monthly_price"} <= set(
        world.customers.columns
    )
    start, end = pd.Timestamp("2023-07-01", tz="UTC"), pd.Timestamp("2025-07-01", tz="UTC")
    assert world.events["event_time"].between(start, end, inclusive="left").all()


def test_every_event_type_and_channel_occurs(world):
    assert set(world.events["event_type"]) == set(EVENT_TYPES)
    assert set(world.events["channel"]) == set(CHANNELS)


def test_survey_scores_are_integers_on_their_scales(world):
    for event_type, (lo, hi) in SCORE_SCALES.items():
        scores = world.events.loc[world.events["event_type"] == event_type, "score"]
        assert len(scores) > 0 and scores.between(lo, hi).all()
        assert (scores == scores.round()).all()


def test_columns_are_filled_where_the_event_type_uses_them(world):
    ev = world.events
    assert ev.loc[ev["event_type"] == "order", "amount"].gt(0).all()
    assert ev.loc[ev["event_type"] == "delivery", "duration"].notna().all()
    assert ev.loc[ev["event_type"] == "support_ticket", "duration"].gt(0).all()
    assert ev.loc[ev["event_type"] == "session", "duration"].gt(0).all()
    assert ev.loc[ev["event_type"] == "feedback", "text"].notna().all()
    assert ev.loc[ev["event_type"] != "feedback", "text"].isna().all()


def test_no_event_before_signup_or_after_cancellation(world):
    ev = world.events.merge(world.customers[["customer_id", "signup_date"]], on="customer_id")
    assert (ev["event_time"] > ev["signup_date"]).all()
    cancel = ev[ev["event_type"] == "cancellation"]
    assert cancel["customer_id"].is_unique
    last = ev.groupby("customer_id")["event_time"].max()
    assert (last.loc[cancel["customer_id"]].to_numpy() == cancel["event_time"].to_numpy()).all()


def test_truth_rows_are_exactly_the_eligible_customer_cutoff_pairs(world):
    cancel = world.events[world.events["event_type"] == "cancellation"].set_index("customer_id")
    expected = set()
    for cutoff in pd.to_datetime(list(world.config.cutoffs), utc=True):
        cust = world.customers
        cancelled = cust["customer_id"].map(cancel["event_time"])
        eligible = (cust["signup_date"] < cutoff) & ~(cancelled < cutoff)
        expected |= {(c, cutoff) for c in cust.loc[eligible, "customer_id"]}
    truth = world.truth_churn
    assert set(zip(truth["customer_id"], truth["cutoff"], strict=True)) == expected
    assert len(truth) == len(expected)
    assert truth["p_churn"].between(0, 1).all()


# --- as hard as real churn data --------------------------------------------------------------


def test_churn_rate_and_truth_auc_look_like_real_churn(summary):
    for cutoff, figures in summary["cutoffs"].items():
        assert 0.015 <= figures["churn_rate"] <= 0.08, cutoff
    assert 0.02 <= summary["churn_rate"] <= 0.06
    assert 0.75 <= summary["truth_auc"] <= 0.92


def test_surveys_are_answered_by_a_minority(summary):
    assert 0.1 < summary["survey_responder_share"] < 0.5


def test_feedback_is_written_in_english_and_turkish(world):
    text = world.events.loc[world.events["event_type"] == "feedback", "text"]
    language = {phrase: lang for lang, _, _, phrase in feedback_text.phrase_labels()}
    langs = text.map(language)
    assert langs.notna().all()
    assert {"en", "tr"} == set(langs)


# --- directional: the truth moves the way the business expects -------------------------------


def test_customers_with_more_late_deliveries_have_higher_true_risk(world, labelled):
    late = (world.events["event_type"] == "delivery") & (world.events["duration"] > 0)
    n_late = _count_before(world, labelled, late, 90)
    p = labelled["p_churn"]
    assert p[n_late >= 2].mean() > p[n_late == 1].mean() > p[n_late == 0].mean()


def test_detractors_churn_more_than_promoters(world, labelled):
    ev = world.events[world.events["event_type"] == "survey_nps"]
    rows = labelled.reset_index().merge(ev[["customer_id", "event_time", "score"]],
                                        on="customer_id")
    rows = rows[rows["event_time"] < rows["cutoff"]].sort_values("event_time")
    last = rows.groupby("index").last()
    detractors, promoters = last[last["score"] <= 6], last[last["score"] >= 9]
    assert detractors["p_churn"].mean() > 1.5 * promoters["p_churn"].mean()
    assert detractors["churned"].mean() > promoters["churned"].mean()


def test_annual_contracts_churn_less(world, labelled):
    contract = labelled["customer_id"].map(world.customers.set_index("customer_id")["contract"])
    assert labelled.loc[contract == "annual", "churned"].mean() < labelled.loc[
        contract == "monthly", "churned"
    ].mean()


def test_action_effects_are_complete_and_heterogeneous(world, labelled):
    effects = world.truth_action_effects
    assert set(effects["action_type"]) == set(ACTION_TYPES)
    assert set(effects["customer_id"]) == set(world.truth_churn["customer_id"])
    assert not effects.duplicated(["customer_id", "action_type"]).any()
    wide = effects.pivot(index="customer_id", columns="action_type", values="effect")
    newest = labelled.sort_values("cutoff").groupby("customer_id", as_index=False).last()
    late = (world.events["event_type"] == "delivery") & (world.events["duration"] > 0)
    rise = (world.events["event_type"] == "price_change") & (world.events["amount"] > 0)
    newest["late"] = _count_before(world, newest, late, 60).to_numpy()
    newest["rise"] = _count_before(world, newest, rise, 120).to_numpy()
    wide = wide.loc[newest["customer_id"]].set_axis(newest.index)
    voucher, offer = wide["apology_voucher"], wide["loyalty_offer"]
    assert voucher[newest["late"] >= 2].mean() > 3 * voucher[newest["late"] == 0].mean()
    assert offer[newest["rise"] >= 1].mean() > 3 * offer[newest["rise"] == 0].mean()
    assert (wide.abs().max(axis=1) <= newest["p_churn"] + 1e-12).all()  # cannot exceed the risk


# --- the randomised retention pilot ----------------------------------------------------------


def test_without_a_pilot_the_actions_table_is_empty_and_typed(plain_world):
    pd.testing.assert_frame_equal(plain_world.actions, contract.empty_actions())
    assert SMALL.pilot_share == 0.0
    _assert_worlds_equal(plain_world, simulate(replace(SMALL, pilot_share=0.0)))


def test_the_pilot_draws_from_its_own_generator_and_acts_after_the_truth(
    pilot_world, plain_world
):
    """Up to the first cutoff a pilot world is the pilot-free world, draw for draw, and the
    first cutoff's truth is the same too: it is the risk before that cutoff's treatment.
    (Channels are drawn once per block after the daily loop, so they differ everywhere.)"""
    plain = plain_world
    first = pd.Timestamp(SMALL.cutoffs[0], tz="UTC")
    pd.testing.assert_frame_equal(pilot_world.customers, plain.customers)
    before = [w.events[w.events["event_time"] < first].drop(columns="channel")
              .reset_index(drop=True) for w in (pilot_world, plain)]
    pd.testing.assert_frame_equal(*before)
    truth = [w.truth_churn[w.truth_churn["cutoff"] == first].reset_index(drop=True)
             for w in (pilot_world, plain)]
    pd.testing.assert_frame_equal(*truth)
    assert not pilot_world.events.equals(plain.events)  # after it, the treatments show


def test_pilot_actions_follow_the_design_and_the_contract(pilot_world, tmp_path):
    actions, truth = pilot_world.actions, pilot_world.truth_churn
    assert list(actions.columns) == list(sim.ACTION_COLUMNS)
    assert (actions.dtypes == contract.empty_actions().dtypes).all()
    cutoff = actions["action_time"].dt.floor("D")
    assert (actions["action_time"] < cutoff + pd.Timedelta(hours=8)).all()
    # one action per treated customer and cutoff, only for customers eligible at that cutoff
    keys = pd.MultiIndex.from_arrays([actions["customer_id"], cutoff])
    assert keys.is_unique
    assert keys.isin(pd.MultiIndex.from_frame(truth[["customer_id", "cutoff"]])).all()
    eligible = truth.groupby("cutoff").size()
    treated = cutoff.value_counts().reindex(eligible.index, fill_value=0)
    share = PILOT.pilot_share
    tolerance = 4 * np.sqrt(eligible * share * (1 - share))  # binomial, 4 sd
    assert ((treated - share * eligible).abs() < tolerance).all(), (treated, eligible)
    assert set(actions["action_type"]) == set(ACTION_TYPES)
    assert (actions["cost"] == actions["action_type"].map(PILOT_COSTS)).all()
    assert actions["outcome"].isna().all()
    assert actions.equals(actions.sort_values(["action_time", "customer_id"]))
    checked = contract.check_actions(actions, pilot_world.customers, strict=True)
    assert len(checked.accepted) == len(actions) and checked.rejected.empty
    sim.write_world(pilot_world, tmp_path / "w")
    loaded = load_actions(tmp_path / "w" / "actions.parquet", pilot_world.customers,
                          quarantine_dir=tmp_path / "q", strict=True)
    assert loaded.n_accepted == len(actions) and loaded.n_quarantined == 0
    assert world_summary(pilot_world)["n_pilot_actions"] == len(actions)


def test_a_loyalty_offer_that_lowers_the_price_shows_as_a_price_change(pilot_world):
    ev = pilot_world.events
    cut = ev[(ev["event_type"] == "price_change")][["customer_id", "event_time", "amount"]]
    at_action = pilot_world.actions.merge(
        cut, left_on=["customer_id", "action_time"], right_on=["customer_id", "event_time"]
    )
    assert len(at_action) > 0
    assert (at_action["action_type"] == "loyalty_offer").all()
    assert (at_action["amount"] < 0).all()


def test_the_same_pilot_config_gives_the_same_actions(pilot_world):
    _assert_worlds_equal(simulate(PILOT), pilot_world)
    assert SimConfig.from_json(PILOT.to_json()) == PILOT
    assert SimConfig.from_json({"n_customers": 600}).pilot_share == 0.0  # older world.json


def test_a_streamed_pilot_world_equals_the_in_memory_one(tmp_path, monkeypatch):
    monkeypatch.setattr(sim, "BLOCK_SIZE", 100)  # actions sorted across blocks
    config = SimConfig(n_customers=200, seed=3, start="2024-10-01", end="2025-03-15",
                       cutoffs=("2024-12-01", "2025-01-01", "2025-02-01"), pilot_share=0.5)
    expected = simulate(config)
    summary = simulate_to_folder(config, tmp_path / "w", chunk_size=100, progress=False)
    _assert_worlds_equal(read_world(tmp_path / "w"), expected)
    assert summary["n_pilot_actions"] == len(expected.actions) > 0


def test_cli_runs_a_pilot(tmp_path):
    app = typer.Typer()
    app.command()(simulate_command)
    result = CliRunner().invoke(
        app, ["--out", str(tmp_path / "cli"), "--customers", "300", "--pilot-share", "0.5",
              "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    actions = read_world(tmp_path / "cli").actions
    assert len(actions) > 0 and f'"n_pilot_actions": {len(actions)}' in result.output


@pytest.mark.slow
def test_treated_customers_churn_less_by_about_the_true_effect(monkeypatch):
    """Over the pilot's treated customers, realised churn is well below what their
    pre-treatment p_churn predicts, and close to p_churn minus the true effect of the action
    each one got. Without treatments the first assertion fails (about 5.7 sd off, seed 7).

    p_churn is the truth's mean-path approximation and runs 20-40% below realised churn in
    these worlds (simulate_truth says why), so it is calibrated first on the randomised control
    group (the eligible customers not drawn into the pilot at that cutoff): ratio = churned /
    sum(p_churn). truth_action_effects keeps only each customer's newest cutoff, so the effects
    at every cutoff are taken from the truth function itself: a spy on action_effects, which
    simulate_block calls once per block and cutoff, in the order of the truth rows.
    """
    recorded: list[np.ndarray] = []
    real = dyn.action_effects

    def spy(state, horizon_days):
        recorded.append(real(state, horizon_days))
        return recorded[-1]

    monkeypatch.setattr(dyn, "action_effects", spy)
    cutoffs = ("2024-09-01", "2024-10-01", "2024-11-01", "2024-12-01", "2025-01-01")
    world = simulate(SimConfig(n_customers=20_000, seed=7, start="2024-06-01",
                               end="2025-02-01", cutoffs=cutoffs, pilot_share=0.5))
    truth = _label(world)
    effects = np.concatenate(recorded)
    assert effects.shape == (len(truth), len(ACTION_TYPES))
    newest = truth["cutoff"] == truth.groupby("customer_id")["cutoff"].transform("max")
    stored = world.truth_action_effects.pivot(
        index="customer_id", columns="action_type", values="effect"
    )[list(ACTION_TYPES)]
    assert np.allclose(stored.loc[truth.loc[newest, "customer_id"]], effects[newest.to_numpy()])

    acts = world.actions.assign(cutoff=world.actions["action_time"].dt.floor("D"))
    rows = truth.merge(acts[["customer_id", "cutoff", "action_type"]], how="left",
                       on=["customer_id", "cutoff"], validate="1:1")
    treated = rows["action_type"].notna().to_numpy()
    code = rows["action_type"].map({a: i for i, a in enumerate(ACTION_TYPES)})
    chosen = effects[np.arange(len(rows)), code.fillna(0).astype(int)]
    p, churned = rows["p_churn"].to_numpy(), rows["churned"].to_numpy()

    ratio = churned[~treated].sum() / p[~treated].sum()
    ratio_sd = np.sqrt(churned[~treated].sum()) / p[~treated].sum()
    observed = churned[treated].sum()

    def expected(p_sum: float) -> tuple[float, float]:
        """Calibrated expected churn and its sd (Poisson, with the ratio's own noise)."""
        return ratio * p_sum, float(np.hypot(np.sqrt(observed), p_sum * ratio_sd))

    untreated, sd = expected(p[treated].sum())
    assert observed < untreated - 3 * sd, (observed, untreated, sd)
    with_effects, sd = expected((p - chosen)[treated].sum())
    assert abs(observed - with_effects) < 3 * sd, (observed, with_effects, sd)

"""The synthetic CX world: deterministic, contract-shaped, point-in-time sane, as hard as real
churn data, and with a truth that moves the way the business expects."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cxchurn.errors import ConfigError, DataContractError
from features import feedback_text
from features import simulate as sim
from features.schema import CHANNELS, EVENT_COLUMNS, EVENT_TYPES, SCORE_SCALES
from features.sim_commands import simulate_command
from features.simulate import SimConfig, read_world, simulate, simulate_to_folder, world_summary
from features.simulate_truth import ACTION_TYPES

SMALL = SimConfig(n_customers=600, seed=11)


@pytest.fixture(scope="module")
def world() -> sim.World:
    """The default world (5,000 customers), simulated once for the module."""
    return simulate(SimConfig())


@pytest.fixture(scope="module")
def summary(world: sim.World) -> dict:
    figures = world_summary(world)
    print(json.dumps(figures, indent=1))  # visible with -s: the world's vital signs
    return figures


@pytest.fixture(scope="module")
def labelled(world: sim.World) -> pd.DataFrame:
    """Truth rows with the realised label (a cancellation in [cutoff, cutoff + horizon))."""
    ev = world.events
    cancel = ev[ev["event_type"] == "cancellation"].set_index("customer_id")["event_time"]
    truth = world.truth_churn.copy()
    when = truth["customer_id"].map(cancel)
    horizon = pd.Timedelta(days=world.config.horizon_days)
    truth["churned"] = ((when >= truth["cutoff"]) & (when < truth["cutoff"] + horizon)).astype(int)
    return truth


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
    for name in ("customers", "events", "truth_churn", "truth_action_effects"):
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

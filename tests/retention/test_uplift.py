"""Learning action effects from randomised outcomes: the fit, the treatment window, the
customer folds of the cross-fitting, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from cxchurn.errors import ConfigError, DataContractError
from features.families import FAMILIES
from serving.retention.catalogue import parse_catalogue
from tests.conftest import make_toy_examples
from uplift.crossfit import customer_folds, learn_effects, scoring_rows
from uplift.effects import UpliftConfig, fit_effects, recently_treated, treatments

TEXT = {"en": {"title": "t", "script": "s"}, "tr": {"title": "t", "script": "s"}}


def _catalogue(*actions: dict):
    return parse_catalogue({"actions": [{"channel": "email", "cost": 1, "text": TEXT, **a}
                                        for a in actions]})


def _world(n: int, true: dict[str, tuple[float, float]], seed: int = 0):
    """Rows scored by a calibrated model, randomly treated, churning as the policy's model says."""
    rng = np.random.default_rng(seed)
    p = np.clip(rng.beta(1.2, 12, n), 1e-4, 0.95)
    mass = pd.DataFrame(0.0, index=range(n), columns=list(FAMILIES))
    mass["delivery"] = rng.exponential(0.6, n)
    mass["service"] = rng.exponential(0.4, n)
    names = list(true)
    arm = rng.integers(-1, len(names), n)  # -1: control
    shift = np.zeros(n)
    for j, name in enumerate(names):
        e, g = true[name]
        answered = mass["delivery"] if name == "voucher" else mass["service"]
        other = mass["delivery"] + mass["service"] - answered
        shift = np.where(arm == j, e * answered + g * other, shift)
    y = rng.random(n) < expit(logit(p) - shift)
    treated = [names[a] if a >= 0 else None for a in arm]
    return p, mass, treated, y.astype(float)


CATALOGUE = _catalogue(
    {"name": "voucher", "effect": 0.2, "general_effect": 0.0, "families": ["delivery"]},
    {"name": "callback", "effect": 0.2, "general_effect": 0.0, "families": ["service"]},
)


def test_the_fit_recovers_the_effects_that_generated_the_outcomes() -> None:
    true = {"voucher": (0.9, 0.1), "callback": (0.5, 0.3)}
    p, mass, treated, y = _world(150_000, true)
    fit = fit_effects(p, mass, treated, y, CATALOGUE, UpliftConfig(prior_sd=5.0))
    table = fit.table.set_index("action")
    for name, (e, g) in true.items():
        assert table.loc[name, "effect"] == pytest.approx(e, abs=3 * table.loc[name, "effect_se"])
        assert table.loc[name, "general_effect"] == pytest.approx(
            g, abs=3 * table.loc[name, "general_se"] + 0.02)
        assert table.loc[name, "learned"]
    # the model was calibrated: the recalibration is close to identity
    a, b = fit.calibration
    assert abs(a) < 0.2 and abs(b - 1) < 0.1
    assert fit.catalogue.get("voucher").effect == pytest.approx(table.loc["voucher", "effect"])
    # treated customers churned less than the same customers untreated would have
    assert (table["churned"] < table["expected_untreated"]).all()


def test_little_data_stays_near_the_prior_and_too_little_keeps_it() -> None:
    true = {"voucher": (0.9, 0.1), "callback": (0.5, 0.3)}
    p, mass, treated, y = _world(600, true, seed=3)
    tight = fit_effects(p, mass, treated, y, CATALOGUE, UpliftConfig(prior_sd=0.05))
    assert tight.table.set_index("action").loc["voucher", "effect"] == pytest.approx(0.2, abs=0.15)
    rare = fit_effects(p, mass, treated, y, CATALOGUE, UpliftConfig(min_treated=10_000))
    assert not rare.table["learned"].any()
    assert [a.effect for a in rare.catalogue] == [0.2, 0.2]


def test_untreated_rows_calibrate_and_rows_of_unlearnable_actions_are_left_out() -> None:
    p, mass, treated, y = _world(3_000, {"voucher": (0.9, 0.1), "callback": (0.5, 0.3)})
    untreated = sum(t is None for t in treated)
    assert fit_effects(p, mass, treated, y, CATALOGUE).rows == 3_000
    rare = fit_effects(p, mass, treated, y, CATALOGUE, UpliftConfig(min_treated=10_000))
    assert rare.rows == untreated  # the treated rows are dropped, not counted as untreated


def test_actions_count_only_inside_the_window_after_a_cutoff() -> None:
    c = pd.Timestamp("2025-03-01", tz="UTC")
    keys = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "cutoff": [c] * 4})
    actions = pd.DataFrame({
        "customer_id": ["a", "b", "c", "c", "d"],
        "action_time": [c + pd.Timedelta(hours=2), c - pd.Timedelta(seconds=1),
                        c + pd.Timedelta(days=3), c + pd.Timedelta(days=1),
                        c + pd.Timedelta(days=7)],
        "action_type": ["voucher", "voucher", "voucher", "callback", "voucher"],
    })
    got = treatments(keys, actions, window_days=7)
    # b's action came before the cutoff (its features could not know it); d's after the window;
    # c got two: the first one counts
    assert got.tolist()[0] == "voucher" and got.tolist()[2] == "callback"
    assert got.isna().tolist() == [False, True, False, True]


def test_bad_inputs_are_refused_with_a_clear_message() -> None:
    p, mass, treated, y = _world(200, {"voucher": (0.5, 0.0), "callback": (0.5, 0.0)})
    with pytest.raises(DataContractError, match=r"not in the catalogue"):
        fit_effects(p, mass, ["gift"] * 200, y, CATALOGUE)
    with pytest.raises(DataContractError, match="align row by row"):
        fit_effects(p[:10], mass, treated, y, CATALOGUE)
    with pytest.raises(DataContractError, match="0 or 1"):
        fit_effects(p, mass, treated, y * 2, CATALOGUE)
    with pytest.raises(DataContractError, match="lacks column"):
        treatments(pd.DataFrame({"customer_id": ["a"]}), pd.DataFrame(), 7)
    with pytest.raises(ConfigError, match="prior_sd"):
        UpliftConfig(prior_sd=0)


def test_customer_folds_put_each_customer_in_one_fold_the_same_way_every_time() -> None:
    ids = pd.Series([f"C{i:04d}" for i in range(600)] * 3)  # three rows (cutoffs) each
    folds = customer_folds(ids, 3, seed=1)
    assert set(folds) == {0, 1, 2}
    per_customer = pd.Series(folds).groupby(ids).nunique()
    assert (per_customer == 1).all()  # no customer split across folds
    assert np.array_equal(folds, customer_folds(ids, 3, seed=1))  # deterministic
    sizes = np.bincount(folds[:600])
    assert sizes.min() > 150  # roughly balanced
    # a customer's fold depends on its id and the seed only, not on who else is in the table
    assert np.array_equal(customer_folds(ids[::7], 3, seed=1), folds[::7])
    assert not np.array_equal(customer_folds(ids, 3, seed=2), folds)
    with pytest.raises(ConfigError, match="folds"):
        customer_folds(ids, 1)


def test_scoring_rows_keep_every_treated_row_and_a_seeded_sample_of_controls() -> None:
    c1, c2, c3 = pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"], utc=True)
    cutoffs = pd.Series([c1] * 10 + [c2] * 10 + [c3] * 10)
    treated = np.zeros(30, dtype=bool)
    treated[[0, 12]] = True  # nothing treated at c3: its rows calibrate nothing
    rows = scoring_rows(cutoffs, treated, max_controls=5, seed=0)
    assert {0, 12} <= set(rows) and len(rows) == 7 and (rows < 20).all()
    assert np.array_equal(rows, scoring_rows(cutoffs, treated, max_controls=5, seed=0))
    assert len(scoring_rows(cutoffs, treated, max_controls=100)) == 20


class RecordingFit:
    """A test double for ``fit_model``: records each training frame, fits a tiny real model."""

    def __init__(self) -> None:
        self.seen: list[pd.DataFrame] = []

    def __call__(self, examples: pd.DataFrame):
        from training.dataset import feature_columns
        from training.model import ChurnModel

        self.seen.append(examples.copy())
        return ChurnModel(n_estimators=20, learning_rate=0.2, min_child_samples=10,
                          calibration=None).fit(examples[feature_columns(examples)],
                                                examples["churned"])


def _pilot(examples: pd.DataFrame, share: float = 0.25, seed: int = 0) -> pd.DataFrame:
    """Random actions a few hours after some rows' cutoffs (the pilot's treated rows)."""
    rng = np.random.default_rng(seed)
    rows = examples[rng.random(len(examples)) < share]
    names = ["apology_voucher", "priority_callback"]
    return pd.DataFrame({"customer_id": rows["customer_id"].to_numpy(),
                         "action_time": rows["cutoff"].to_numpy() + pd.Timedelta(hours=3),
                         "action_type": rng.choice(names, len(rows))})


def test_cross_fitting_never_trains_on_treated_rows_nor_on_the_scored_fold() -> None:
    from serving.retention.catalogue import load_catalogue

    catalogue = load_catalogue()
    examples = make_toy_examples(n_customers=300, seed=2)
    actions = _pilot(examples)
    actions = actions[actions["action_type"].isin(catalogue.names())]
    config = UpliftConfig(folds=3, min_treated=5, max_controls=400, seed=4)
    fit_model = RecordingFit()
    lines: list[str] = []
    fit = learn_effects(examples, actions, catalogue, fit_model, config, progress=lines.append)

    keys = examples["customer_id"] + "|" + examples["cutoff"].astype(str)
    treated_keys = set(keys[treatments(examples, actions).notna()])
    fold = dict(zip(examples["customer_id"],
                    customer_folds(examples["customer_id"], 3, seed=4), strict=False))
    assert len(fit_model.seen) == 3  # one model per fold, fold k trained k-th
    for k, train in enumerate(fit_model.seen):
        train_keys = set(train["customer_id"] + "|" + train["cutoff"].astype(str))
        assert not train_keys & treated_keys  # never a treated row
        assert {fold[c] for c in train["customer_id"]} == {0, 1, 2} - {k}  # never this fold
        # every untreated row of the other folds, at every cutoff (the model splits by time)
        others = examples[[fold[c] != k for c in examples["customer_id"]]]
        assert len(train) == len(others) - len(set(others["customer_id"] + "|" +
                                                   others["cutoff"].astype(str)) & treated_keys)
    # every treated row and the sampled controls were scored out of fold, and only those
    assert fit.rows == len(treated_keys) + 400
    assert int(fit.folds["scored_rows"].sum()) == fit.rows
    assert fit.folds["treated_rows"].sum() == len(treated_keys)
    assert len(lines) == 6 and lines[0].startswith("fold 1/3: training on")


def test_learning_without_any_action_in_a_window_says_what_is_missing() -> None:
    from serving.retention.catalogue import load_catalogue

    examples = make_toy_examples(n_customers=50)
    late = _pilot(examples).assign(action_time=lambda a: a["action_time"] + pd.Timedelta(days=9))
    fit_model = RecordingFit()
    with pytest.raises(DataContractError, match=r"within 7 days .* --pilot-share"):
        learn_effects(examples, late, load_catalogue(), fit_model)
    assert not fit_model.seen  # refused before any training


def test_a_washout_flags_rows_whose_customer_was_treated_just_before_the_cutoff() -> None:
    c = pd.Timestamp("2025-03-01", tz="UTC")
    keys = pd.DataFrame({"customer_id": ["a", "b", "c"], "cutoff": [c] * 3})
    actions = pd.DataFrame({
        "customer_id": ["a", "b", "c"],
        "action_time": [c - pd.Timedelta(days=20), c - pd.Timedelta(days=90), c],
        "action_type": ["voucher"] * 3,
    })
    # a: 20 days before (carried over); b: long before; c: at the cutoff (that is treatment)
    assert recently_treated(keys, actions, 60).tolist() == [True, False, False]
    assert not recently_treated(keys, actions, 0).any()
    with pytest.raises(ConfigError, match="washout_days"):
        UpliftConfig(washout_days=-1)


def test_an_actions_csv_keeps_ids_as_text_so_they_still_match(tmp_path) -> None:
    from uplift.commands import read_actions

    path = tmp_path / "actions.csv"
    path.write_text("customer_id,action_time,action_type,cost,outcome\n"
                    "00123,2025-03-01T02:00:00Z,voucher,5,\n", encoding="utf-8")
    keys = pd.DataFrame({"customer_id": ["00123"],
                         "cutoff": [pd.Timestamp("2025-03-01", tz="UTC")]})
    assert treatments(keys, read_actions(path)).tolist() == ["voucher"]

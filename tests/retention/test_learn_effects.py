"""Acceptance of ``cxchurn retention learn-effects`` on a small world with a randomised pilot.

The command trains its own cross-fitted churn models (no champion needed), so this runs the
whole path: simulate a pilot, build monthly features, learn, write the catalogue, page and
chart. The simulator's pilot actions help on average, so the treated customers must have
churned less than the learner expects they would have untreated.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from features.default_specs import DEFAULT_SPECS
from features.labels import LabelConfig
from features.pipeline import build_examples, write_outputs
from features.simulate import SimConfig, simulate, write_world
from serving.retention.catalogue import load_catalogue

pytestmark = pytest.mark.slow

# As benchmarks/retention.py::pilot_config, smaller: truth (and so the pilot) every month.
MONTHS = pd.date_range("2023-10-01", "2025-06-01", freq="MS", tz="UTC")


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 2,500-customer pilot world (30% treated a month), its features and the command's run."""
    from uplift.commands import learn_effects_step

    root = tmp_path_factory.mktemp("learn-effects")
    config = SimConfig(n_customers=2500, seed=7, pilot_share=0.3,
                       cutoffs=tuple(m.date().isoformat() for m in MONTHS))
    world = simulate(config)
    write_world(world, root / "world")
    labels = LabelConfig(horizon_days=config.horizon_days)
    features, label_frame = build_examples(world.customers, world.events, list(MONTHS), labels)
    write_outputs(features, label_frame, DEFAULT_SPECS, root / "features", labels)
    out = root / "review" / "actions.learned.yaml"
    progress: list[str] = []
    lines = learn_effects_step(home=root, features=root / "features",
                               actions=root / "world" / "actions.parquet", out=out,
                               progress=progress.append)
    return {"root": root, "out": out, "lines": lines, "progress": progress}


def _page_table(page: str) -> pd.DataFrame:
    """The page's per-action rows: action, treated, churned, expected if untreated."""
    rows = [[cell.strip() for cell in line.strip("|").split("|")][:4]
            for line in page.splitlines()
            if line.startswith("| ") and not line.startswith("| action")]
    table = pd.DataFrame(rows, columns=["action", "treated", "churned", "expected"])
    for col in ("treated", "churned", "expected"):
        table[col] = table[col].str.replace(",", "").astype(float)
    return table


def test_the_learned_catalogue_changes_only_the_effects(learned: dict) -> None:
    out = learned["out"]
    got, priors = load_catalogue(out), load_catalogue()
    assert got.names() == priors.names() and got.currency == priors.currency
    for a, p in zip(got, priors, strict=True):
        assert replace(a, effect=p.effect, general_effect=p.general_effect, learned=None) == p
        assert a.texts == p.texts
        if a.learned is not None:  # what the page says the effect rests on
            assert a.learned.treated > 0
            assert a.learned.effect_95[0] <= a.effect <= a.learned.effect_95[1]
    assert any(a.learned is not None for a in got)
    assert [(a.effect, a.general_effect) for a in got] != [
        (a.effect, a.general_effect) for a in priors]
    assert out.with_suffix(".png").stat().st_size > 5_000
    assert any(str(out) in line for line in learned["lines"])
    # one line as each fold starts and ends; the models lived in a temporary folder
    assert [line.split(":")[0] for line in learned["progress"]] == ["fold 1/2"] * 2 + [
        "fold 2/2"] * 2
    assert not list(learned["root"].glob("learn-effects-*"))


def test_the_page_shows_every_action_and_treated_customers_churned_less(learned: dict) -> None:
    page = learned["out"].with_suffix(".md").read_text(encoding="utf-8")
    assert "cross-fitted" in page
    table = _page_table(page)
    assert table["action"].tolist() == load_catalogue().names()
    assert (table["treated"] > 0).all(), page
    # the pilot's actions help on average in the simulator: fewer churned than expected
    assert table["churned"].sum() < table["expected"].sum(), page
    # the scores were made out of fold, so they need little recalibration
    a, b = map(float, re.search(r"a = (-?\d+\.\d+), b = (\d+\.\d+)", page).groups())
    assert abs(a) < 1.0 and 0.6 < b < 1.4, page


def test_a_missing_actions_file_is_named_with_the_fix(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cxchurn.cli import app
    from cxchurn.errors import ConfigError

    monkeypatch.setenv("CXCHURN_HOME", str(tmp_path))
    missing = tmp_path / "pilot" / "actions.parquet"
    result = CliRunner().invoke(app, ["retention", "learn-effects", "--actions", str(missing)])
    assert isinstance(result.exception, ConfigError)
    assert str(missing) in str(result.exception)
    assert "--actions FILE" in str(result.exception)

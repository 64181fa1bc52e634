"""The action catalogue file: the shipped one is valid and judgeable, bad edits fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cxchurn.errors import ConfigError
from cxchurn.settings import Settings
from features.simulate_truth import ACTION_TYPES
from serving.retention.catalogue import DEFAULT_FILE, load_catalogue, parse_catalogue


def _raw() -> dict:
    return yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))


def test_shipped_catalogue_has_the_simulator_action_types_in_both_languages() -> None:
    catalogue = load_catalogue()
    assert sorted(catalogue.names()) == sorted(ACTION_TYPES)
    for action in catalogue:
        assert action.title("en") != action.title("tr")
        assert action.cost >= 0 and 0 <= action.effect <= 2
        assert 0 <= action.general_effect <= 2


def test_shipped_costs_are_the_simulator_pilot_costs() -> None:
    """The pilot's recorded costs and the catalogue's must agree, or a benchmark judging the
    policy by cost would compare different prices."""
    from features.simulate_truth import PILOT_COSTS

    assert {a.name: a.cost for a in load_catalogue()} == dict(PILOT_COSTS)


def test_environment_variable_points_to_an_edited_copy(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _raw()
    raw["actions"][0]["cost"] = 7.5
    path = tmp_path / "actions.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CXCHURN_ACTIONS", str(path))
    assert load_catalogue(Settings.from_env().actions_file).actions[0].cost == 7.5


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a: a.update(cost=-1), "cost must be in [0.0"),
        (lambda a: a.update(cost="cheap"), "cost must be a number"),
        (lambda a: a.update(effect=2.5), "effect must be in [0.0, 2.0]"),
        (lambda a: a.update(general_effect=-0.1), "general_effect must be in [0.0"),
        (lambda a: a.update(families=["weather"]), "unknown driver famil"),
        (lambda a: a.update(channel="pigeon"), "channel must be one of"),
        (lambda a: a["text"].pop("tr"), "text.tr is missing"),
        (lambda a: a["text"]["en"].update(title=" "), "text.en.title must be a non-empty"),
        (lambda a: a.update(capacity=-3), "capacity must be a whole number"),
        (lambda a: a.update(colour="red"), "unknown field(s) ['colour']"),
        (lambda a: a.pop("effect"), "missing field(s) ['effect']"),
    ],
)
def test_a_bad_edit_names_the_action_and_the_field(edit, message: str) -> None:
    raw = _raw()
    edit(raw["actions"][1])
    with pytest.raises(ConfigError) as err:
        parse_catalogue(raw, "edited.yaml")
    assert "priority_callback" in str(err.value)
    assert message in str(err.value)


def test_duplicate_names_and_broken_files_are_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["actions"].append(dict(raw["actions"][0]))
    with pytest.raises(ConfigError, match="listed twice"):
        parse_catalogue(raw)
    broken = tmp_path / "broken.yaml"
    broken.write_text("actions: [name: {", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_catalogue(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalogue(tmp_path / "absent.yaml")

"""Alert rules: each configured case fires, its near misses do not, and a bad rules file is
refused with a message naming the file, the rule and the key."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cxchurn.errors import ConfigError
from cxchurn.settings import Settings
from serving.alerts.rules import DEFAULT_RULES, evaluate, load_rules, parse_rules
from serving.live.change import ScoreChange

AT = datetime(2025, 6, 3, 9, 30, tzinfo=UTC)
RULES = load_rules()  # shipped: high_risk, risk_jump, detractor_callback, valuable_complaint


def change(old: float | None = 0.05, new: float = 0.07, old_band: str | None = "low",
           new_band: str = "low", events: tuple[dict[str, Any], ...] = (),
           value: float | None = 200.0) -> ScoreChange:
    return ScoreChange(customer_id="C00042", at=AT, old_score=old, new_score=new,
                       old_band=old_band, new_band=new_band, events=events,
                       what_changed=("complaint today",), customer_value=value)


def nps(score: float | None) -> dict[str, Any]:
    return {"customer_id": "C00042", "event_time": "2025-06-03T09:00:00+00:00",
            "event_type": "survey_nps", "score": score}


COMPLAINT = {"customer_id": "C00042", "event_time": "2025-06-03T08:00:00+00:00",
             "event_type": "complaint"}
ORDER = {"customer_id": "C00042", "event_time": "2025-06-03T08:00:00+00:00",
         "event_type": "order", "amount": 40.0}


@pytest.mark.parametrize(("case", "expected"), [
    # risk crosses into the high band (from below, or a first score already high)
    (change(0.2, 0.35, "medium", "high"), ["high_risk"]),
    (change(0.05, 0.35, "low", "high"), ["high_risk", "risk_jump"]),
    (change(None, 0.4, None, "high"), ["high_risk"]),
    (change(0.35, 0.45, "high", "high"), []),  # already high: not a crossing
    (change(0.4, 0.2, "high", "medium"), []),  # falling out of the band
    (change(0.05, 0.2, "low", "medium"), []),  # medium is not the configured band
    # risk rises by more than 0.15
    (change(0.10, 0.26, "medium", "medium"), ["risk_jump"]),
    (change(0.10, 0.25, "medium", "medium"), []),  # exactly 0.15 is not "more than"
    (change(None, 0.29, None, "medium"), []),  # nothing to compare a first score with
    # a detractor NPS answer (<= 6)
    (change(events=(nps(6),)), ["detractor_callback"]),
    (change(events=(nps(0), nps(3))), ["detractor_callback"]),  # one alert per change
    (change(events=(nps(7),)), []),
    (change(events=(nps(None),)), []),  # an NPS event without a score
    (change(events=({**nps(2), "event_type": "survey_csat"},)), []),  # CSAT 2 is not NPS
    # a complaint from a customer worth >= 1000
    (change(events=(COMPLAINT,), value=1000.0), ["valuable_complaint"]),
    (change(events=(COMPLAINT,), value=999.0), []),
    (change(events=(COMPLAINT,), value=None), []),  # value unknown: not claimed high
    (change(events=(ORDER,), value=5000.0), []),
    # several rules at once, in the file's order
    (change(0.1, 0.5, "medium", "high", events=(nps(1), COMPLAINT), value=2500.0),
     ["high_risk", "risk_jump", "detractor_callback", "valuable_complaint"]),
])
def test_rules_fire_for_the_configured_cases_and_not_otherwise(case: ScoreChange,
                                                               expected: list[str]) -> None:
    assert [a.rule_id for a in evaluate(case, RULES)] == expected


def test_an_alert_says_who_why_and_by_when_in_both_languages() -> None:
    alerts = evaluate(change(0.08, 0.31, "low", "high", events=(nps(2),)), RULES)
    detractor = next(a for a in alerts if a.rule_id == "detractor_callback")
    assert detractor.customer_id == "C00042" and detractor.severity == "high"
    assert detractor.created_at == AT and detractor.due_at == AT + timedelta(hours=48)
    assert detractor.reason("en") == ("NPS answer 2 on 2025-06-03: call back within 48 "
                                      "hours")
    assert detractor.reason("tr") == ("2025-06-03 tarihinde NPS yanıtı 2: 48 saat içinde "
                                      "geri arayın")
    high = next(a for a in alerts if a.rule_id == "high_risk")
    assert high.reason("en") == "churn risk crossed into the high band: 8% -> 31%"
    assert high.reason("tr") == "ayrılma riski yüksek gruba geçti: %8 -> %31"
    assert high.details == ("complaint today",)


def test_thresholds_come_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {id: any_rise, kind: risk_rise, params: {by: 0.01},"
                    " due_hours: 4, severity: low}\n", encoding="utf-8")
    rules = load_rules(Settings.from_env({"CXCHURN_ALERT_RULES": str(path)}).alert_rules)
    [alert] = evaluate(change(0.10, 0.12, "medium", "medium"), rules)
    assert (alert.rule_id, alert.severity, alert.due_at) == ("any_rise", "low",
                                                            AT + timedelta(hours=4))
    assert evaluate(change(0.10, 0.105), rules) == []


def test_the_shipped_rules_cover_the_four_kinds() -> None:
    assert {r.kind for r in RULES} == {"band_entered", "risk_rise", "detractor",
                                       "complaint_high_value"}
    assert next(r for r in RULES if r.kind == "detractor").due_hours == 48


GOOD = {"id": "r1", "kind": "risk_rise", "params": {"by": 0.2}, "due_hours": 24,
        "severity": "high"}


@pytest.mark.parametrize(("rule", "message"), [
    ({**GOOD, "kind": "risk_rsie"}, "rule 'r1': key 'kind' must be one of .* "
                                    "\\(did you mean 'risk_rise'\\?\\)"),
    ({**GOOD, "params": {}}, "rule 'r1': key 'params.by' is missing"),
    ({**GOOD, "params": {"by": 1.5}}, "rule 'r1': key 'params.by' must be from 0 to 1; "
                                      "got '1.5'"),
    ({**GOOD, "params": {"by": "lots"}}, "key 'params.by' must be a number"),
    ({**GOOD, "params": {"by": 0.2, "band": "high"}}, "unknown key 'params.band'"),
    ({**GOOD, "kind": "band_entered", "params": {"band": "red"}},
     "key 'params.band' must be one of \\['low', 'medium', 'high'\\]"),
    ({**GOOD, "due_hours": 0}, "rule 'r1': key 'due_hours' must be above 0"),
    ({**GOOD, "due_hours": "2 days"}, "key 'due_hours' must be a number"),
    ({**GOOD, "severity": "urgent"}, "key 'severity' must be one of"),
    ({**GOOD, "sevrity": "high"}, "unknown key 'sevrity' \\(did you mean 'severity'\\?\\)"),
    ({**GOOD, "id": "has space"}, "rule #1: key 'id' must be"),
])
def test_a_bad_rule_names_the_file_the_rule_and_the_key(tmp_path: Path, rule: dict[str, Any],
                                                        message: str) -> None:
    import yaml

    path = tmp_path / "my_rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(path)) + ".*" + message):
        load_rules(path)


def test_duplicate_ids_unreadable_files_and_bad_yaml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rule 'r1': the id is used twice"):
        parse_rules({"rules": [GOOD, GOOD]}, "x.yaml")
    with pytest.raises(ConfigError, match="expected a mapping with a 'rules' list"):
        parse_rules([GOOD], "x.yaml")
    with pytest.raises(ConfigError, match=r"cannot read the alert rules file .*CXCHURN_ALERT"):
        load_rules(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML at line"):
        load_rules(broken)
    assert DEFAULT_RULES.is_file()


def test_evaluate_reads_only_the_change() -> None:
    case = change(0.1, 0.5, "medium", "high", events=(nps(1),))
    assert evaluate(case, RULES) == evaluate(replace(case), RULES)
    assert all(a.created_at == AT for a in evaluate(case, RULES))


@pytest.mark.parametrize(("env", "message"), [
    ({"CXCHURN_ALERT_WEBHOOK": "https://crm.example/h"}, "CXCHURN_ALERT_WEBHOOK_SECRET must"),
    ({"CXCHURN_ALERT_WEBHOOK": "https://crm.example/h", "CXCHURN_ALERT_WEBHOOK_SECRET": "short"},
     "at least 16 characters"),
    ({"CXCHURN_ALERT_WEBHOOK": "crm.example/h", "CXCHURN_ALERT_WEBHOOK_SECRET": "x" * 32},
     "CXCHURN_ALERT_WEBHOOK must be an http\\(s\\) URL"),
    ({"CXCHURN_ALERT_WEBHOOK_ATTEMPTS": "0"}, "CXCHURN_ALERT_WEBHOOK_ATTEMPTS must be"),
])
def test_webhook_settings_are_checked_at_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_the_webhook_secret_never_shows_in_the_settings_repr() -> None:
    settings = Settings.from_env({"CXCHURN_ALERT_WEBHOOK": "http://127.0.0.1:9/h",
                                  "CXCHURN_ALERT_WEBHOOK_SECRET": "s3cret-s3cret-s3cret"})
    assert settings.alert_webhook_secret == "s3cret-s3cret-s3cret"
    assert "s3cret" not in repr(settings)

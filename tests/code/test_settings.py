"""Settings read from the environment: typed once, a bad value named at start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cxchurn.errors import ConfigError
from cxchurn.settings import DEFAULT_BANDS, DEFAULT_MAX_BATCH, VARIABLES, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    settings = Settings.from_env({"CXCHURN_HOME": str(tmp_path)})
    assert settings.home == tmp_path.resolve()
    assert settings.risk_bands == DEFAULT_BANDS
    assert settings.max_batch == DEFAULT_MAX_BATCH
    assert settings.policy_objective == "value"
    assert settings.holdout_share == 0.0
    assert settings.api_key is None and settings.retention_budget is None


def test_values_are_parsed_to_their_types() -> None:
    settings = Settings.from_env({
        "CXCHURN_RISK_BANDS": "0.2, 0.5", "CXCHURN_MAX_BATCH": "250",
        "CXCHURN_RETENTION_BUDGET": "1500", "CXCHURN_POLICY_OBJECTIVE": "customers",
        "CXCHURN_HOLDOUT_SHARE": "0.1", "CXCHURN_ONLINE_STORE": "/tmp/store.duckdb",
    })
    assert settings.risk_bands == (0.2, 0.5)
    assert settings.max_batch == 250
    assert settings.retention_budget == 1500.0
    assert settings.policy_objective == "customers"
    assert settings.holdout_share == 0.1
    assert settings.online_store == Path("/tmp/store.duckdb")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CXCHURN_MAX_BATCH", "1O000", "CXCHURN_MAX_BATCH must be a number such as 10000"),
    ("CXCHURN_MAX_BATCH", "2.5", "CXCHURN_MAX_BATCH must be a whole number"),
    ("CXCHURN_MAX_BATCH", "0", "CXCHURN_MAX_BATCH must be a number >= 1"),
    ("CXCHURN_RISK_BANDS", "0.3,0.1", "CXCHURN_RISK_BANDS must satisfy 0 < medium < high < 1"),
    ("CXCHURN_RISK_BANDS", "high", "CXCHURN_RISK_BANDS must be two probabilities"),
    ("CXCHURN_RETENTION_BUDGET", "-5", "CXCHURN_RETENTION_BUDGET must be a number >= 0"),
    ("CXCHURN_RETENTION_BUDGET", "inf", "CXCHURN_RETENTION_BUDGET must be a number >= 0"),
    ("CXCHURN_HOLDOUT_SHARE", "1", "CXCHURN_HOLDOUT_SHARE must be a share below 1"),
    ("CXCHURN_POLICY_OBJECTIVE", "profit", "must be 'value' or 'customers'; got 'profit'"),
])
def test_a_bad_value_is_a_config_error_naming_the_variable(name: str, value: str,
                                                           message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env({name: value})


def test_every_variable_is_in_the_readme_table() -> None:
    table = README.read_text(encoding="utf-8")
    missing = [name for name in VARIABLES if f"| `{name}` |" not in table]
    assert not missing, f"README's environment table lacks {missing}"

"""Every setting the project reads from the environment, read once and checked once.

A command or the service calls ``Settings.from_env()`` when it starts and passes the frozen
result down; no other module reads ``os.environ``. A bad value is a ``ConfigError`` that names
the variable, what it must look like and what was found, raised at start-up rather than on
the first request that happens to need it. ``VARIABLES`` is the table the README shows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal

from cxchurn.errors import ConfigError

Objective = Literal["value", "customers"]

# name -> what it does (the README's table of environment variables is this table).
VARIABLES: Final[Mapping[str, str]] = {
    "CXCHURN_HOME": "working folder (default `./output`)",
    "MLFLOW_TRACKING_URI": "tracking/registry server (default SQLite in `CXCHURN_HOME`)",
    "CXCHURN_API_KEY": "when set, every endpoint but health needs `Authorization: Bearer <key>` "
                       "(the page asks once)",
    "CXCHURN_MODEL_NAME": "registered model to serve (default `cxchurn`)",
    "CXCHURN_ONLINE_STORE": "online feature store file the API reads (default "
                            "`<CXCHURN_HOME>/online/online_store.duckdb`)",
    "CXCHURN_RISK_BANDS": "probability cut points for low/medium/high (default `0.1,0.3`)",
    "CXCHURN_MAX_BATCH": "most customer ids or rows one `/score` or `/explain` request may carry "
                         "(default 10000)",
    "CXCHURN_ACTIONS": "an edited copy of the action catalogue "
                       "(`serving/retention/actions.yaml`)",
    "CXCHURN_OUTCOMES_URL": "SQLAlchemy URL for recorded outcomes, e.g. PostgreSQL (default "
                            "SQLite `outcomes.db` in `CXCHURN_HOME`)",
    "CXCHURN_EVENTS": "events file behind the customer timeline on the page (default: found "
                      "beside the online store's source)",
    "CXCHURN_RETENTION_BUDGET": "the at-risk list's contact budget in EUR",
    "CXCHURN_POLICY_OBJECTIVE": "`value` (default: save the most customer value) or `customers` "
                                "(every customer weighs the same: save the most customers)",
    "CXCHURN_HOLDOUT_SHARE": "e.g. `0.1`: a stable random 10% of customers is kept out as a "
                             "control group (listed, never contacted), to measure what the "
                             "contacts really save",
    "CXCHURN_MAX_EXPLAIN_CELLS": "most drivers one `/explain` request may ask for, customers x "
                                 "`top_k` (default 20000); a bigger request gets 413",
    "CXCHURN_WORKERS": "service worker processes (default: 2, or 1 on a one-core machine)",
    "CXCHURN_MAX_ACTION_COST": "highest cost an outcome may record, in the catalogue's "
                               "currency (default 10000)",
    "CXCHURN_EVENT_STORE_URL": "SQLAlchemy URL of the store of events posted to `/events`, e.g. "
                               "PostgreSQL (default SQLite `live/events.db` in `CXCHURN_HOME`)",
    "CXCHURN_MAX_EVENTS": "most events one `POST /events` may carry (default 1000); a bigger "
                          "request gets 413",
}

# MLflow client settings a long-running service wants: fail fast against an unreachable HTTP
# registry (and fall back to the cached model) instead of retrying for minutes.
SERVING_MLFLOW_DEFAULTS: Final[Mapping[str, str]] = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}

DEFAULT_BANDS: Final = (0.1, 0.3)
DEFAULT_MAX_BATCH: Final = 10_000
DEFAULT_MODEL_NAME: Final = "cxchurn"
DEFAULT_MAX_EXPLAIN_CELLS: Final = 20_000
DEFAULT_MAX_ACTION_COST: Final = 10_000.0
DEFAULT_MAX_EVENTS: Final = 1000


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _number(env: Mapping[str, str], name: str, example: str, low: float = 0.0,
            high: float = math.inf) -> float | None:
    text = _text(env, name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number such as {example}; got {text[:40]!r}; "
                          f"fix or unset it.") from None
    if not (math.isfinite(value) and low <= value <= high):
        bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f">= {low:g}"
        raise ConfigError(f"{name} must be a number {bound}; got {text[:40]!r}.")
    return value


def parse_bands(text: str | None, name: str = "CXCHURN_RISK_BANDS") -> tuple[float, float]:
    """'0.1,0.3' -> (0.1, 0.3): P(churn) from which a customer is medium, then high risk."""
    if not text:
        return DEFAULT_BANDS
    try:
        low, high = (float(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"{name} must be two probabilities like '0.1,0.3', got "
                          f"{text!r}") from None
    if not 0 < low < high < 1:
        raise ConfigError(f"{name} must satisfy 0 < medium < high < 1, got {text!r}")
    return low, high


def _whole(env: Mapping[str, str], name: str, example: str, default: int) -> int:
    value = _number(env, name, example, low=1)
    if value is None:
        return default
    if value != int(value):
        raise ConfigError(f"{name} must be a whole number such as {example}; got "
                          f"{env[name][:40]!r}.")
    return int(value)


def _max_batch(env: Mapping[str, str]) -> int:
    return _whole(env, "CXCHURN_MAX_BATCH", "10000", DEFAULT_MAX_BATCH)


def default_workers() -> int:
    """Two worker processes where there are two cores or more (one request that computes for
    seconds then leaves the other worker free), else one."""
    return min(2, os.cpu_count() or 1)


def _objective(env: Mapping[str, str]) -> Objective:
    text = _text(env, "CXCHURN_POLICY_OBJECTIVE") or "value"
    if text == "value":
        return "value"
    if text == "customers":
        return "customers"
    raise ConfigError(f"CXCHURN_POLICY_OBJECTIVE must be 'value' or 'customers'; got "
                      f"{text[:40]!r}.")


def _holdout(env: Mapping[str, str]) -> float:
    value = _number(env, "CXCHURN_HOLDOUT_SHARE", "0.1", high=1.0) or 0.0
    if value >= 1:
        raise ConfigError("CXCHURN_HOLDOUT_SHARE must be a share below 1, such as 0.1 for a 10% "
                          f"control group; got {env['CXCHURN_HOLDOUT_SHARE'][:40]!r}.")
    return value


@dataclass(frozen=True)
class Settings:
    """The environment's settings, typed; ``None`` means "not set: use the default"."""

    home: Path
    tracking_uri: str | None = None
    api_key: str | None = None
    model_name: str | None = None
    online_store: Path | None = None
    risk_bands: tuple[float, float] = DEFAULT_BANDS
    max_batch: int = DEFAULT_MAX_BATCH
    actions_file: Path | None = None
    outcomes_url: str | None = None
    events_file: Path | None = None
    retention_budget: float | None = None
    policy_objective: Objective = "value"
    holdout_share: float = 0.0
    max_explain_cells: int = DEFAULT_MAX_EXPLAIN_CELLS
    workers: int = 1
    max_action_cost: float = DEFAULT_MAX_ACTION_COST
    event_store_url: str | None = None
    max_events: int = DEFAULT_MAX_EVENTS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable of ``VARIABLES`` (``os.environ`` by default)."""
        env = os.environ if env is None else env
        store = _text(env, "CXCHURN_ONLINE_STORE")
        actions = _text(env, "CXCHURN_ACTIONS")
        events = _text(env, "CXCHURN_EVENTS")
        return cls(
            home=Path(_text(env, "CXCHURN_HOME") or "output").resolve(),
            tracking_uri=_text(env, "MLFLOW_TRACKING_URI"),
            api_key=env.get("CXCHURN_API_KEY") or None,
            model_name=_text(env, "CXCHURN_MODEL_NAME"),
            online_store=Path(store) if store else None,
            risk_bands=parse_bands(_text(env, "CXCHURN_RISK_BANDS")),
            max_batch=_max_batch(env),
            actions_file=Path(actions) if actions else None,
            outcomes_url=_text(env, "CXCHURN_OUTCOMES_URL"),
            events_file=Path(events) if events else None,
            retention_budget=_number(env, "CXCHURN_RETENTION_BUDGET", "1000"),
            policy_objective=_objective(env),
            holdout_share=_holdout(env),
            max_explain_cells=_whole(env, "CXCHURN_MAX_EXPLAIN_CELLS", "20000",
                                     DEFAULT_MAX_EXPLAIN_CELLS),
            workers=_whole(env, "CXCHURN_WORKERS", "2", default_workers()),
            max_action_cost=_number(env, "CXCHURN_MAX_ACTION_COST", "10000")
            or DEFAULT_MAX_ACTION_COST,
            event_store_url=_text(env, "CXCHURN_EVENT_STORE_URL"),
            max_events=_whole(env, "CXCHURN_MAX_EVENTS", "1000", DEFAULT_MAX_EVENTS),
        )

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with command-line options applied over the environment's values."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def apply_serving_mlflow_defaults() -> None:
    """Set ``SERVING_MLFLOW_DEFAULTS`` where unset; the service calls it when it starts.

    MLflow reads these from the process environment itself, so they are written there (an
    operator's own values win).
    """
    for name, value in SERVING_MLFLOW_DEFAULTS.items():
        os.environ.setdefault(name, value)


__all__ = ["DEFAULT_BANDS", "DEFAULT_MAX_ACTION_COST", "DEFAULT_MAX_BATCH",
           "DEFAULT_MAX_EVENTS", "DEFAULT_MAX_EXPLAIN_CELLS", "DEFAULT_MODEL_NAME",
           "SERVING_MLFLOW_DEFAULTS", "VARIABLES", "Settings", "apply_serving_mlflow_defaults",
           "default_workers", "parse_bands"]

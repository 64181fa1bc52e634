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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

from cxchurn.errors import ConfigError

Objective = Literal["value", "customers"]

# name -> what it does (the README's table of environment variables is this table).
VARIABLES: Final[Mapping[str, str]] = {
    "CXCHURN_HOME": "working folder (default `./output`)",
    "MLFLOW_TRACKING_URI": "tracking/registry server (default SQLite in `CXCHURN_HOME`)",
    "CXCHURN_ARTIFACT_ROOT": "where run artifacts (models, plots) go when `MLFLOW_TRACKING_URI` "
                             "is a database server such as `postgresql+psycopg://user@host/db`: "
                             "a folder or a URI like `s3://bucket/cxchurn` every trainer and "
                             "server reaches (default `<CXCHURN_HOME>/mlartifacts`)",
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
    "CXCHURN_ALERT_RULES": "an edited copy of the alert rules (`serving/alerts/rules.yaml`); "
                           "alerts are kept in the outcome database",
    "CXCHURN_ALERT_WEBHOOK": "an `https://` (or `http://`) URL that receives each new alert "
                             "as signed JSON (see docs/alerts.md); unset: the inbox only",
    "CXCHURN_ALERT_WEBHOOK_SECRET": "the shared secret the webhook's signature is made with "
                                    "(at least 16 characters; required with the URL)",
    "CXCHURN_ALERT_WEBHOOK_ATTEMPTS": "most delivery attempts per alert, with exponential "
                                      "backoff between them (default 6)",
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
    "CXCHURN_CONTACT_COLUMNS": "comma-separated customer-table column names that hold contact "
                               "details (name, phone, e-mail): shown on the page, never "
                               "logged, never model features (default: common English and "
                               "Turkish names such as `name,phone,email,ad_soyad`; a preferred "
                               "channel column is shown too but stays a feature unless listed)",
    "CXCHURN_CONTACTED_DAYS": "customers contacted in the last N days are left off the at-risk "
                              "list unless the page's toggle shows them (default 14; 0 = never)",
    "CXCHURN_EVENT_STORE_URL": "SQLAlchemy URL of the store of events posted to `/events`, e.g. "
                               "PostgreSQL (default SQLite `live/events.db` in `CXCHURN_HOME`)",
    "CXCHURN_MAX_EVENTS": "most events one `POST /events` may carry (default 1000); a bigger "
                          "request gets 413",
    "CXCHURN_LIVE_REFRESH_SECONDS": "after events posted to `/events` change scores, the page's "
                                    "at-risk list is rebuilt at most this often (default 30; 0 "
                                    "= on the next view)",
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
DEFAULT_WEBHOOK_ATTEMPTS: Final = 6
MIN_SECRET_LENGTH: Final = 16
DEFAULT_CONTACTED_DAYS: Final = 14
# Column names (folded: lower case, "-" and " " as "_") that hold contact details, not
# features; English and Turkish spellings of what CRM exports call them.
DEFAULT_CONTACT_COLUMNS: Final = (
    "name", "full_name", "customer_name", "first_name", "last_name", "surname",
    "phone", "phone_number", "mobile", "telephone", "email", "e_mail", "email_address",
    "ad", "soyad", "ad_soyad", "adi_soyadi", "musteri_adi", "telefon", "cep_telefonu", "gsm",
    "eposta", "e_posta",
)
DEFAULT_MAX_EVENTS: Final = 1000
DEFAULT_LIVE_REFRESH_SECONDS: Final = 30.0


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


def _live_refresh(env: Mapping[str, str]) -> float:
    value = _number(env, "CXCHURN_LIVE_REFRESH_SECONDS", "30", high=86400.0)
    return DEFAULT_LIVE_REFRESH_SECONDS if value is None else value


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


def contact_key(name: str) -> str:
    """A column name as the contact list compares it: lower case, '-' and ' ' read as '_'."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _contact_columns(env: Mapping[str, str]) -> tuple[str, ...]:
    text = _text(env, "CXCHURN_CONTACT_COLUMNS")
    if text is None:
        return DEFAULT_CONTACT_COLUMNS
    names = tuple(dict.fromkeys(contact_key(n) for n in text.split(",") if n.strip()))
    if not names:
        raise ConfigError("CXCHURN_CONTACT_COLUMNS must list column names such as "
                          f"'name,phone,email'; got {text[:40]!r}.")
    return names


def _contacted_days(env: Mapping[str, str]) -> int:
    value = _number(env, "CXCHURN_CONTACTED_DAYS", "14", high=3650)
    if value is None:
        return DEFAULT_CONTACTED_DAYS
    if value != int(value):
        raise ConfigError(f"CXCHURN_CONTACTED_DAYS must be a whole number of days such as 14; "
                          f"got {env['CXCHURN_CONTACTED_DAYS'][:40]!r}.")
    return int(value)


def _holdout(env: Mapping[str, str]) -> float:
    value = _number(env, "CXCHURN_HOLDOUT_SHARE", "0.1", high=1.0) or 0.0
    if value >= 1:
        raise ConfigError("CXCHURN_HOLDOUT_SHARE must be a share below 1, such as 0.1 for a 10% "
                          f"control group; got {env['CXCHURN_HOLDOUT_SHARE'][:40]!r}.")
    return value


def _webhook(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The alert webhook URL and its secret: both or neither (an unsigned hook is refused)."""
    url = _text(env, "CXCHURN_ALERT_WEBHOOK")
    secret = env.get("CXCHURN_ALERT_WEBHOOK_SECRET") or None
    if url is None:
        return None, secret
    if not (url.startswith("https://") or url.startswith("http://")) or len(url) > 2000:
        raise ConfigError("CXCHURN_ALERT_WEBHOOK must be an http(s) URL such as "
                          f"https://crm.example.com/hooks/cxchurn; got {url[:40]!r}.")
    if secret is None or len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError("CXCHURN_ALERT_WEBHOOK is set, so CXCHURN_ALERT_WEBHOOK_SECRET must be "
                          f"a shared secret of at least {MIN_SECRET_LENGTH} characters (e.g. "
                          "`openssl rand -hex 32`); the receiver checks each signature with it.")
    return url, secret


@dataclass(frozen=True)
class Settings:
    """The environment's settings, typed; ``None`` means "not set: use the default"."""

    home: Path
    tracking_uri: str | None = None
    artifact_root: str | None = None
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
    alert_rules: Path | None = None
    alert_webhook: str | None = None
    alert_webhook_secret: str | None = field(default=None, repr=False)
    alert_webhook_attempts: int = DEFAULT_WEBHOOK_ATTEMPTS
    contact_columns: tuple[str, ...] = DEFAULT_CONTACT_COLUMNS
    contacted_days: int = DEFAULT_CONTACTED_DAYS
    event_store_url: str | None = None
    max_events: int = DEFAULT_MAX_EVENTS
    live_refresh_seconds: float = DEFAULT_LIVE_REFRESH_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable of ``VARIABLES`` (``os.environ`` by default)."""
        env = os.environ if env is None else env
        store = _text(env, "CXCHURN_ONLINE_STORE")
        actions = _text(env, "CXCHURN_ACTIONS")
        events = _text(env, "CXCHURN_EVENTS")
        rules = _text(env, "CXCHURN_ALERT_RULES")
        webhook, secret = _webhook(env)
        return cls(
            home=Path(_text(env, "CXCHURN_HOME") or "output").resolve(),
            tracking_uri=_text(env, "MLFLOW_TRACKING_URI"),
            artifact_root=_text(env, "CXCHURN_ARTIFACT_ROOT"),
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
            alert_rules=Path(rules) if rules else None,
            alert_webhook=webhook,
            alert_webhook_secret=secret,
            alert_webhook_attempts=_whole(env, "CXCHURN_ALERT_WEBHOOK_ATTEMPTS", "6",
                                          DEFAULT_WEBHOOK_ATTEMPTS),
            contact_columns=_contact_columns(env),
            contacted_days=_contacted_days(env),
            event_store_url=_text(env, "CXCHURN_EVENT_STORE_URL"),
            max_events=_whole(env, "CXCHURN_MAX_EVENTS", "1000", DEFAULT_MAX_EVENTS),
            live_refresh_seconds=_live_refresh(env),
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


__all__ = [
    "DEFAULT_BANDS",
    "DEFAULT_CONTACTED_DAYS",
    "DEFAULT_CONTACT_COLUMNS",
    "DEFAULT_LIVE_REFRESH_SECONDS",
    "DEFAULT_MAX_ACTION_COST",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_EVENTS",
    "DEFAULT_MAX_EXPLAIN_CELLS",
    "DEFAULT_MODEL_NAME",
    "DEFAULT_WEBHOOK_ATTEMPTS",
    "SERVING_MLFLOW_DEFAULTS",
    "VARIABLES",
    "Settings",
    "apply_serving_mlflow_defaults",
    "contact_key",
    "default_workers",
    "parse_bands",
]

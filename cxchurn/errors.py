"""One error hierarchy for the whole project.

Every error a user can cause derives from ``CxChurnError`` and carries a message that says
what was expected, what was found and how to fix it. The API edge maps the classes to HTTP
status codes; the CLI prints the message without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CxChurnError(Exception):
    """Base class: a problem the user can fix, explained in the message."""

    http_status: int = 400


class DataContractError(CxChurnError):
    """An input table breaks the data contract (missing column, bad file, bad values)."""

    http_status = 422


class ConfigError(CxChurnError):
    """A parameter, spec or configuration file is invalid."""

    http_status = 400


class FeatureMismatchError(CxChurnError):
    """Rows given to a model lack features it needs or carry features it does not know."""

    http_status = 422


class NotFoundError(CxChurnError):
    """A requested customer, model or artifact does not exist."""

    http_status = 404


class ModelNotReadyError(CxChurnError):
    """No model is loaded yet."""

    http_status = 503


class RegistryUnavailableError(CxChurnError):
    """The MLflow tracking/registry store cannot be reached or used."""

    http_status = 503


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the closest of ``choices`` to a mistyped name, else ""."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""

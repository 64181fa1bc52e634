"""API-key check shared by every protected route (scoring API and the retention app).

One check so that the scoring endpoints and the retention team's endpoints agree on what a
valid key is. The expected key is ``Settings.api_key`` (``CXCHURN_API_KEY``), read when the
service starts and passed in: ``ApiKeyCheck(settings.api_key)``. Without a key the API is open
(local use). The comparison is constant-time so that response timing does not leak the key.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cxchurn.errors import CxChurnError

API_KEY_ENV = "CXCHURN_API_KEY"


class AuthError(CxChurnError):
    """The request lacks the API key or carries a wrong one."""

    http_status = 401


def check_api_key(authorization_header: str | None, expected: str | None) -> None:
    """Accept ``Authorization: Bearer <key>`` matching ``expected``; raise AuthError.

    Does nothing when no key is expected. The message never echoes the key that was sent.
    """
    if not expected:
        return
    if not authorization_header:
        raise AuthError(
            "missing API key: send the header 'Authorization: Bearer <key>' with the key the "
            f"service was started with ({API_KEY_ENV})"
        )
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(
            "malformed Authorization header: expected 'Bearer <key>' (scheme 'Bearer', one "
            "space, then the key)"
        )
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise AuthError(f"wrong API key: use the key the service was started with ({API_KEY_ENV})")


@dataclass(frozen=True)
class ApiKeyCheck:
    """The service's key check: ``check(header)`` raises AuthError; ``required`` says if any."""

    expected: str | None = None

    @property
    def required(self) -> bool:
        return bool(self.expected)

    def __call__(self, authorization_header: str | None) -> None:
        check_api_key(authorization_header, self.expected)

    def __repr__(self) -> str:  # never show the key in logs or tracebacks
        return f"ApiKeyCheck(required={self.required})"

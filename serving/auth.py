"""API-key check shared by every protected route (scoring API and the retention app).

One function so that the scoring endpoints and the retention team's endpoints agree on what a
valid key is. The key is read from ``CXCHURN_API_KEY`` on every call (not at import), so a
test or an operator can set it per process; when it is unset the API is open (local use).
The comparison is constant-time so that response timing does not leak the key.
"""

from __future__ import annotations

import hmac
import os

from cxchurn.errors import CxChurnError

API_KEY_ENV = "CXCHURN_API_KEY"


class AuthError(CxChurnError):
    """The request lacks the API key or carries a wrong one."""

    http_status = 401


def api_key_required() -> bool:
    """True when ``CXCHURN_API_KEY`` is set to a non-empty value."""
    return bool(os.environ.get(API_KEY_ENV))


def check_api_key(authorization_header: str | None) -> None:
    """Accept ``Authorization: Bearer <key>`` matching ``CXCHURN_API_KEY``; raise AuthError.

    Does nothing when no key is configured. The message never echoes the key that was sent.
    """
    expected = os.environ.get(API_KEY_ENV)
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

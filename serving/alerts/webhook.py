"""Post each new alert to a webhook, signed, retried with backoff, off the request path.

The signature follows Stripe's scheme. Each POST carries::

    X-Cxchurn-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>
    X-Cxchurn-Delivery: <alert id>      (the same on every retry: deduplicate on it)

A receiver verifies it with ``verify_signature`` (or the same few lines in its own language):
recompute the HMAC over the timestamp, a dot and the raw body bytes exactly as received,
compare in constant time, and refuse timestamps older than five minutes (a replayed
request). The secret is ``CXCHURN_ALERT_WEBHOOK_SECRET``; it is never logged nor sent.

Delivery never blocks an ingest: the subscriber only marks an alert ``pending`` in the store
and wakes the worker thread. The worker posts whatever is due, and on failure schedules the
next attempt ``base_delay * 2**(attempt-1)`` seconds later (capped, with a little jitter) until
``max_attempts``; a 2xx answer is ``delivered``, a 4xx other than 408/429 (the receiver
refuses the request itself) or the last attempt is ``failed``. Everything lives in the
store, so a restart picks pending deliveries up again, and ``close`` drains what is due.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cxchurn.errors import CxChurnError
from serving.alerts.store import AlertStore, StoredAlert

log = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-Cxchurn-Signature"
DELIVERY_HEADER: Final = "X-Cxchurn-Delivery"
TOLERANCE_SECONDS: Final = 300
RETRYABLE_4XX: Final = (408, 429)
IDLE_POLL_SECONDS: Final = 5.0


@dataclass(frozen=True)
class WebhookConfig:
    """Where to post, the shared secret, and how hard to try."""

    url: str
    secret: str = field(repr=False)
    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 600.0
    timeout: float = 10.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...)."""
        base = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return base * (1 + 0.1 * random.random())


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str | None, body: bytes,
                     tolerance: float = TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """What a receiver does: True when ``header`` signs ``body`` with ``secret``, recently."""
    if not header:
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def payload(alert: StoredAlert) -> bytes:
    """The JSON body: the alert as ``GET /alerts`` shows it, under ``type: alert.created``."""
    data = alert.to_dict()
    for key in ("delivery", "delivery_attempts", "delivery_status", "delivery_error",
                "delivery_next_at", "delivered_at"):
        data.pop(key, None)
    return json.dumps({"type": "alert.created", "alert": data}, ensure_ascii=False,
                      separators=(",", ":")).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to record, not to follow (it would turn the POST into a GET)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(config: WebhookConfig, alert_id: int, body: bytes) -> tuple[int | None, str | None]:
    """One signed POST; (HTTP status or None, error text or None)."""
    request = urllib.request.Request(config.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "cxchurn-alerts",
        SIGNATURE_HEADER: sign(config.secret, int(time.time()), body),
        DELIVERY_HEADER: str(alert_id)})
    try:
        with _OPENER.open(request, timeout=config.timeout) as answer:
            return int(answer.status), None
    except urllib.error.HTTPError as err:
        return int(err.code), f"HTTP {err.code}"
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        return None, f"{type(err).__name__}: {str(reason)[:200]}"


class WebhookDeliverer:
    """A background thread that delivers pending alerts; see the module docstring."""

    def __init__(self, store: AlertStore, config: WebhookConfig,
                 sender: Callable[[WebhookConfig, int, bytes],
                                  tuple[int | None, str | None]] = post) -> None:
        self.store = store
        self.config = config
        self.sender = sender
        self._wake: queue.Queue[None] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> WebhookDeliverer:
        """Start the worker (idempotent); it first picks up what a previous run left."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="alert-webhook",
                                                daemon=True)
                self._thread.start()
        return self

    def notify(self) -> None:
        """New alerts are pending: deliver now (never blocks)."""
        self._wake.put_nowait(None)

    def close(self, timeout: float = 15.0) -> None:
        """Deliver what is due now, then stop; later retries stay pending in the store."""
        self._stop.set()
        self._wake.put_nowait(None)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def deliver_due(self) -> int:
        """Attempt every due delivery once; returns how many were attempted."""
        done = 0
        while True:
            batch = self.store.claim_due()
            if not batch:
                return done
            for alert in batch:
                self._attempt(alert)
                done += 1

    def _attempt(self, alert: StoredAlert) -> None:
        attempt = alert.delivery_attempts + 1
        status, error = self.sender(self.config, alert.id, payload(alert))
        if status is not None and 200 <= status < 300:
            self.store.record_delivery(alert.id, "delivered", attempt, status, None)
            return
        permanent = status is not None and 400 <= status < 500 and status not in RETRYABLE_4XX
        if permanent or attempt >= self.config.max_attempts:
            log.warning("alert %s: webhook delivery failed after %d attempt(s) (%s)",
                        alert.id, attempt, error)
            self.store.record_delivery(alert.id, "failed", attempt, status, error)
            return
        retry = datetime.now(UTC) + timedelta(seconds=self.config.delay(attempt))
        self.store.record_delivery(alert.id, "pending", attempt, status, error, next_at=retry)

    def _wait_seconds(self) -> float:
        due = self.store.next_due()
        if due is None:
            return IDLE_POLL_SECONDS
        left = (due - datetime.now(UTC)).total_seconds()
        return min(IDLE_POLL_SECONDS, max(0.02, left))

    def _loop(self) -> None:
        while True:
            # Read the flag before the pass: a pass that began before ``close`` may have
            # missed alerts stored just before it, so stopping takes one more full pass.
            stopping = self._stop.is_set()
            try:
                self.deliver_due()
                if stopping:
                    return
                wait = self._wait_seconds()
            except CxChurnError as err:  # the database is away: try again later
                log.warning("alert webhook: %s", err)
                if stopping:
                    return
                wait = IDLE_POLL_SECONDS
            try:
                self._wake.get(timeout=wait)
                while not self._wake.empty():  # one pass serves every wake-up so far
                    self._wake.get_nowait()
            except queue.Empty:
                pass

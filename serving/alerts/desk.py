"""Wiring: the subscriber the ingest side calls, and the alert desk the service keeps.

After each ingest, ``POST /events`` hands the ``ScoreChange`` of every affected customer to
the callables registered with it; ``make_alert_subscriber`` makes the one that turns them
into alerts. It must never fail or slow the ingest: it evaluates the rules (pure), stores
the new alerts in one short write each, wakes the webhook worker and returns; a database
problem is logged (without customer data) and swallowed, since the events themselves are
already stored and the next change raises the alert again.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from cxchurn.errors import CxChurnError
from cxchurn.settings import Settings
from serving.alerts.rules import Rule, evaluate, load_rules
from serving.alerts.store import AlertStore, StoredAlert
from serving.alerts.webhook import WebhookConfig, WebhookDeliverer
from serving.live.change import ScoreChange

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[ScoreChange]], None]


def make_alert_subscriber(store: AlertStore, rules: Sequence[Rule],
                          webhook: WebhookDeliverer | None = None,
                          on_new: Callable[[list[StoredAlert]], None] | None = None
                          ) -> Subscriber:
    """A callable for the ingest side: changes in, new alerts stored (and posted) out.

    ``on_new`` (tests, metrics) sees the alerts that were new, after they are stored.
    """
    rules = tuple(rules)

    def subscriber(changes: Sequence[ScoreChange]) -> None:
        found = [alert for change in changes for alert in evaluate(change, rules)]
        if not found:
            return
        try:
            new = store.add(found, deliver=webhook is not None)
        except CxChurnError as err:
            log.warning("%d alert(s) not stored: %s", len(found), err)
            return
        if new and webhook is not None:
            webhook.notify()
        if new and on_new is not None:
            on_new(new)

    return subscriber


@dataclass
class AlertDesk:
    """The rules, the store and (when configured) the webhook worker of one process."""

    rules: tuple[Rule, ...]
    store: AlertStore
    webhook: WebhookDeliverer | None = None

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine,
                      rules: Sequence[Rule] | None = None) -> AlertDesk:
        """Store on ``engine`` (the outcome database), webhook from the settings, started.

        The worker starts at once so deliveries a previous run left pending go out; it is
        drained when the process exits.
        """
        store = AlertStore(engine=engine)
        webhook = None
        if settings.alert_webhook and settings.alert_webhook_secret:
            webhook = WebhookDeliverer(store, WebhookConfig(
                url=settings.alert_webhook, secret=settings.alert_webhook_secret,
                max_attempts=settings.alert_webhook_attempts)).start()
            atexit.register(webhook.close)
        return cls(tuple(rules) if rules is not None else load_rules(settings.alert_rules),
                   store, webhook)

    def subscriber(self) -> Subscriber:
        """What the ingest side registers (``make_alert_subscriber`` on this desk)."""
        return make_alert_subscriber(self.store, self.rules, self.webhook)

    def close(self) -> None:
        if self.webhook is not None:
            self.webhook.close()

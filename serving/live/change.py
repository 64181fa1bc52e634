"""What one ingest did to one customer's score: the record alert rules read.

Ingestion (``POST /events``) produces one ``ScoreChange`` per affected customer after the
online row is recomputed; the alert rules turn changes into alerts. Keeping the record small
and typed lets each side be built and tested without the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ScoreChange:
    """One customer's score before and after the events just stored.

    ``old_score`` / ``old_band`` are None for a customer the store did not hold yet.
    ``events`` are the new contract rows for this customer (customer_id, event_time,
    event_type, channel, amount, score, duration, text), in time order. ``what_changed`` is
    the plain-language summary shown to people ("complaint today, NPS 2"), in ``lang``.
    ``customer_value`` is the customer's value as the retention app sees it, when known.
    """

    customer_id: str
    at: datetime
    old_score: float | None
    new_score: float
    old_band: str | None
    new_band: str
    events: tuple[Mapping[str, Any], ...] = ()
    what_changed: tuple[str, ...] = ()
    customer_value: float | None = None
    lang: str = "en"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rise(self) -> float:
        """How much the risk went up (0 for a new customer: nothing to compare with)."""
        return 0.0 if self.old_score is None else self.new_score - self.old_score

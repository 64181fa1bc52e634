"""Who hears about score changes: a list of plain callables, called off the ingest path.

``Bus.publish`` queues the ``ScoreChange`` records of one ingest and returns at once; one
background thread hands them to every subscriber in order. A subscriber that raises is logged
with its error class only (the record holds customer data; a message could too) and the next
one still runs, so a broken alert rule or webhook never blocks or fails an ingest.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence

from serving.live.change import ScoreChange

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[ScoreChange]], None]


class Bus:
    """Subscribers of score changes; see the module docstring."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._queue: queue.Queue[tuple[ScoreChange, ...] | threading.Event] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Subscriber:
        """Call ``subscriber(changes)`` after every ingest that changed a score."""
        with self._lock:
            self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def publish(self, changes: Sequence[ScoreChange]) -> None:
        """Queue one ingest's changes for the subscribers; never blocks, never raises."""
        if not changes:
            return
        with self._lock:
            if not self._subscribers:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="score-change-bus",
                                                daemon=True)
                self._thread.start()
        self._queue.put(tuple(changes))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued change was delivered (tests, shutdown); False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(done)  # set once everything queued before it was delivered
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            changes = self._queue.get()
            if isinstance(changes, threading.Event):
                changes.set()
                continue
            with self._lock:
                subscribers = list(self._subscribers)
            for subscriber in subscribers:
                try:
                    subscriber(changes)
                except Exception as err:  # a subscriber's failure must not reach ingestion
                    log.warning("a score-change subscriber (%s) failed: %s",
                                getattr(subscriber, "__name__", type(subscriber).__name__),
                                type(err).__name__)


__all__ = ["Bus", "Subscriber"]

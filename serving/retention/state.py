"""What the retention app keeps between requests: catalogue, outcome store, the at-risk book.

One ``RetentionState`` per app (``make_retention_app`` stores it on ``app.state.retention``;
routes get it through the ``get_state`` dependency) and one per CLI export. Its settings are a
``cxchurn.settings.Settings``: budget, objective, control-group share, events file, actions
file and outcome database; nothing here reads the environment.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from cxchurn import paths
from cxchurn.errors import CxChurnError, NotFoundError
from cxchurn.settings import Settings
from serving.alerts.desk import AlertDesk
from serving.alerts.rules import load_rules
from serving.retention.assignments import AssignmentStore
from serving.retention.at_risk import AtRiskBook, RowMarks, build_book
from serving.retention.catalogue import Catalogue, load_catalogue
from serving.retention.outcomes import Outcome, OutcomeStore, default_url
from serving.retention.policy import PolicyConfig, decision_frame
from serving.retention.sessions import SessionStore
from serving.retention.worklist import (
    CUSTOMER_FILES,
    ContactBook,
    read_contacts,
    recently_contacted,
    row_marks,
)
from serving.timing import as_of_date, timing

log = logging.getLogger(__name__)

EVENT_FILES = ("events.parquet", "events.csv")


class RetentionState:
    """Catalogue, outcome store and the cached at-risk book of the runtime's current state."""

    def __init__(self, runtime: Any, settings: Settings | None = None, *,
                 catalogue: Catalogue | None = None,
                 outcomes: OutcomeStore | None = None) -> None:
        self.runtime = runtime
        self.settings = settings if settings is not None else Settings.from_env()
        self.catalogue = catalogue or load_catalogue(self.settings.actions_file)
        self._outcomes = outcomes
        self.policy = PolicyConfig(budget=self.settings.retention_budget,
                                   objective=self.settings.policy_objective,
                                   holdout=self.settings.holdout_share)
        self._book: AtRiskBook | None = None
        self._book_key: tuple[str, int] | None = None  # the _version the book was built at
        self._book_built = 0.0
        self._sessions: SessionStore | None = None
        self.alert_rules = load_rules(self.settings.alert_rules)  # a bad file stops the start
        self._alerts: AlertDesk | None = None
        self._alerts_lock = threading.Lock()
        self._assignments: AssignmentStore | None = None
        self._contacts: tuple[tuple[str, float], ContactBook] | None = None
        self._search: tuple[tuple[str, str], dict[str, str]] | None = None
        self._lock = threading.Lock()

    @property
    def outcomes(self) -> OutcomeStore:
        if self._outcomes is None:  # opened lazily: the page loads even if the DB is slow
            self._outcomes = OutcomeStore(default_url(self.settings),
                                          max_cost=self.settings.max_action_cost)
        return self._outcomes

    @property
    def sessions(self) -> SessionStore:
        """Browser sign-in sessions, kept in the outcome database (shared by the workers)."""
        if self._sessions is None:
            self._sessions = SessionStore(self.outcomes.engine)
        return self._sessions

    @property
    def alerts(self) -> AlertDesk:
        """Alert rules, store (in the outcome database) and webhook worker, opened lazily;
        ``state.alerts.subscriber()`` is what the ingest side registers."""
        if self._alerts is None:
            with self._alerts_lock:
                if self._alerts is None:
                    self._alerts = AlertDesk.from_settings(self.settings, self.outcomes.engine,
                                                           self.alert_rules)
        return self._alerts

    @property
    def assignments(self) -> AssignmentStore:
        """Owner and status per customer, in the outcome database (survive restarts)."""
        if self._assignments is None:
            self._assignments = AssignmentStore(self.outcomes.engine)
        return self._assignments

    def contacts(self) -> ContactBook:
        """Contact details from the customers file behind the store (re-read when it
        changes); empty when the file or its contact columns are missing."""
        path = self._beside_store(CUSTOMER_FILES)
        stamp = (str(path), path.stat().st_mtime if path.is_file() else 0.0)
        cached = self._contacts
        if cached is not None and cached[0] == stamp:
            return cached[1]
        book = read_contacts(path, self.settings.contact_columns)
        self._contacts = (stamp, book)
        return book

    def marks(self, book: AtRiskBook) -> RowMarks:
        """Search texts and the recently contacted, for ``at_risk.filter_rows``."""
        contacts = self.contacts()
        days = self.settings.contacted_days
        contacted: frozenset[str] = frozenset()
        if days > 0:
            now = datetime.now(UTC)
            contacted = recently_contacted(
                self.outcomes.list(since=now - timedelta(days=days)),
                self.assignments.all(), now, days)
        key = (book.version, contacts.source + str(len(contacts.by_id)))
        cached = self._search
        if cached is None or cached[0] != key:
            marks = row_marks(contacts, book.table["customer_id"].tolist(), contacted)
            self._search = (key, dict(marks.search_text))
            return marks
        return RowMarks(search_text=cached[1], contacted=contacted)

    def _version(self) -> tuple[str, int]:
        """(model and store loaded, live revision): a book is rebuilt when the first changes,
        and after live updates when it is old enough (``_current``)."""
        meta = self.runtime.metadata()
        model = meta.get("model") or {}
        store = meta.get("online_store") or {}
        loaded = "|".join(str(x) for x in (model.get("model_version"), meta.get("loaded_at"),
                                           store.get("materialized_at")))
        return loaded, int(getattr(self.runtime, "live_revision", 0))

    def _current(self, book: AtRiskBook | None, version: tuple[str, int]) -> bool:
        """Whether ``book`` may still be served: same model and store, and either no live
        update since it was built or a book younger than ``live_refresh_seconds`` (a stream
        of events would otherwise re-explain the whole store on every page view)."""
        if book is None or self._book_key is None or self._book_key[0] != version[0]:
            return False
        return (self._book_key[1] == version[1]
                or time.monotonic() - self._book_built < self.settings.live_refresh_seconds)

    def book(self) -> AtRiskBook:
        """The at-risk book for the loaded model and store (rebuilt after a reload, and after
        live updates at most every ``live_refresh_seconds``)."""
        version = self._version()
        book = self._book
        if self._current(book, version):
            assert book is not None
            return book
        with self._lock:
            if self._current(self._book, version):
                assert self._book is not None
                return self._book
            features, scored, values = self.runtime.explained_store()
            book = build_book(
                features, scored["p_churn"].to_numpy(), scored["risk_band"].tolist(), values,
                list(self.runtime.fast_model().features), self.catalogue,
                version=f"{version[0]}|{version[1]}", policy_config=self.policy)
            book.timing = self._timing(features)
            self._book, self._book_key, self._book_built = book, version, time.monotonic()
            return book

    def _timing(self, features: pd.DataFrame) -> dict[str, dict[str, Any]]:
        """Horizons and act-by date per customer of the store (empty: no horizon model)."""
        ids = features["customer_id"].astype(str).tolist()
        found = self.runtime.horizons_of_ids(ids)
        if found is None:
            return {}
        rows = timing(found[1], found[0], self.runtime.bands[1],
                      as_of_date(self.runtime.store_cutoff()), len(ids))
        return dict(zip(ids, rows, strict=True))

    def weighed(self, book: AtRiskBook) -> pd.DataFrame:
        """The book's customers as the policy weighs them (``PolicyConfig.objective``)."""
        return decision_frame(book.customers, self.policy.objective)

    def record(self, customer_id: str, action_type: str, result: str, recorded_by: str,
               when: datetime, cost: float | None, note: str | None) -> Outcome:
        """Store an action taken for a listed customer (cost defaults to the catalogue's)."""
        book = self.book()
        if not (book.table["customer_id"] == customer_id).any():
            raise NotFoundError(f"customer {customer_id!r} is not in the online store; record "
                                f"outcomes for customers the service knows")
        if cost is None and action_type in self.catalogue.names():
            cost = self.catalogue.get(action_type).cost
        return self.outcomes.record(
            Outcome(customer_id=customer_id, action_type=action_type, action_time=when,
                    result=result, recorded_by=recorded_by, cost=cost, note=note),
            action_types=self.catalogue.names(), max_cost=self.settings.max_action_cost)

    def warm(self) -> threading.Thread:
        """Build the book in the background, so the first page view after a start or a reload
        does not wait for scoring and explaining every customer (seconds on a big store)."""

        def build() -> None:
            try:
                if self.settings.alert_webhook:
                    self.alerts  # noqa: B018 - starts the webhook worker: resume pending posts
            except CxChurnError as err:
                log.warning("alert webhook not started: %s", err)
            try:
                if self.runtime.ready:
                    self.book()
            except CxChurnError as err:  # the page's own request shows the error to the user
                log.warning("at-risk list not prebuilt: %s", err)

        thread = threading.Thread(target=build, name="at-risk-warm-up", daemon=True)
        thread.start()
        return thread

    def events_path(self) -> Path:
        """The events file behind the online store, for the customer timeline."""
        if self.settings.events_file is not None:
            return self.settings.events_file
        return self._beside_store(EVENT_FILES)

    def _beside_store(self, names: tuple[str, ...]) -> Path:
        """The first of ``names`` found where the online store came from, else in the
        home's world folder (the first name there when none exists)."""
        # The store records where it came from (a world folder or its customers file).
        source = ((self.runtime.metadata().get("online_store") or {}).get("source") or "")
        folders = [Path(source), Path(source).parent] if source else []
        folders.append(paths.world_dir(Path(self.runtime.home)))
        for folder in folders:
            for name in names:
                if (folder / name).is_file():
                    return folder / name
        return folders[-1] / names[0]

"""Live ingestion: posted events -> event store -> recomputed online rows -> new scores.

One ``LiveFeed`` per service worker, on the worker's ``ServingRuntime``. An ingest:

1. checks the events by the data contract (``serving/live/validate.py``); bad ones get their
   own error, the rest go on;
2. appends them to the event store and commits (``serving/live/event_store.py``): from here
   they are acknowledged, and a retry of the same events stores nothing twice;
3. recomputes the affected customers' rows from the declared specs over their history and
   stored events (``serving/live/compute.py``: NumPy, checked against the batch compiler;
   history as ``serving/live/sources.py`` says), at the live cutoff, for the whole request;
4. keeps the rows in the event store's database and swaps them into the runtime's store;
5. answers old and new score, band, top drivers and what changed in words, and hands the
   ``ScoreChange`` records to the subscribers (``serving/live/bus.py``) without waiting.

Workers: each keeps its own copy of the store in memory. After step 4 a worker touches a stamp
file in the home; every worker checks it (one ``stat``) when a request reads the runtime and
pulls the rows others kept since (``follow``). A worker starting re-applies every kept row
before it answers as ready (``attach``, no history needed) and, once the history is loaded,
recomputes customers whose stored events are newer than their kept row (a crash between steps
2 and 4), so an acknowledged event is never lost from the features either.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxchurn.errors import CxChurnError
from cxchurn.settings import Settings
from features.btyd_features import FIT_LAG_DAYS
from features.contract import KnownCustomers
from features.default_specs import DEFAULT_SPECS
from features.schema import CUSTOMER_ID, EVENT_COLUMNS
from features.spec import FeatureSpec, spec_version
from serving.api.online_store import OnlineStore
from serving.api.runtime import ServingRuntime, explain_matrix
from serving.live import words
from serving.live.bus import Bus
from serving.live.change import ScoreChange
from serving.live.compute import LiveFeatures
from serving.live.event_store import EventStore
from serving.live.population import LoadPurchases
from serving.live.sources import History, find_history, load_history
from serving.live.validate import check_posted
from serving.retention.value import customer_value
from serving.stamp import read_stamp, write_stamp
from training.bands import risk_band

log = logging.getLogger(__name__)

STAMP = ".live-rows"  # in the home: touched whenever a worker kept new live rows
RECOMPUTE_CHUNK = 500  # customers per query when rows are rebuilt without a request
FOLLOW_MARGIN_US = 5_000_000  # re-read rows kept this long before the last one seen
TOP_K = 3


class LiveUnavailableError(CxChurnError):
    """Live ingestion cannot run (no model, store or history); the message says why."""

    http_status = 503


class TooManyEventsError(CxChurnError):
    """One request carries more events than ``CXCHURN_MAX_EVENTS``."""

    http_status = 413


class LiveFeed:
    """See the module docstring. ``start`` loads the history once (seconds on big files)."""

    def __init__(self, runtime: ServingRuntime, settings: Settings, *,
                 store: EventStore | None = None, specs: Sequence[FeatureSpec] = DEFAULT_SPECS,
                 bus: Bus | None = None) -> None:
        self.runtime, self.settings = runtime, settings
        self.specs = tuple(specs)
        self.bus = bus or Bus()
        self._store = store
        self._features: LiveFeatures | None = None
        self._customers: KnownCustomers | None = None  # as posted events are checked
        self._history: History | None = None
        self._start_lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._follow_lock = threading.Lock()
        self._applied: dict[str, int] = {}  # customer -> updated_us of the row applied here
        self._seen_us = 0
        self._stamp_seen: int | None = None

    # ------------------------------------------------------------------ start
    @property
    def store(self) -> EventStore:
        if self._store is None:
            self._store = EventStore.from_settings(self.settings)
        return self._store

    @property
    def started(self) -> bool:
        return self._features is not None

    @property
    def history(self) -> History:
        if self._history is None:
            raise LiveUnavailableError("live ingestion has not started")
        return self._history

    def attach(self) -> None:
        """Serve the rows live ingestion kept and follow other workers' from now on.

        Fast (no history is read), so a worker does it before it answers as ready: a worker
        that started after another had ingested never serves the materialised score of a
        customer whose live row is kept. Raises ``LiveUnavailableError`` when the online store
        cannot take live rows.
        """
        if self.runtime.live is self:
            return
        self._check_store()
        with self._follow_lock:  # a follow waits for these rows instead of racing them
            if self.runtime.live is self:
                return
            self._stamp_seen = read_stamp(self._stamp_path)  # before the read: none is missed
            current = self.runtime.store_now()
            if current is not None:
                self.runtime.patch_store(*self.stored_rows(current))
            self.runtime.live = self

    def _check_store(self) -> dict[str, Any]:
        meta = self.runtime.store_meta()
        if not meta:
            raise LiveUnavailableError(
                "live ingestion needs the online store: run `cxchurn online materialize`, "
                "then POST /reload")
        version = meta.get("spec_version")
        if version and version != spec_version(self.specs):
            raise LiveUnavailableError(
                f"the online store was built with feature spec {version}, the live path "
                f"computes spec {spec_version(self.specs)}; re-run `cxchurn online "
                "materialize` with the built-in spec")
        return meta

    def start(self) -> None:
        """Attach, load the history, catch up stale customers (idempotent; seconds on big
        files, so a service does it in the background and an ingest meanwhile waits)."""
        if self._features is not None:
            return
        with self._start_lock:
            if self._features is not None:
                return
            self.attach()
            try:
                history = find_history(self._check_store(), self.settings)
            except CxChurnError as err:
                raise LiveUnavailableError(str(err)) from err
            customers, events = load_history(history, Path(self.settings.home) / "live"
                                             / "quarantine")
            self._customers, self._history = KnownCustomers.of(customers), history
            self._features = LiveFeatures(customers, events, history.store_cutoff, self.specs,
                                          history.label_kind)
            stale = sorted(self.store.stale_customers())
            if stale:
                with self._build_lock:
                    self._rebuild(stale, self.live_cutoff())
            log.info("live ingestion ready: %d customers in the history, %d recomputed on "
                     "start", len(customers), len(stale))

    # ------------------------------------------------------------------ kept rows
    def _rows_frame(self, records: Sequence[Mapping[str, Any]], like: OnlineStore
                    ) -> tuple[pd.DataFrame, list[str]]:
        """Kept rows as the store's columns and dtypes, and the ids kept as removed."""
        removed = [str(r["customer_id"]) for r in records if r["removed"]]
        rows = [json.loads(r["features"]) for r in records if not r["removed"]]
        frame = pd.DataFrame(rows, columns=list(like.table.columns))
        for column, dtype in like.table.dtypes.items():
            if isinstance(dtype, pd.DatetimeTZDtype):
                frame[column] = pd.to_datetime(frame[column], utc=True).astype(dtype)
            else:
                frame[column] = frame[column].astype(dtype)
        for r in records:
            self._applied[str(r["customer_id"])] = int(r["updated_us"])
            self._seen_us = max(self._seen_us, int(r["updated_us"]))
        return frame, removed

    def stored_rows(self, like: OnlineStore) -> tuple[pd.DataFrame, list[str]]:
        """Every kept live row (a freshly loaded store gets them all again)."""
        self._applied.clear()
        return self._rows_frame(self.store.rows_since(0), like)

    @property
    def _stamp_path(self) -> Path:
        return Path(self.runtime.home) / STAMP

    def follow(self) -> None:
        """Apply rows other workers kept since the last look (cheap when nothing changed)."""
        seen = read_stamp(self._stamp_path)
        if seen == self._stamp_seen or not self._follow_lock.acquire(blocking=False):
            return
        try:
            self._stamp_seen = seen
            current = self.runtime.store_now()
            if current is None:
                return
            records = [r for r in self.store.rows_since(self._seen_us - FOLLOW_MARGIN_US)
                       if int(r["updated_us"]) > self._applied.get(str(r["customer_id"]), -1)]
            if records:
                self.runtime.patch_store(*self._rows_frame(records, current))
        except CxChurnError as err:  # the database is away: serve what is in memory
            log.warning("could not follow other workers' live rows: %s", type(err).__name__)
        finally:
            self._follow_lock.release()

    # ------------------------------------------------------------------ ingest
    def live_cutoff(self) -> pd.Timestamp:
        """Midnight after the newest event (history or stored), never before the store's."""
        cutoff = self.history.store_cutoff
        newest = self.store.newest_event_time()
        if newest is not None:
            cutoff = max(cutoff, (newest.floor("D") + pd.Timedelta(days=1)).as_unit("us"))
        return cutoff

    def ingest(self, items: Sequence[Mapping[str, Any]], lang: str = "en") -> dict[str, Any]:
        """Check, store, recompute and score; the ``POST /events`` answer as plain data."""
        if len(items) > self.settings.max_events:
            raise TooManyEventsError(
                f"this request carries {len(items)} events; the limit is "
                f"{self.settings.max_events} per request (CXCHURN_MAX_EVENTS): split it")
        self.runtime.require_model()
        self.start()
        assert self._customers is not None  # set by start
        checked = check_posted(items, self._customers)
        accepted = checked.accepted
        with self._build_lock:
            fresh = np.array(self.store.append(accepted), dtype=bool)
            new_events = accepted.loc[fresh]
            affected = sorted(set(new_events[CUSTOMER_ID].astype(str)))
            updates = (self._recompute(affected, _by_customer(new_events), lang)
                       if affected else [])
        results = [{"index": int(i), "event_id": e, "customer_id": c,
                    "status": "stored" if f else "duplicate"}
                   for i, e, c, f in zip(accepted["index"], accepted["event_id"],
                                         accepted[CUSTOMER_ID], fresh, strict=True)]
        log.info("ingested %d events (%d duplicates, %d rejected), %d customers updated",
                 int(fresh.sum()), int((~fresh).sum()), len(checked.errors), len(updates))
        return {"stored": int(fresh.sum()), "duplicates": int((~fresh).sum()),
                "rejected": len(checked.errors), "events": results, "errors": checked.errors,
                "customers": updates}

    def _recompute(self, ids: list[str], new_events: Mapping[str, list[dict[str, Any]]],
                   lang: str) -> list[dict[str, Any]]:
        """Rebuild, keep and swap in the customers' rows; their answers (build lock held)."""
        assert self._features is not None
        self.follow()  # other workers' rows first: the old scores are the served ones
        cutoff = self.live_cutoff()
        live = self.store.events(ids)
        rows, ineligible = self._features.build(ids, live[list(EVENT_COLUMNS)], cutoff,
                                                self._purchases())
        late = self._features.population.earliest_new
        before = self._before(ids)
        matrix = self._keep(rows, ineligible, live, ids, cutoff)
        if late is not None and late + pd.Timedelta(days=FIT_LAG_DAYS) < cutoff:
            # kept rows can be that late; those at this cutoff only if the fit changed
            self._refit_others(set(ids), late, cutoff, self._features.fit_kept(cutoff))
        answers, changes = self._answers(rows, matrix, ineligible, before, new_events, cutoff,
                                         lang)
        self.bus.publish(changes)
        return answers

    def _purchases(self) -> LoadPurchases | None:
        """How the BG/NBD population reads the stored live purchases (None: no BG/NBD specs)."""
        assert self._features is not None
        types = self._features.purchase_types

        def load(after_seq: int | None, customer_ids: Sequence[str] | None) -> pd.DataFrame:
            since = None if after_seq is None else after_seq - self.store.commit_margin
            return self.store.events(customer_ids, types, after_seq=since)

        return load if types else None

    def _rebuild(self, ids: Sequence[str], cutoff: pd.Timestamp) -> None:
        """Rebuild and keep these customers' rows at ``cutoff``, in chunks, without answers
        (a restart catching up, rows a late purchase reached; build lock held)."""
        assert self._features is not None
        for i in range(0, len(ids), RECOMPUTE_CHUNK):
            chunk = list(ids[i:i + RECOMPUTE_CHUNK])
            live = self.store.events(chunk)
            rows, ineligible = self._features.build(chunk, live[list(EVENT_COLUMNS)], cutoff,
                                                    self._purchases())
            self._keep(rows, ineligible, live, chunk, cutoff)

    def _keep(self, rows: pd.DataFrame, ineligible: Sequence[str], live: pd.DataFrame,
              ids: Sequence[str], cutoff: pd.Timestamp) -> np.ndarray | None:
        """Save the rows in the event store's database and swap them into the runtime."""
        through = {str(c): int(s) for c, s in live.groupby(CUSTOMER_ID)["seq"].max().items()}
        matrix = self.runtime.fast_model().matrix(rows) if len(rows) else None
        with self._follow_lock:  # a follow in flight cannot put an older row over these
            updated_us = self.store.save_rows(rows, ineligible, through, cutoff)
            self.runtime.patch_store(rows, ineligible, matrix)
            for c in ids:
                self._applied[c] = updated_us
            self._touch()
        return matrix

    def _refit_others(self, done: set[str], late: pd.Timestamp, cutoff: pd.Timestamp,
                      fit_kept: bool) -> None:
        """A purchase from ``late`` just arrived: every row kept at a cutoff over a day after
        it had a BG/NBD population fit without it, which a batch build over the same events
        would not, so those rows are rebuilt too (at ``cutoff``). Rare: events that arrive in
        time order are never that late. Rows kept at ``cutoff`` itself stay when the fit
        there did not change (``fit_kept``: the late buyer is outside the sample a large
        population is fitted on). Rows materialised at the store's cutoff keep theirs until
        the next ``cxchurn online materialize``."""
        kept = self.store.kept_after(late + pd.Timedelta(days=FIT_LAG_DAYS))
        others = sorted(c for c, at in kept.items()
                        if c not in done and not (fit_kept and at == cutoff))
        self._rebuild(others, cutoff)
        if others or kept:
            log.info("a purchase from %s reached the BG/NBD fit of %d kept rows: %d rebuilt "
                     "at %s", late.date(), len(kept), len(others), cutoff.date())

    def _touch(self) -> None:
        try:
            self._stamp_seen = write_stamp(self._stamp_path)
        except OSError as err:  # a read-only home: other workers catch up on their reload
            log.warning("could not tell other workers about live rows: %s", type(err).__name__)

    def _before(self, ids: Sequence[str]) -> dict[str, tuple[float, str, np.ndarray]]:
        """(served P(churn), band, model matrix row) of the customers the store holds now."""
        known, p, bands, matrix = self.runtime.store_scores(ids)
        return {c: (float(p[i]), bands[i], matrix[i]) for i, c in enumerate(known)}

    def _answers(self, rows: pd.DataFrame, matrix: np.ndarray | None,
                 ineligible: Sequence[str],
                 before: Mapping[str, tuple[float, str, np.ndarray]],
                 new_events: Mapping[str, list[dict[str, Any]]], cutoff: pd.Timestamp,
                 lang: str) -> tuple[list[dict[str, Any]], list[ScoreChange]]:
        answers: list[dict[str, Any]] = []
        changes: list[ScoreChange] = []
        now = datetime.now(tz=UTC)
        if len(rows) and matrix is not None:
            fast = self.runtime.fast_model()
            olds = [c for c in rows[CUSTOMER_ID].astype(str) if c in before]
            # one TreeSHAP call for the new rows and the same customers' previous rows
            stacked = np.vstack([matrix, *[before[c][2][None, :] for c in olds]])
            shap, base = fast.shap_values(stacked)
            old_shap = {c: shap[len(rows) + k] for k, c in enumerate(olds)}
            p, _, drivers = explain_matrix(fast, matrix, rows, TOP_K, lang,
                                           shap=(shap[:len(rows)], base))
            bands = risk_band(p, self.runtime.bands)
            values = _values(rows)
            for i, cid in enumerate(rows[CUSTOMER_ID].astype(str)):
                old = before.get(cid)
                events = new_events.get(cid, [])
                phrases = words.event_phrases(events, cutoff, lang)
                rising = old is None or p[i] >= old[0]
                what = phrases + words.moved_drivers(old_shap.get(cid), shap[i],
                                                     fast.features, drivers[i], rising)
                answers.append({
                    "customer_id": cid, "status": "updated", "cutoff": cutoff.isoformat(),
                    "old_p_churn": None if old is None else old[0], "new_p_churn": float(p[i]),
                    "old_risk_band": None if old is None else old[1], "new_risk_band": bands[i],
                    "new_events": len(events),
                    "summary": words.summary(None if old is None else old[0], float(p[i]),
                                             phrases, lang),
                    "what_changed": what, "drivers": drivers[i]})
                changes.append(ScoreChange(
                    customer_id=cid, at=now, old_score=None if old is None else old[0],
                    new_score=float(p[i]), old_band=None if old is None else old[1],
                    new_band=bands[i], events=tuple(events), what_changed=tuple(what),
                    customer_value=values.get(cid), lang=lang,
                    extra={"cutoff": cutoff.isoformat()}))
        for cid in ineligible:
            old = before.get(cid)
            phrases = words.event_phrases(new_events.get(cid, []), cutoff, lang)
            answers.append({
                "customer_id": cid, "status": "not_eligible", "cutoff": cutoff.isoformat(),
                "old_p_churn": None if old is None else old[0], "new_p_churn": None,
                "old_risk_band": None if old is None else old[1], "new_risk_band": None,
                "new_events": len(new_events.get(cid, [])),
                "summary": words.gone(phrases, cutoff, lang), "what_changed": phrases,
                "drivers": []})
        return answers, changes


def _by_customer(events: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """The new contract rows per customer, in time order (what ``ScoreChange.events`` holds)."""
    out: dict[str, list[dict[str, Any]]] = {}
    ordered = events.sort_values("event_time", kind="stable")
    for row in ordered[list(EVENT_COLUMNS)].to_dict(orient="records"):
        clean = {k: (None if isinstance(v, float) and np.isnan(v) else v)
                 for k, v in row.items()}
        out.setdefault(str(row[CUSTOMER_ID]), []).append(clean)
    return out


def _values(rows: pd.DataFrame) -> dict[str, float]:
    """Customer value as the retention list computes it, when the rows have its inputs."""
    try:
        value = customer_value(rows)
    except CxChurnError:
        return {}
    return {str(c): float(v) for c, v in zip(rows[CUSTOMER_ID], value, strict=True)
            if np.isfinite(v)}


__all__ = ["LiveFeed", "LiveUnavailableError", "TooManyEventsError"]

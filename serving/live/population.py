"""The live path's two ways of reading the history without scanning all of it per update.

``HistoryIndex``: the store's history (every customer's events before its cutoff) as one Arrow
table sorted by customer, with each customer's row range, so that a live update takes the
affected customers' events as slices instead of joining the whole history (which grew with
the history: ~25 ms a request at 5,000 customers).

``PopulationSummaries``: every buyer's BG/NBD summary (x, t_x, age) as the population fit at the
live cutoff reads it (``FIT_LAG_DAYS`` before the cutoff), history plus stored live purchases:
what a batch build over all events fits BG/NBD on. It is computed in full once per cutoff;
after that only customers with new live purchases before the fit's instant get their summary
recomputed (a summary is per customer, so the others cannot change; purchases of the cutoff's
own day never reach the fit), and the fit cache is told who changed
(``features.btyd_features.FitCache``). The stored live purchases are read the same way: all of
them once per cutoff, then only those stored since (``LoadPurchases``), so an ingest does not
read every purchase the stream ever brought.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features import schema
from features.btyd_features import FIT_LAG_DAYS, summary_sql

PART = "cx_population_part"  # a few buyers' purchases, history + live
AT = "cx_population_cutoff"  # the cutoff the summaries are at (the summary SQL's cutoffs)


class HistoryIndex:
    """See the module docstring. ``table`` must be sorted by customer id."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        ids = table.column(schema.CUSTOMER_ID).to_numpy(zero_copy_only=False)
        starts = (np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids)
                  else np.zeros(0, dtype=np.int64))
        ends = (np.r_[starts[1:], len(ids)] if len(starts) else starts).astype(np.int64)
        self._ranges = {str(ids[s]): (int(s), int(e)) for s, e in zip(starts, ends, strict=True)}

    def customers(self) -> list[str]:
        """Who has history."""
        return list(self._ranges)

    def positions(self, customer_ids: Sequence[str]) -> np.ndarray:
        """Row positions of these customers' history rows in ``table``."""
        spans = [self._ranges[c] for c in customer_ids if c in self._ranges]
        if not spans:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(s, e) for s, e in spans])

    def rows(self, customer_ids: Sequence[str], event_types: Sequence[str] | None = None
             ) -> pa.Table:
        """These customers' history rows (of ``event_types`` when given)."""
        positions = self.positions(customer_ids)
        if not len(positions):
            return self.table.slice(0, 0)
        taken = self.table.take(positions)
        if event_types is not None:
            taken = taken.filter(pc.is_in(taken.column("event_type"),
                                          value_set=pa.array(list(event_types), pa.string())))
        return taken

    def count(self, customer_id: str) -> int:
        start, end = self._ranges.get(customer_id, (0, 0))
        return end - start


LoadPurchases = Callable[[int | None, Sequence[str] | None], pd.DataFrame]
"""(after_seq, customer_ids) -> stored live purchases (``seq`` + contract columns): all of
them for (None, None), or all of some customers', or at least those with a greater ``seq``
(the store may give some before it too, as ``EventStore.commit_margin`` says; ``update``
skips the ones it has seen)."""


class PopulationSummaries:
    """See the module docstring. ``population``: the view of history + ``live_table`` (the
    stored live purchases, which ``update`` refills) in ``con``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, history: HistoryIndex,
                 population: str, live_table: str, purchase_types: Sequence[str]) -> None:
        self.con, self.history = con, history
        self.population, self.live_table = population, live_table
        self.purchase_types = list(purchase_types)
        self._cutoff: pd.Timestamp | None = None
        self._frames: dict[str, pd.DataFrame] = {}
        self._seen: set[int] = set()
        self._newest = 0
        # the oldest purchase time among those the last update saw first (None: none new):
        # a kept row whose cutoff is over a day later had a fit without it
        self.earliest_new: pd.Timestamp | None = None
        self.changed: dict[str, list[str]] | None = None  # None: all may have changed
        con.execute(f"CREATE TABLE {PART} AS SELECT * FROM {population} LIMIT 0")
        con.execute(f"CREATE TABLE {AT} (cutoff TIMESTAMPTZ)")

    def update(self, cutoff: pd.Timestamp, load: LoadPurchases) -> None:
        """Bring the summaries to ``cutoff`` and every stored live purchase (as a batch build
        over all events sees them), reading only what is new since the last update."""
        if cutoff != self._cutoff:
            everything = load(None, None)
            seqs = everything["seq"].astype("int64").to_numpy()
            self._note_earliest(everything, self._unseen(seqs))
            self.con.execute(f"DELETE FROM {AT}")
            self.con.execute(f"INSERT INTO {AT} VALUES (?)", [cutoff.to_pydatetime()])
            self._fill(self.live_table, everything)
            self._frames = {t: self._summary(self.population, t) for t in self.purchase_types}
            self._cutoff, self.changed = cutoff, None
            self._remember(seqs)
            return
        recent = load(self._newest, None)
        if not len(recent):  # the common case: nothing stored since (no frame work)
            self.earliest_new, self.changed = None, {t: [] for t in self.purchase_types}
            return
        seqs = recent["seq"].astype("int64").to_numpy()
        new = self._unseen(seqs)
        self._note_earliest(recent, new)
        fit_at = cutoff - pd.Timedelta(days=FIT_LAG_DAYS)
        early = new & (pd.to_datetime(recent["event_time"], utc=True) < fit_at).to_numpy()
        who = sorted(set(recent.loc[early, schema.CUSTOMER_ID].astype(str)))
        self._remember(seqs[new])
        self.changed = {t: who for t in self.purchase_types}
        if not who:
            return
        self._fill(PART, load(None, who))
        self.con.from_arrow(self.history.rows(who, self.purchase_types)).insert_into(PART)
        for event_type in self.purchase_types:
            part = self._summary(PART, event_type)
            kept = self._frames[event_type]
            kept = kept[~kept[schema.CUSTOMER_ID].astype(str).isin(who)]
            self._frames[event_type] = pd.concat([kept, part], ignore_index=True)

    def _unseen(self, seqs: np.ndarray) -> np.ndarray:
        return np.array([int(q) not in self._seen for q in seqs], dtype=bool)

    def _note_earliest(self, purchases: pd.DataFrame, new: np.ndarray) -> None:
        times = pd.to_datetime(purchases.loc[new, "event_time"], utc=True)
        self.earliest_new = None if times.empty else pd.Timestamp(times.min())

    def _remember(self, seqs: np.ndarray) -> None:
        self._seen.update(int(q) for q in seqs)
        if len(seqs):
            self._newest = max(self._newest, int(seqs.max()))

    def summaries(self, event_type: str, lag_days: int = FIT_LAG_DAYS) -> pd.DataFrame:
        if lag_days != FIT_LAG_DAYS:
            raise ValueError(f"the population is kept at the fit's lag ({FIT_LAG_DAYS} days)")
        return self._frames[event_type]

    def _summary(self, table: str, event_type: str) -> pd.DataFrame:
        return self.con.sql(summary_sql(table, AT, FIT_LAG_DAYS),
                            params={"btyd_type": event_type}).df()

    def _fill(self, table: str, events: pd.DataFrame) -> None:
        self.con.execute(f"DELETE FROM {table}")
        if len(events):
            self.con.from_arrow(pa.Table.from_pandas(events[list(schema.EVENT_COLUMNS)],
                                                     preserve_index=False)).insert_into(table)

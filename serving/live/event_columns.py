"""Events of a few customers as the columns ``features.evaluate`` reads, fast.

The history (millions of events) is held once as compact columns in the history index's row
order: times in microseconds, event types and channels as codes into a small vocabulary
(decoded only for the customers a build reads), values as floats, and each text signal. Live
events come from the event store as a frame. Text signals are computed by DuckDB's LOWER and
REGEXP_MATCHES, exactly as the compiled query computes them (Python lower-cases the Turkish
dotted capital I differently): once per distinct history text, and per new live text, kept.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features import schema
from features.evaluate import NAT_US, Events
from features.text_signals import matches_sql, pattern
from serving.live.population import HistoryIndex

VALUES = ("amount", "score", "duration")
TEXT_CACHE = 200_000  # distinct live feedback texts whose signals are kept


class EventColumns:
    """See the module docstring. ``con`` runs the text signals; ``signals`` are the spec
    set's text signals."""

    def __init__(self, history: HistoryIndex, con: duckdb.DuckDBPyConnection,
                 signals: list[str]) -> None:
        self.index, self.con, self.signals = history, con, signals
        self._text_signals: dict[str, tuple[bool, ...]] = {}
        self._vocabularies: dict[str, np.ndarray] = {}
        self._history = self._history_arrays(history.table)

    def events(self, ids: list[str], live_events: pd.DataFrame) -> Events:
        """History and live events of ``ids`` as columns, ``customer`` = position in ids."""
        parts = [self._history_part(ids)]
        if len(live_events):
            parts.append(self._live_part(ids, live_events))
        merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        return Events(merged["customer"], merged["time_us"], merged["event_type"],
                      merged["channel"], {v: merged[v] for v in VALUES},
                      {g: merged["sig_" + g] for g in self.signals})

    def _history_part(self, ids: list[str]) -> dict[str, np.ndarray]:
        take = self.index.positions(ids)
        columns = {k: v[take] for k, v in self._history.items()}
        for name, vocabulary in self._vocabularies.items():
            columns[name] = vocabulary[columns[name]]
        columns["customer"] = np.repeat(np.arange(len(ids)),
                                        [self.index.count(c) for c in ids])
        return columns

    def _history_arrays(self, table: pa.Table) -> dict[str, np.ndarray]:
        """The history as compact columns, in the table's row order: times in microseconds,
        event types and channels as codes into ``_vocabularies`` (millions of events would
        otherwise be millions of Python strings), values, and each text signal."""
        columns: dict[str, np.ndarray] = {"time_us": pc.cast(
            pc.cast(table.column("event_time"), pa.timestamp("us", tz="UTC")), pa.int64()
        ).to_numpy(zero_copy_only=False).astype(np.int64)}
        for name in ("event_type", "channel"):
            encoded = table.column(name).combine_chunks().dictionary_encode()
            vocabulary = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)
            codes = encoded.indices.fill_null(len(vocabulary) - 1)
            columns[name] = codes.to_numpy(zero_copy_only=False).astype(np.int32)
            self._vocabularies[name] = vocabulary
        for name in VALUES:
            columns[name] = pc.cast(table.column(name), pa.float64()).to_numpy(
                zero_copy_only=False).astype(np.float64)
        if self.signals:
            texts = table.column("text")
            distinct = pc.drop_null(pc.unique(texts))
            flags = np.vstack([self._text_flags(distinct.to_pylist()),
                               np.zeros((1, len(self.signals)), dtype=bool)])
            at = pc.index_in(texts, value_set=distinct).fill_null(len(distinct))
            rows = flags[at.to_numpy(zero_copy_only=False).astype(np.int64)]
            columns.update({f"sig_{g}": rows[:, i] for i, g in enumerate(self.signals)})
        return columns

    def _live_part(self, ids: list[str], live: pd.DataFrame) -> dict[str, np.ndarray]:
        lookup = {c: i for i, c in enumerate(ids)}
        customer = np.array([lookup.get(str(c), -1) for c in live[schema.CUSTOMER_ID]],
                            dtype=np.int64)
        keep = customer >= 0
        live = live.loc[keep]
        columns = {name: live[name].to_numpy(object) for name in ("event_type", "channel")}
        columns["customer"] = customer[keep]
        columns["time_us"] = micros_of(live["event_time"])
        for name in VALUES:
            columns[name] = live[name].to_numpy(np.float64, na_value=np.nan)
        if self.signals:
            texts = live["text"].tolist()
            new = sorted({t for t in texts if isinstance(t, str)} - set(self._text_signals))
            if new:
                if len(self._text_signals) > TEXT_CACHE:
                    self._text_signals.clear()
                self._text_signals.update(zip(new, map(tuple, self._text_flags(new)),
                                              strict=True))
            none = (False,) * len(self.signals)
            flags = np.array([self._text_signals[t] if isinstance(t, str) else none
                              for t in texts], dtype=bool).reshape(len(texts), -1)
            columns.update({f"sig_{g}": flags[:, i] for i, g in enumerate(self.signals)})
        return columns

    def _text_flags(self, texts: list[str]) -> np.ndarray:
        """(text, signal) flags as DuckDB's LOWER and REGEXP_MATCHES give them in the compiled
        query (Python lower-cases the Turkish dotted capital I differently)."""
        if not texts:
            return np.zeros((0, len(self.signals)), dtype=bool)
        tests = ", ".join(f"{matches_sql('?')} AS sig_{g}" for g in self.signals)
        frame = pa.table({"i": pa.array(range(len(texts)), pa.int64()),
                          "text": pa.array(texts, pa.string())})
        self.con.register("cx_texts", frame)
        try:
            found = self.con.execute(f"SELECT i, {tests} FROM cx_texts ORDER BY i",
                                     [pattern(g) for g in self.signals]).fetchnumpy()
        finally:
            self.con.unregister("cx_texts")
        return np.column_stack([found[f"sig_{g}"].astype(bool) for g in self.signals])


def micros_of(times: pd.Series) -> np.ndarray:
    """UTC instants as microseconds since the epoch (``NAT_US`` for unknown)."""
    stamps = pd.DatetimeIndex(pd.to_datetime(times, utc=True)).as_unit("us")
    return np.where(stamps.isna(), NAT_US, stamps.asi8).astype(np.int64)


__all__ = ["EventColumns", "micros_of"]

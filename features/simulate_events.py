"""Collecting simulated events as arrays and turning them into contract-shaped tables.

The daily loop appends small integer/float arrays per event type; channels and text are
resolved once per block at the end (vectorised), then the block becomes either a pandas frame
(in-memory API) or a pyarrow table (streamed to Parquet for large worlds).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

from features import feedback_text
from features.schema import CHANNELS, EVENT_COLUMNS, EVENT_TYPES
from features.simulate_population import customer_ids

EVENT_CODES: Final = {name: code for code, name in enumerate(EVENT_TYPES)}
_TYPE_NAMES: Final = np.array(list(EVENT_TYPES), dtype=object)
_CHANNEL_NAMES: Final = np.array(CHANNELS, dtype=object)

# Channels each event type can happen in, with base weights (CHANNELS order:
# web, app, store, call_centre, email, chat). The customer's preferred channel gets
# PREFERRED_BOOST times its weight when the event type can happen there.
CHANNEL_WEIGHTS: Final[dict[str, tuple[float, ...]]] = {
    "order": (0.45, 0.40, 0.15, 0.0, 0.0, 0.0),
    "delivery": (0.45, 0.40, 0.15, 0.0, 0.0, 0.0),
    "return": (0.40, 0.30, 0.30, 0.0, 0.0, 0.0),
    "support_ticket": (0.10, 0.10, 0.10, 0.35, 0.15, 0.20),
    "ticket_reopened": (0.10, 0.10, 0.05, 0.40, 0.15, 0.20),
    "complaint": (0.10, 0.05, 0.10, 0.40, 0.25, 0.10),
    "survey_nps": (0.30, 0.30, 0.0, 0.0, 0.40, 0.0),
    "survey_csat": (0.25, 0.25, 0.0, 0.0, 0.35, 0.15),
    "survey_ces": (0.25, 0.25, 0.0, 0.0, 0.35, 0.15),
    "session": (0.50, 0.50, 0.0, 0.0, 0.0, 0.0),
    "email_open": (0.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    "price_change": (0.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    "payment_failed": (0.60, 0.40, 0.0, 0.0, 0.0, 0.0),
    "feedback": (0.25, 0.30, 0.10, 0.0, 0.15, 0.20),
    "cancellation": (0.30, 0.10, 0.15, 0.35, 0.0, 0.10),
}
PREFERRED_BOOST: Final = 4.0


def _channel_cdf() -> np.ndarray:
    """Cumulative channel probabilities, shape (event type, preferred channel, channel)."""
    cdf = np.zeros((len(EVENT_TYPES), len(CHANNELS), len(CHANNELS)))
    for t, name in enumerate(EVENT_TYPES):
        base = np.asarray(CHANNEL_WEIGHTS[name], dtype=float)
        for pref in range(len(CHANNELS)):
            w = base.copy()
            w[pref] *= PREFERRED_BOOST
            cdf[t, pref] = np.cumsum(w / w.sum())
    return cdf


class EventBuffer:
    """Append-only columns of one block's events; ``finish`` orders and cleans them."""

    _FIELDS = ("cust", "time", "type", "amount", "score", "duration", "text")

    def __init__(self) -> None:
        self._parts: dict[str, list[np.ndarray]] = {f: [] for f in self._FIELDS}

    def add(
        self,
        event_type: str,
        cust: np.ndarray,
        time_us: np.ndarray,
        amount: np.ndarray | None = None,
        score: np.ndarray | None = None,
        duration: np.ndarray | None = None,
        text: np.ndarray | None = None,
    ) -> None:
        n = len(cust)
        if n == 0:
            return
        nan = np.full(n, np.nan)
        p = self._parts
        p["cust"].append(np.asarray(cust, dtype=np.int64))
        p["time"].append(np.asarray(time_us, dtype=np.int64))
        p["type"].append(np.full(n, EVENT_CODES[event_type], dtype=np.int8))
        p["amount"].append(nan if amount is None else np.asarray(amount, dtype=np.float64))
        p["score"].append(nan if score is None else np.asarray(score, dtype=np.float64))
        p["duration"].append(nan if duration is None else np.asarray(duration, dtype=np.float64))
        p["text"].append(
            np.full(n, -1, dtype=np.int64) if text is None else np.asarray(text, dtype=np.int64)
        )

    def finish(
        self, rng: np.random.Generator, preferred: np.ndarray, cancel_us: np.ndarray, end_us: int
    ) -> dict[str, np.ndarray]:
        """Drop events at/after the end or after the customer's cancellation; sort; channels.

        Events scheduled before a cancellation but falling after it (a delivery under way)
        are dropped: a cancelled customer has no further events.
        """
        if not self._parts["cust"]:
            cols = {f: np.zeros(0, dtype=np.int64) for f in self._FIELDS}
            cols["channel"] = np.zeros(0, dtype=np.int8)
            return cols
        cols = {f: np.concatenate(v) for f, v in self._parts.items()}
        keep = (cols["time"] < end_us) & (cols["time"] <= cancel_us[cols["cust"]])
        cols = {f: v[keep] for f, v in cols.items()}
        order = np.lexsort((cols["type"], cols["time"], cols["cust"]))
        cols = {f: v[order] for f, v in cols.items()}
        cdf = _channel_cdf()[cols["type"], preferred[cols["cust"]]]
        u = rng.random(len(cols["cust"]))
        cols["channel"] = np.minimum((u[:, None] > cdf).sum(axis=1), len(CHANNELS) - 1).astype(
            np.int8
        )
        return cols


def events_table(cols: dict[str, np.ndarray], index: np.ndarray) -> pa.Table:
    """A block's event columns as an Arrow table with exactly schema.EVENT_COLUMNS."""
    text = feedback_text.render(cols["text"])
    arrays = {
        "customer_id": pa.array(customer_ids(index)[cols["cust"]], type=pa.string()),
        "event_time": pa.array(cols["time"].astype(np.int64), type=pa.int64()).cast(
            pa.timestamp("us", tz="UTC")
        ),
        "event_type": pa.array(_TYPE_NAMES[cols["type"]], type=pa.string()),
        "channel": pa.array(_CHANNEL_NAMES[cols["channel"]], type=pa.string()),
        "amount": pa.array(cols["amount"], type=pa.float64(), from_pandas=True),
        "score": pa.array(cols["score"], type=pa.float64(), from_pandas=True),
        "duration": pa.array(cols["duration"], type=pa.float64(), from_pandas=True),
        "text": pa.array(text, type=pa.string()),
    }
    return pa.table([arrays[c] for c in EVENT_COLUMNS], names=list(EVENT_COLUMNS))


def events_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow events to pandas with the contract's dtypes (str columns, us UTC times)."""
    frame = table.to_pandas()
    for col in ("customer_id", "event_type", "channel", "text"):
        frame[col] = frame[col].astype("str")
    frame["event_time"] = frame["event_time"].astype("datetime64[us, UTC]")
    return frame

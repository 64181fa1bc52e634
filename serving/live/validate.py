"""Posted events checked by the data contract, one answer per event.

The batch loader's rules and reasons (``features.contract.check_events``) decide which events
are accepted, and ``features.quarantine.fix_text`` words the fix, so an event is refused over
HTTP for exactly the reason a file row would be quarantined. What only an API meets is checked
here first, per event: a field the contract does not have, a value that is a list or an object,
an ``event_id`` that is blank or too long, an event time in the future (a wrong clock
would otherwise move every customer's cutoff) and a number beyond 1e12 (sums of such
overflow). Errors name the event's position in the request, the field, the reason and the
fix; never a value (it may be customer data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from features import contract, schema
from features.quarantine import fix_text
from serving.live.event_store import ID_LENGTH, content_id

EVENT_ID: Final = "event_id"
FIELDS: Final = (EVENT_ID, *schema.EVENT_COLUMNS)
FUTURE_SLACK: Final = pd.Timedelta(days=1)  # clocks of the systems that post events
LARGEST: Final = 1e12  # beyond any real amount, delay or score; sums of such overflow answers
NUMBERS: Final = ("amount", "score", "duration")


@dataclass
class Checked:
    """Accepted events (``index``, ``event_id``, contract columns) and per-event errors."""

    accepted: pd.DataFrame
    errors: list[dict[str, Any]] = field(default_factory=list)


def _error(index: int, column: str, reason: str, fix: str) -> dict[str, Any]:
    return {"index": index, "column": column, "reason": reason, "fix": fix}


def _shape_errors(index: int, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    unknown = [k for k in item if k not in FIELDS]
    if unknown:
        return [_error(index, str(unknown[0])[:64], "unknown field; allowed: "
                       + ", ".join(FIELDS),
                       "drop or rename the field; customer attributes belong in the customers "
                       "file")]
    nested = [k for k, v in item.items() if isinstance(v, list | dict)]
    if nested:
        return [_error(index, nested[0], "a list or an object where a single value belongs",
                       "send one text, number or null per field")]
    event_id = item.get(EVENT_ID)
    if event_id is not None and (not isinstance(event_id, str | int) or isinstance(
            event_id, bool) or not str(event_id).strip() or len(str(event_id)) > ID_LENGTH):
        return [_error(index, EVENT_ID, f"event_id must be a non-blank text or number of at "
                       f"most {ID_LENGTH} characters", "send your system's id of the event, "
                       "or leave event_id out to have one derived from the content")]
    return []


def _api_fix(column: str, reason: str) -> str:
    """The contract's fix, worded for a request rather than a file."""
    if reason.startswith("unknown customer"):
        return ("post events of known customers only, or add the customer to the customers "
                "file and re-run `cxchurn online materialize`")
    if reason.startswith("unparseable"):
        return f"send {column} as {contract.TIMESTAMP_FORMAT_HINT}"
    if reason.startswith("non-numeric"):
        return f"send {column} as a plain number (e.g. 12.5) or null"
    if "scale" in reason or "without a score" in reason:
        return "send the answer's score within the scale the reason names"
    if reason == "event before signup":
        return "check the event_time, or the customer's signup_date in the customers file"
    fix = fix_text(column, reason)
    return fix if "quarantine" not in fix else f"correct {column} as the reason says"


def _column(name: str, values: list[Any]) -> pd.Series:
    """One posted field as the contract reads it: JSON numbers as float64 (what its number
    parsing would make of them, without a text round trip), anything else as given."""
    if name in NUMBERS and all(v is None or isinstance(v, float) or (
            isinstance(v, int) and not isinstance(v, bool) and abs(v) <= LARGEST)
            for v in values):
        return pd.Series(values, dtype="float64")
    return pd.Series(values, dtype=object)


def check_posted(items: Sequence[Mapping[str, Any]],
                 customers: pd.DataFrame | contract.KnownCustomers,
                 now: datetime | None = None) -> Checked:
    """Check posted events against the contract and ``customers`` (the accepted ones)."""
    errors: list[dict[str, Any]] = []
    kept: list[int] = []
    for i, item in enumerate(items):
        found = _shape_errors(i, item)
        errors += found
        if not found:
            kept.append(i)
    raw = pd.DataFrame({c: _column(c, [items[i].get(c) for i in kept])
                        for c in schema.EVENT_COLUMNS})
    checked = contract.check_events(raw, customers, source="request", rows=kept)
    refused: set[int] = set()
    rejected = checked.rejected
    for row in rejected.to_dict(orient="records") if len(rejected) else []:
        column, reason = str(row[contract.COLUMN]), str(row[contract.REASON])
        fix = _api_fix(column, reason)
        if reason.startswith("unknown customer"):
            reason = "unknown customer: the service's customers table has no such customer_id"
        refused.add(int(row[contract.ROW]))
        errors.append(_error(int(row[contract.ROW]), column, reason, fix))
    accepted = checked.accepted
    index = np.array([i for i in kept if i not in refused], dtype=np.int64)
    limit = pd.Timestamp(now or datetime.now(tz=UTC)) + FUTURE_SLACK
    future = (accepted["event_time"] > limit).to_numpy(dtype=bool)
    for i in index[future]:
        errors.append(_error(int(i), "event_time", "event_time is more than a day in the future",
                             "send the time the touchpoint happened, in UTC or with its offset"))
    huge = np.abs(accepted[list(NUMBERS)].to_numpy(dtype="float64", na_value=np.nan)) > LARGEST
    too_big = huge.any(axis=1) & ~future
    for i, row in zip(index[too_big], huge[too_big], strict=True):
        column = NUMBERS[int(row.argmax())]
        errors.append(_error(int(i), column, f"{column} beyond +-{LARGEST:g}",
                             f"send {column} in its unit (e.g. euros, days, hours)"))
    ok = ~future & ~too_big
    accepted = accepted.loc[ok] if not ok.all() else accepted
    accepted = accepted.reset_index(drop=True)
    accepted.insert(0, "index", index[ok])
    ids = [items[int(i)].get(EVENT_ID) for i in index[ok]]
    if any(g is None for g in ids):  # derived from the content: only then read the rows
        names = list(schema.EVENT_COLUMNS)
        ids = [g if g is not None else content_id(dict(zip(names, values, strict=True)))
               for g, values in zip(ids, accepted[names].to_numpy(dtype=object), strict=True)]
    accepted.insert(1, EVENT_ID, [str(g).strip() for g in ids])
    errors.sort(key=lambda e: e["index"])
    return Checked(accepted, errors)


__all__ = ["EVENT_ID", "FIELDS", "Checked", "check_posted"]

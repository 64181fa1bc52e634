"""The data contract for customers, events and actions, as pure frame-in, frames-out checks.

Why a separate pure module: the loaders (``features/load.py``), the API and the tests all need
the same rules, and rules that take a frame and return frames can be tested without files.

Two kinds of problems, handled differently on purpose:

* **Structural** (a required column missing, an unknown column in events/actions): nothing can
  be trusted, so :func:`require_columns` raises :class:`DataContractError` naming the file, the
  column and the fix.
* **Row-level** (a bad value in one row): the row is never silently dropped. Each check is a
  vectorised boolean mask (these tables reach 10M rows); a row failing several checks gets the
  FIRST failing check as its reason. Bad rows come back in ``rejected`` with their original
  values plus ``_row`` (1-based data row in the source, header excluded), ``_column`` and
  ``_reason``. With ``strict=True`` the first bad row in file order raises instead.

Counts reconcile (read = accepted + rejected) and :func:`reconcile` checks it in code.

Normalisation applied to accepted rows: ids and vocabulary columns are stripped of surrounding
whitespace; timestamps are parsed as ISO 8601 (naive = UTC, offsets converted to UTC) into
``datetime64[us, UTC]``; amount/score/duration/cost become float64; text columns become ``str``
(nullable). Extra customer columns pass through untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxchurn.errors import DataContractError, did_you_mean
from features import schema
from features.values import as_text, blank_mask, nullable_text, parse_numbers, parse_timestamps

CUSTOMERS: str = "customers"
EVENTS: str = "events"
ACTIONS: str = "actions"

ROW: str = "_row"
COLUMN: str = "_column"
REASON: str = "_reason"

TIMESTAMP_FORMAT_HINT = (
    "ISO 8601, e.g. 2025-01-31 or 2025-01-31T14:05:00 or 2025-01-31T14:05:00+03:00 "
    "(naive timestamps are taken as UTC, offsets are converted to UTC)"
)

# What each contract column holds, used to tell the user which of their columns to rename.
_COLUMN_MEANING: dict[str, str] = {
    "customer_id": "the customer identifier",
    "signup_date": "the date the customer signed up",
    "event_time": "the time of the touchpoint",
    "event_type": "the kind of touchpoint (order, delivery, survey_nps, ...)",
    "channel": "the channel of the touchpoint (web, app, ...)",
    "action_time": "the time the retention action was taken",
    "action_type": "the kind of retention action",
}

_ALLOWED: dict[str, tuple[str, ...]] = {
    EVENTS: schema.EVENT_COLUMNS,
    ACTIONS: schema.ACTION_COLUMNS,
}
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    CUSTOMERS: schema.CUSTOMER_COLUMNS,
    EVENTS: schema.EVENT_REQUIRED,
    ACTIONS: schema.ACTION_REQUIRED,
}

_EVENT_TYPES_TEXT = ", ".join(schema.EVENT_TYPES)
_CHANNELS_TEXT = ", ".join(schema.CHANNELS)


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one table: the accepted rows and the rejected ones with reasons."""

    table: str
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    n_read: int


@dataclass(frozen=True)
class _Check:
    """One row-level rule: rows where ``mask`` is True fail with ``reason`` (str or per row)."""

    column: str
    mask: np.ndarray
    reason: str | pd.Series
    fix: str
    show_value: bool = True  # echo the bad value in strict errors (never for customer ids)


# ---------------------------------------------------------------------------------------------
# structure


def _separator_hint(found: Sequence[str]) -> str:
    """A header read as one column that holds another separator: an export with ';' (common
    with decimal commas), tabs or '|', which only ``cxchurn import`` reads."""
    if len(found) != 1:
        return ""
    for sep, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
        if sep in found[0]:
            return (f" The header looks separated by {name}, not commas: read the file with "
                    "`cxchurn import` (docs/import.md), which takes any separator, decimal "
                    "mark and encoding.")
    return ""


def require_columns(columns: Sequence[str], table: str, source: str) -> None:
    """Raise if a required column is missing or (events/actions) an unknown column is present.

    ``source`` is the file name shown in the message.
    """
    found = [str(c) for c in columns]
    found_text = ", ".join(found) if found else "no columns"
    for col in REQUIRED_COLUMNS[table]:
        if col in found:
            continue
        hint = did_you_mean(col, found)
        raise DataContractError(
            f"{table} file '{source}' has no column '{col}' (found: {found_text}). "
            f"Rename the column that holds {_COLUMN_MEANING.get(col, col)} to '{col}'{hint}, "
            f"or add it. Required columns: {', '.join(REQUIRED_COLUMNS[table])}."
            + _separator_hint(found)
        )
    allowed = _ALLOWED.get(table)
    if allowed is None:
        return
    unknown = [c for c in found if c not in allowed]
    if unknown:
        raise DataContractError(
            f"{table} file '{source}' has unknown column(s) {', '.join(map(repr, unknown))}. "
            f"Allowed columns: {', '.join(allowed)}. Drop or rename the unknown column(s); "
            "extra attributes belong in the customers file, where they become static features."
        )


# ---------------------------------------------------------------------------------------------
# splitting rows by the first failing check


def _rows(n: int, rows: Sequence[int] | np.ndarray | None) -> np.ndarray:
    if rows is None:
        return np.arange(1, n + 1, dtype="int64")
    out = np.asarray(rows, dtype="int64")
    if len(out) != n:
        raise ValueError(f"rows has {len(out)} entries for a frame of {n} rows")
    return out


def _split(
    raw: pd.DataFrame,
    clean: pd.DataFrame,
    checks: Sequence[_Check],
    table: str,
    source: str,
    rows: np.ndarray,
    strict: bool,
) -> Checked:
    """Give each row its first failing check; raise in strict mode; split accepted/rejected."""
    n = len(raw)
    first = np.full(n, -1, dtype="int64")
    for i, check in enumerate(checks):
        first[check.mask & (first < 0)] = i
    bad = first >= 0
    if strict and bad.any():
        pos = int(np.flatnonzero(bad)[0])
        check = checks[first[pos]]
        reason = check.reason if isinstance(check.reason, str) else check.reason.iloc[pos]
        value = raw[check.column].iloc[pos] if check.column in raw.columns else None
        got = f" (got {value!r})" if check.show_value and not pd.isna(value) else ""
        raise DataContractError(
            f"{table} file '{source}', row {rows[pos]}, column '{check.column}': "
            f"{reason}{got}. Fix: {check.fix}"
        )
    columns = np.empty(n, dtype=object)
    reasons = np.empty(n, dtype=object)
    for i, check in enumerate(checks):
        hit = first == i
        if not hit.any():
            continue
        columns[hit] = check.column
        reasons[hit] = (
            check.reason if isinstance(check.reason, str)
            else check.reason.to_numpy(dtype=object)[hit]
        )
    rejected = raw.loc[bad].copy()
    rejected[ROW] = rows[bad]
    rejected[COLUMN] = pd.Series(columns[bad], index=rejected.index, dtype="str")
    rejected[REASON] = pd.Series(reasons[bad], index=rejected.index, dtype="str")
    # the common case (a clean file) skips a copy of every column
    accepted = clean.loc[~bad] if bad.any() else clean
    accepted = accepted.reset_index(drop=True)
    result = Checked(table, accepted, rejected.reset_index(drop=True), n)
    reconcile(result)
    return result


def reconcile(result: Checked) -> None:
    """Check read = accepted + rejected; a mismatch is a bug in the contract, never ignored."""
    if result.n_read != len(result.accepted) + len(result.rejected):
        raise RuntimeError(
            f"{result.table}: counts do not reconcile: read {result.n_read}, accepted "
            f"{len(result.accepted)}, quarantined {len(result.rejected)}. This is a bug in "
            "features/contract.py; please report it with the input file's shape."
        )


@dataclass(frozen=True)
class KnownCustomers:
    """The accepted customers as the event and action checks look them up.

    Built once per customers table and kept: a service checking a few posted events at a
    time would otherwise convert every customer's id and signup date, and hash every id, on
    each request. ``index`` keeps its hash table between lookups.
    """

    index: pd.Index  # the first row of each id
    rows: np.ndarray  # row of each index entry in the customers table
    signups: pd.api.extensions.ExtensionArray  # datetime64[us, UTC], one per customers row

    @classmethod
    def of(cls, customers: pd.DataFrame | KnownCustomers) -> KnownCustomers:
        if isinstance(customers, KnownCustomers):
            return customers
        ids = pd.Index(customers[schema.CUSTOMER_ID].astype("str"))
        first = ~ids.duplicated(keep="first")
        return cls(ids[first], np.flatnonzero(first),
                   customers["signup_date"].astype("datetime64[us, UTC]").array)

    def positions(self, ids: pd.Series) -> np.ndarray:
        """Row of each id in the customers table (-1 when absent or missing)."""
        found = self.index.get_indexer(ids.astype("str"))
        return np.where(found >= 0, self.rows[np.maximum(found, 0)], -1).astype("int64")


def lookup(ids: pd.Series, known: pd.Series | KnownCustomers) -> np.ndarray:
    """Position of each id in ``known`` (-1 when absent or missing).

    One hash pass in Arrow serves both the membership check and the signup-date lookup; on
    millions of rows it is several times faster than pandas' ``isin`` plus ``map``.
    """
    if isinstance(known, KnownCustomers):
        return known.positions(ids)
    needles = pa.array(ids.astype("str"), from_pandas=True)
    haystack = pa.array(known.astype("str"), from_pandas=True).cast(needles.type)
    positions = pc.index_in(needles, value_set=haystack).fill_null(-1)
    return positions.to_numpy(zero_copy_only=False).astype("int64")


def _id_checks(ids: pd.Series, positions: np.ndarray | None, table: str) -> list[_Check]:
    checks = [_Check(
        schema.CUSTOMER_ID, blank_mask(ids), "blank customer_id",
        "fill in the customer_id or remove the row", show_value=False,
    )]
    if positions is not None:
        unknown = ~blank_mask(ids) & (positions < 0)
        checks.append(_Check(
            schema.CUSTOMER_ID, unknown,
            "unknown customer: customer_id is not among the accepted customers",
            f"add the customer to the customers file (or fix its row there if it was "
            f"quarantined), or correct the customer_id in the {table} file",
            show_value=False,
        ))
    return checks


def _time_checks(column: str, blank: np.ndarray, unparseable: np.ndarray) -> list[_Check]:
    return [
        _Check(column, blank, f"blank {column}", f"fill in {column} as {TIMESTAMP_FORMAT_HINT}"),
        _Check(
            column, unparseable, f"unparseable {column}; expected {TIMESTAMP_FORMAT_HINT}",
            f"write {column} as {TIMESTAMP_FORMAT_HINT}",
        ),
    ]


def _number_check(column: str, bad: np.ndarray) -> _Check:
    return _Check(
        column, bad, f"non-numeric {column}: expected a finite number or blank",
        f"write {column} as a plain number (e.g. 12.5, dot as decimal separator) or leave it "
        "blank",
    )


# ---------------------------------------------------------------------------------------------
# the three tables


def check_customers(
    raw: pd.DataFrame,
    source: str = CUSTOMERS,
    strict: bool = False,
    rows: Sequence[int] | np.ndarray | None = None,
    date_format: str | None = None,
) -> Checked:
    """Validate customers: non-blank unique ``customer_id``, ISO 8601 ``signup_date``.

    Duplicate ids keep the first row; later rows are rejected naming the first row, so the
    user can see which record won. Extra columns pass through untouched.
    """
    require_columns(list(raw.columns), CUSTOMERS, source)
    row_numbers = _rows(len(raw), rows)
    ids = as_text(raw[schema.CUSTOMER_ID])
    blank_id = blank_mask(ids)
    dup = ids.duplicated(keep="first").to_numpy(dtype=bool) & ~blank_id
    first_seen = pd.Series(row_numbers[~dup & ~blank_id], index=ids[~dup & ~blank_id])
    first_row = ids.map(first_seen).astype("Int64").astype("str")
    signup, blank_t, bad_t = parse_timestamps(raw["signup_date"], date_format)
    checks = [
        *_id_checks(ids, None, CUSTOMERS),
        _Check(
            schema.CUSTOMER_ID, dup, "duplicate customer_id; first seen at row " + first_row,
            "keep one row per customer_id (the first one is kept)", show_value=False,
        ),
        *_time_checks("signup_date", blank_t, bad_t),
    ]
    clean = raw.copy()
    clean[schema.CUSTOMER_ID] = ids
    clean["signup_date"] = signup
    return _split(raw, clean, checks, CUSTOMERS, source, row_numbers, strict)


def check_events(
    raw: pd.DataFrame,
    customers: pd.DataFrame | KnownCustomers,
    source: str = EVENTS,
    strict: bool = False,
    rows: Sequence[int] | np.ndarray | None = None,
    date_format: str | None = None,
) -> Checked:
    """Validate events against the vocabulary in ``features/schema.py`` and the customers.

    ``customers`` must be the ACCEPTED customers (``check_customers(...).accepted``, or those
    as ``KnownCustomers``): events of a quarantined customer are rejected too, since they cannot
    be placed in time against a signup date. Missing optional columns (amount, score, duration,
    text) are added as blank.
    """
    require_columns(list(raw.columns), EVENTS, source)
    row_numbers = _rows(len(raw), rows)
    ids = as_text(raw[schema.CUSTOMER_ID])
    if isinstance(customers, KnownCustomers):
        positions, signups = lookup(ids, customers), customers.signups
    else:
        positions = lookup(ids, customers[schema.CUSTOMER_ID])
        signups = customers["signup_date"].astype("datetime64[us, UTC]").array
    when, blank_t, bad_t = parse_timestamps(raw["event_time"], date_format)
    types = as_text(raw["event_type"])
    channels = as_text(raw["channel"])
    blank_types, blank_channels = blank_mask(types), blank_mask(channels)
    numbers: dict[str, pd.Series] = {}
    checks = [
        *_id_checks(ids, positions, EVENTS),
        *_time_checks("event_time", blank_t, bad_t),
        _Check("event_type", blank_types, "blank event_type",
               f"fill in one of: {_EVENT_TYPES_TEXT}"),
        _Check("event_type",
               ~blank_types & ~types.isin(list(schema.EVENT_TYPES)).to_numpy(bool),
               f"unknown event_type; allowed: {_EVENT_TYPES_TEXT}",
               "use one of the allowed event types (names are case-sensitive), or add the new "
               "type to EVENT_TYPES in features/schema.py"),
        _Check("channel", blank_channels, "blank channel",
               f"fill in one of: {_CHANNELS_TEXT}"),
        _Check("channel",
               ~blank_channels & ~channels.isin(list(schema.CHANNELS)).to_numpy(bool),
               f"unknown channel; allowed: {_CHANNELS_TEXT}",
               "use one of the allowed channels, or add it to CHANNELS in features/schema.py"),
    ]
    for col in ("amount", "score", "duration"):
        if col in raw.columns:
            numbers[col], bad = parse_numbers(raw[col])
            checks.append(_number_check(col, bad))
        else:
            numbers[col] = pd.Series(np.nan, index=raw.index, dtype="float64")
    score = numbers["score"].to_numpy(dtype="float64", na_value=np.nan)
    type_codes = types.to_numpy(dtype=object, na_value=None)
    for survey, (low, high) in schema.SCORE_SCALES.items():
        is_survey = type_codes == survey
        checks.append(_Check(
            "score", is_survey & np.isnan(score), f"{survey} without a score",
            f"give every {survey} event a score between {low:g} and {high:g}",
        ))
        checks.append(_Check(
            "score", is_survey & ((score < low) | (score > high)),
            f"score outside the {survey} scale {low:g}-{high:g}",
            f"{survey} scores must be between {low:g} and {high:g} inclusive; rescale or correct",
        ))
    signup = pd.Series(signups.take(positions, allow_fill=True), index=raw.index)
    checks.append(_Check(
        "event_time", (when < signup).fillna(False).to_numpy(dtype=bool), "event before signup",
        "check the event_time, or the customer's signup_date in the customers file",
    ))
    text = (
        nullable_text(raw["text"]) if "text" in raw.columns
        else pd.Series(np.nan, index=raw.index, dtype="str")
    )
    clean = pd.DataFrame({
        schema.CUSTOMER_ID: ids,
        "event_time": when,
        "event_type": types,
        "channel": channels,
        **numbers,
        "text": text,
    }, index=raw.index)[list(schema.EVENT_COLUMNS)]
    return _split(raw, clean, checks, EVENTS, source, row_numbers, strict)


def check_actions(
    raw: pd.DataFrame,
    customers: pd.DataFrame | KnownCustomers,
    source: str = ACTIONS,
    strict: bool = False,
    rows: Sequence[int] | np.ndarray | None = None,
    date_format: str | None = None,
) -> Checked:
    """Validate actions: known customer, ISO 8601 ``action_time``, an ``action_type``,
    numeric ``cost``. ``outcome`` is kept as nullable text (it is recorded later, often blank).
    """
    require_columns(list(raw.columns), ACTIONS, source)
    row_numbers = _rows(len(raw), rows)
    ids = as_text(raw[schema.CUSTOMER_ID])
    positions = lookup(ids, customers if isinstance(customers, KnownCustomers)
                       else customers[schema.CUSTOMER_ID])
    when, blank_t, bad_t = parse_timestamps(raw["action_time"], date_format)
    kinds = as_text(raw["action_type"])
    checks = [
        *_id_checks(ids, positions, ACTIONS),
        *_time_checks("action_time", blank_t, bad_t),
        _Check("action_type", blank_mask(kinds), "blank action_type",
               "fill in the kind of retention action (e.g. loyalty_offer)"),
    ]
    if "cost" in raw.columns:
        cost, bad = parse_numbers(raw["cost"])
        checks.append(_number_check("cost", bad))
    else:
        cost = pd.Series(np.nan, index=raw.index, dtype="float64")
    outcome = (
        nullable_text(raw["outcome"]) if "outcome" in raw.columns
        else pd.Series(np.nan, index=raw.index, dtype="str")
    )
    clean = pd.DataFrame({
        schema.CUSTOMER_ID: ids, "action_time": when, "action_type": kinds,
        "cost": cost, "outcome": outcome,
    }, index=raw.index)[list(schema.ACTION_COLUMNS)]
    return _split(raw, clean, checks, ACTIONS, source, row_numbers, strict)


# The dtypes of a clean ``actions`` table, in the contract's column order.
ACTION_DTYPES: dict[str, str] = {
    schema.CUSTOMER_ID: "str", "action_time": "datetime64[us, UTC]", "action_type": "str",
    "cost": "float64", "outcome": "str",
}


def empty_actions() -> pd.DataFrame:
    """A typed, empty actions table, for worlds or runs without any retention actions."""
    return pd.DataFrame({c: pd.Series(dtype=ACTION_DTYPES[c]) for c in schema.ACTION_COLUMNS})

"""Apply an import mapping: the user's files in, contract tables and quarantine out.

Each source is read as text (``features/readers.py``), filtered, renamed and given its
constants, derived numbers and value maps; its times are converted to UTC from the stated
zone and its decimal commas to dots. The sources of a table are then stacked and held to the
project's own contract (``features/contract.py``), so quarantine reasons and reconciliation
are the same as ``cxchurn features validate``. Every rejected row keeps its source file and
its row number there (``_source``, ``_row``: the data row, header excluded), and each source
reconciles: read = left out by the mapping's filter + accepted + quarantined.

Customer attributes become numbers when every value of the column reads as one, otherwise
categories folded with ``features/normalize.py`` (merges reported once).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxchurn.errors import DataContractError, did_you_mean
from features import contract, schema
from features.load import LoadResult
from features.mapping import NUMBER_COLUMNS, TIME_COLUMNS, VOCABULARY, Mapping, Source
from features.normalize import fold_category, normalise_categories
from features.readers import ReadOptions, SourceRead, read_source
from features.values import as_text, blank_mask, parse_numbers, parse_timestamps

SOURCE = "_source"
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}"
_COMMA_NUMBER = r"^[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"
_DOT_THOUSANDS = r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"


@dataclass(frozen=True)
class Prepared:
    """One source's rows that passed the filter, in contract column names (still text)."""

    source: Source
    read: SourceRead
    frame: pd.DataFrame
    rows: np.ndarray  # 1-based data row in the source file
    n_read: int
    attributes: pd.DataFrame  # customer attributes carried by event sources (from_events)


@dataclass(frozen=True)
class SourceOutcome:
    table: str
    key: str  # the source's place in the mapping, e.g. events[1]
    name: str
    how_read: str
    n_read: int
    n_left_out: int
    n_accepted: int
    n_quarantined: int

    def summary(self) -> str:
        left = f" + left out by filter {self.n_left_out:,}" if self.n_left_out else ""
        return (f"{self.key} ({self.name}): read {self.n_read:,} = accepted "
                f"{self.n_accepted:,} + quarantined {self.n_quarantined:,}{left}")


@dataclass(frozen=True)
class Imported:
    customers: pd.DataFrame
    events: pd.DataFrame
    actions: pd.DataFrame | None
    rejected: dict[str, pd.DataFrame]
    sources: tuple[SourceOutcome, ...]
    results: tuple[LoadResult, ...]  # per source, for features.quarantine.check_quarantine
    merges: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def report(self) -> dict:
        return {
            "sources": [vars(s) for s in self.sources],
            "tables": {t: {"accepted": len(f), "quarantined": len(self.rejected.get(t, ()))}
                       for t, f in (("customers", self.customers), ("events", self.events),
                                    ("actions", self.actions)) if f is not None},
            "category_merges": self.merges,
        }


# ---------------------------------------------------------------------------------------------
# values


def to_utc(values: pd.Series, date_format: str | None = None, dayfirst: bool = False,
           timezone: str | None = None) -> pd.Series:
    """Times as UTC; values that do not parse are kept as written (the contract rejects them).

    Text with an offset (``+03:00``, ``Z``) keeps its offset; naive text is read in
    ``timezone`` (default UTC). ``date_format`` first, then ISO 8601; ``dayfirst`` reads
    31.01.2025-style dates without a stated format (ISO dates stay year-month-day).
    """
    text = as_text(values)
    blank = pd.Series(blank_mask(text), index=text.index)
    aware = text.str.contains(_OFFSET, regex=True, na=False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
    naive_text = text[~aware & ~blank]
    local = pd.to_datetime(naive_text, format="ISO8601", errors="coerce")
    if date_format:
        stated = pd.to_datetime(naive_text, format=date_format, errors="coerce")
        local = stated.where(stated.notna(), local)
    if dayfirst and not date_format:
        other = local.isna() & ~naive_text.str.match(_ISO_DATE, na=False)
        if other.any():
            local[other] = pd.to_datetime(naive_text[other], dayfirst=True, format="mixed",
                                          errors="coerce")
    if len(local):
        local = local.astype("datetime64[us]").dt.tz_localize(
            timezone or "UTC", ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
        out[local.index] = local
    bad = out.isna() & ~blank
    if not bad.any():
        return out
    mixed = out.astype(object)
    mixed[bad] = text[bad]
    return mixed


def numbers_text(values: pd.Series, decimal: str) -> pd.Series:
    """Decimal commas (1.234,56 / 12,5) or thousands commas (1,234.5) rewritten as 1234.5."""
    text = as_text(values)
    if decimal == ",":
        looks = text.str.match(_COMMA_NUMBER, na=False)
        fixed = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        looks = text.str.match(_DOT_THOUSANDS, na=False)
        fixed = text.str.replace(",", "", regex=False)
    return text.where(~looks, fixed)


def derive_product(frame: pd.DataFrame, factors: tuple[str, ...], decimal: str) -> pd.Series:
    """The product of columns and number literals; blank if a factor is blank, the bad text
    (for the contract to quarantine) if one is not a number."""
    product = pd.Series(1.0, index=frame.index)
    blank = np.zeros(len(frame), dtype=bool)
    bad_text = pd.Series(np.nan, index=frame.index, dtype=object)
    for factor in factors:
        if factor in frame.columns:
            raw = numbers_text(frame[factor], decimal)
            parsed, bad = parse_numbers(raw)
            blank |= blank_mask(raw)
            bad_text = bad_text.where(bad_text.notna() | ~bad, raw)
            product = product * parsed
        else:
            product = product * float(factor)
    out = product.where(~blank).astype(object)
    has_bad = bad_text.notna().to_numpy(dtype=bool)
    out[has_bad] = bad_text[has_bad]
    return out if has_bad.any() else product.where(~blank)


def _mapped(values: pd.Series, column: str, spellings: dict[str, str], locale: str | None
            ) -> pd.Series:
    """Spellings mapped to contract values; vocabulary names match after folding; others stay
    as written (so the quarantine shows the user's own spelling)."""
    text = as_text(values)
    allowed = VOCABULARY.get(column, ())
    lookup = {}
    for raw in pd.unique(text.dropna()):
        key = fold_category(str(raw), locale)
        lookup[raw] = spellings.get(key, key if key in allowed else raw)
    return text.map(lookup).astype("str")


def _keep(frame: pd.DataFrame, source: Source) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    for cond in source.filter:
        text = as_text(frame[cond.column])
        if cond.test == "not_blank":
            hit = ~blank_mask(text)
        elif cond.test in ("starts_with", "not_starts_with"):
            hit = text.str.startswith(cond.argument, na=False).to_numpy(dtype=bool)
            hit = hit if cond.test == "starts_with" else ~hit
        else:
            hit = text.isin(list(cond.argument)).to_numpy(dtype=bool)
            hit = hit if cond.test == "in" else ~hit
        keep &= hit
    return keep


# ---------------------------------------------------------------------------------------------
# one source


def _check_header(read: SourceRead, source: Source, extra: list[str]) -> None:

    found = list(read.frame.columns)
    for column in source.source_columns() + extra:
        if column not in found:
            hint = did_you_mean(column, found)
            raise DataContractError(
                f"{source.table} source '{read.path.name}' ({source.key} in the mapping) has no "
                f"column '{column}'{hint}; found: {', '.join(found)}. Fix the column name in "
                f"the mapping (read as {read.describe()})."
            )


def prepare(source: Source, mapping: Mapping, cache: dict | None = None) -> Prepared:
    """Read, filter and rename one source; values converted but not yet checked.

    ``cache`` shares one read between sources that use the same file the same way (e.g.
    orders and returns filtered from one invoice file).
    """
    options = ReadOptions(source.encoding, source.sep, source.decimal, source.sheet)
    cache = {} if cache is None else cache
    key = (source.path.resolve(), options)
    if key not in cache:
        cache[key] = read_source(source.path, options)
    read = cache[key]
    attrs = mapping.customer_attributes if source.table == "events" else {}
    _check_header(read, source, list(attrs.values()))
    keep = _keep(read.frame, source)
    raw = read.frame.loc[keep].reset_index(drop=True)
    rows = np.flatnonzero(keep) + 1
    out = pd.DataFrame(index=raw.index)
    for column, src in source.columns.items():
        out[column] = raw[src]
    for column, value in source.constants.items():
        out[column] = value
    for column, factors in source.derive.items():
        out[column] = derive_product(raw, factors, read.decimal)
    for column in out.columns:
        if column in NUMBER_COLUMNS and column not in source.derive:
            out[column] = numbers_text(out[column], read.decimal)
        elif column == TIME_COLUMNS[source.table]:
            out[column] = to_utc(out[column], source.date_format, source.dayfirst,
                                 source.timezone)
        elif column in source.values or column in VOCABULARY:
            out[column] = _mapped(out[column], column, source.values.get(column, {}),
                                  mapping.locale)
        elif source.table == "customers" and column != schema.CUSTOMER_ID:
            converted = numbers_text(out[column], read.decimal)
            _, bad = parse_numbers(converted)
            out[column] = converted if not bad.any() else out[column]
    attributes = pd.DataFrame({name: raw[src] for name, src in attrs.items()}, index=raw.index)
    return Prepared(source, read, out, rows, len(read.frame), attributes)


# ---------------------------------------------------------------------------------------------
# tables


def _stack(parts: list[Prepared]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    which = np.concatenate([np.full(len(p.frame), i) for i, p in enumerate(parts)])
    rows = np.concatenate([p.rows for p in parts]) if parts else np.array([], dtype="int64")
    return frame, which.astype("int64"), rows.astype("int64")


def _attribute_customers(customers: pd.DataFrame, mapping: Mapping
                         ) -> tuple[pd.DataFrame, dict[str, dict[str, list[str]]]]:
    merges = {}
    for column in customers.columns:
        if column in schema.CUSTOMER_COLUMNS:
            continue
        parsed, bad = parse_numbers(customers[column])
        if mapping.categories is None and not bad.any():
            customers[column] = parsed
        elif mapping.categories is None or column in mapping.categories:
            customers[column], merged = normalise_categories(customers[column], mapping.locale)
            if merged:
                merges[column] = merged
    return customers, merges


def _from_events(parts: list[Prepared], mapping: Mapping) -> pd.DataFrame:
    """Customers seen in the events: signup = first parseable event, attributes = modal."""
    events = pd.concat([p.frame for p in parts], ignore_index=True)
    attrs = pd.concat([p.attributes for p in parts], ignore_index=True)
    ids = as_text(events[schema.CUSTOMER_ID])
    when, _, _ = parse_timestamps(events["event_time"])
    ok = ~blank_mask(ids) & when.notna().to_numpy(dtype=bool)
    signup = when[ok].groupby(ids[ok]).min()
    out = pd.DataFrame({schema.CUSTOMER_ID: signup.index.astype("str"),
                        "signup_date": signup.to_numpy()})
    for name in attrs.columns:
        pairs = pd.DataFrame({"id": ids[ok], "v": as_text(attrs[name])[ok]}).dropna()
        modal = (pairs.groupby(["id", "v"]).size().rename("n").reset_index()
                 .sort_values(["id", "n", "v"], ascending=[True, False, True])
                 .drop_duplicates("id").set_index("id")["v"])
        out[name] = out[schema.CUSTOMER_ID].map(modal).astype("str")
    out["signup_date"] = out["signup_date"].astype("datetime64[us, UTC]")
    return out


def _outcomes(table: str, parts: list[Prepared], checked: contract.Checked, which: np.ndarray,
              rows: np.ndarray) -> tuple[pd.DataFrame, list[SourceOutcome], list[LoadResult]]:
    """Rejected rows with their source and source row; per-source counts and load results."""
    rejected = checked.rejected
    index = rejected[contract.ROW].to_numpy(dtype="int64") - 1
    names = np.array([p.read.path.name for p in parts], dtype=object)
    rejected.insert(0, SOURCE, names[which[index]] if len(index) else [])
    rejected[contract.ROW] = rows[index]
    outcomes, results = [], []
    for i, part in enumerate(parts):
        mine = rejected[which[index] == i].reset_index(drop=True)
        entered = len(part.frame)
        outcomes.append(SourceOutcome(table, part.source.key, part.read.path.name,
                                      part.read.describe(),
                                      part.n_read, part.n_read - entered, entered - len(mine),
                                      len(mine)))
        results.append(LoadResult(frame=pd.DataFrame(), table=table, path=part.read.path,
                                  n_read=entered, n_accepted=entered - len(mine),
                                  n_quarantined=len(mine), quarantine_path=None, rejected=mine))
    return rejected, outcomes, results


def _check(table: str, parts: list[Prepared], customers: pd.DataFrame
           ) -> tuple[contract.Checked, pd.DataFrame, list[SourceOutcome], list[LoadResult]]:
    frame, which, rows = _stack(parts)
    global_rows = np.arange(1, len(frame) + 1)
    if table == "customers":
        checked = contract.check_customers(frame, table, rows=global_rows)
    elif table == "events":
        checked = contract.check_events(frame, customers, table, rows=global_rows)
    else:
        checked = contract.check_actions(frame, customers, table, rows=global_rows)
    return (checked, *_outcomes(table, parts, checked, which, rows))


def apply_mapping(mapping: Mapping) -> Imported:
    """Every source of the mapping read, mapped and checked; nothing dropped uncounted."""
    cache: dict = {}
    event_parts = [prepare(s, mapping, cache) for s in mapping.events]
    outcomes: list[SourceOutcome] = []
    results: list[LoadResult] = []
    rejected: dict[str, pd.DataFrame] = {}
    if mapping.customers_from_events:
        derived = _from_events(event_parts, mapping)
        cust = contract.check_customers(derived, "customers (from events)")
        rejected["customers"] = cust.rejected
        outcomes.append(SourceOutcome("customers", "customers", "from events",
                                      "signup = first event per customer",
                                      len(derived), 0, len(cust.accepted), len(cust.rejected)))
    else:
        parts = [prepare(s, mapping, cache) for s in mapping.customers]
        cust, rejected["customers"], outs, res = _check("customers", parts, pd.DataFrame())
        outcomes += outs
        results += res
    customers, merges = _attribute_customers(cust.accepted, mapping)
    events, rejected["events"], outs, res = _check("events", event_parts, cust.accepted)
    outcomes += outs
    results += res
    actions = None
    if mapping.actions:
        parts = [prepare(s, mapping, cache) for s in mapping.actions]
        actions, rejected["actions"], outs, res = _check("actions", parts, cust.accepted)
        outcomes += outs
        results += res
    return Imported(customers, events.accepted, actions.accepted if actions else None,
                    rejected, tuple(outcomes), tuple(results), merges)


__all__ = ["Imported", "SourceOutcome", "apply_mapping", "derive_product", "numbers_text",
           "prepare", "to_utc"]

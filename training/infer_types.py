"""Column types of a one-row-per-customer table: inferred, printed, overridable, never guessed
into wrong numbers.

Why read everything as text first: pandas' own inference turns a numeric column with one blank
(" ") into text and a 0/1 text column into numbers, so the decision would depend on the CSV
reader. Here every cell is seen as written; the rules below decide, and everything they did
to the data (blanks read as missing, case variants merged, non-numbers in a column the user
declared numeric) is counted in the plan's summary so the user can check and override it.

Rules, in order, for a column that is not the id or the label:

* missing: a blank or whitespace-only cell, or one of ``table_checks.MISSING_TOKENS`` (counted);
* boolean: the non-missing values, case-insensitively, are one known pair (yes/no,
  true/false, y/n, t/f, 1/0) -> 1.0 / 0.0;
* numeric: every non-missing value parses as a number -> float;
  a column that is mostly numbers but holds some text is refused (``DataContractError``)
  with examples: declare it ``--numeric`` (the text becomes missing, counted) or
  ``--categorical``;
* date: every non-missing value parses as an ISO date -> age in days at ``as_of``;
* categorical: otherwise, if it has at most ``max_levels`` distinct values; every value is
  folded with ``features.normalize.fold_category`` (Unicode NFC, trimmed, Turkish-aware lower
  case), so 'BİREYSEL' and 'bireysel' are one level; the merged spellings are reported, and the
  rule is stored with the model so the API folds posted values the same way;
* dropped: constant columns, text whose values are all distinct, and text with more distinct
  values than ``max_levels`` (free text or another identifier), unless declared categorical;
  whole numbers that are all distinct and look like an identifier (a name such as
  ``CustomerId`` or ``RowNumber``, a consecutive run, or 1,000+ rows), unless declared
  ``--numeric``: a row number is not a churn driver.

Identifiers are never picked as the customer id on their own: without ``--id`` the ids are
row numbers and the summary names each identifier-like column with ``--id COL`` as the fix.
An explicit ``--id`` must be filled and unique (duplicates are an error naming the rows).

The label: with ``--positive VALUE`` and one other value, that value means "stayed"; with
more values (0/1/2), each other value must be named with ``--negative VALUE``, because a
silent "everything else stayed" turned a third status into non-churners.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError, DataContractError
from features.contacts import contact_columns
from features.normalize import fold_category, fold_rule, normalise_categories
from training.table_checks import (
    boolean_pair,
    check_ids,
    clean_text,
    duplicate_rows,
    identifier_like,
    label_positive,
)

KINDS = ("numeric", "categorical", "boolean", "date", "dropped")
MAX_LEVELS = 100
_MOSTLY_NUMERIC = 0.9


@dataclass(frozen=True)
class ColumnPlan:
    """What one input column becomes, why, and what was done to its values."""

    name: str
    kind: str
    reason: str
    n_missing: int = 0
    notes: tuple[str, ...] = ()
    true_value: str | None = None  # boolean: the spelling read as 1
    merges: tuple[tuple[str, str], ...] = ()  # categorical: (spelling, folded level)


@dataclass(frozen=True)
class TypePlan:
    """The inferred (or overridden) type of every column, in table order."""

    columns: tuple[ColumnPlan, ...]
    id_column: str | None
    label_column: str
    positive: str
    as_of: pd.Timestamp | None = None
    negatives: tuple[str, ...] = ()
    n_rows: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    locale: str | None = None  # category folding: None = automatic, "tr" = always Turkish

    @property
    def fold(self) -> str:
        """The category folding rule as stored with a model (``features.normalize``)."""
        return fold_rule(self.locale)

    def of_kind(self, kind: str) -> list[str]:
        return [c.name for c in self.columns if c.kind == kind]

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.columns if c.kind != "dropped"]

    def summary(self) -> str:
        """The table printed before training: one line per column, overrides named."""
        lines = [f"{self.n_rows:,} rows; id: {self.id_column or '(row number)'}; label: "
                 f"{self.label_column} (churn = {self.positive!r})"]
        if self.as_of is not None:
            lines.append(f"dates become ages in days at {self.as_of.date()}")
        width = max([len(c.name) for c in self.columns] + [6])
        lines.append(f"  {'column':<{width}}  {'type':<11}  {'missing':>7}  why / what was done")
        for c in self.columns:
            detail = "; ".join((c.reason, *c.notes))
            lines.append(f"  {c.name:<{width}}  {c.kind:<11}  {c.n_missing:>7}  {detail}")
        lines.extend(self.notes)
        lines.append("override with --categorical COL, --numeric COL, --date COL, --drop COL "
                     "(repeatable)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "id_column": self.id_column, "label_column": self.label_column,
            "positive": self.positive, "negatives": list(self.negatives),
            "n_rows": self.n_rows, "notes": list(self.notes),
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "locale": self.locale,
            "columns": [{"name": c.name, "kind": c.kind, "reason": c.reason,
                         "n_missing": c.n_missing, "notes": list(c.notes),
                         "true_value": c.true_value, "merges": [list(m) for m in c.merges]}
                        for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TypePlan:
        """The plan ``to_dict`` wrote (as stored with a model), to type new rows the same way."""
        columns = tuple(
            ColumnPlan(name=c["name"], kind=c["kind"], reason=c["reason"],
                       n_missing=int(c.get("n_missing", 0)), notes=tuple(c.get("notes", ())),
                       true_value=c.get("true_value"),
                       merges=tuple((a, b) for a, b in c.get("merges", ())))
            for c in data["columns"])
        as_of = data.get("as_of")
        return cls(columns=columns, id_column=data.get("id_column"),
                   label_column=data["label_column"], positive=data["positive"],
                   as_of=None if as_of is None else pd.Timestamp(as_of),
                   negatives=tuple(data.get("negatives", ())), n_rows=int(data.get("n_rows", 0)),
                   notes=tuple(data.get("notes", ())), locale=data.get("locale"))


# ------------------------------------------------------------------------------ cells


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _numbers(text: pd.Series, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parsed floats (NaN where missing or not a number) and the mask of non-numbers."""
    out = np.full(len(text), np.nan)
    bad = np.zeros(len(text), dtype=bool)
    for i, (v, m) in enumerate(zip(text, missing, strict=True)):
        if m:
            continue
        if _NUMBER.match(v):
            out[i] = float(v)
        else:
            bad[i] = True
    return out, bad


def _dates(text: pd.Series, missing: np.ndarray) -> pd.Series | None:
    present = text[~missing]
    if present.empty or not present.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return None
    parsed = pd.to_datetime(text.where(~missing), errors="coerce", utc=True, format="ISO8601")
    if parsed[~missing].isna().any():
        return None
    return parsed


def _fold_merges(text: pd.Series, missing: np.ndarray, locale: str | None
                 ) -> tuple[tuple[str, str], ...]:
    """(spelling, folded level) for every spelling that shares its level with another one."""
    _, merges = normalise_categories(text[~missing], locale)
    return tuple(sorted((raw, level) for level, raws in merges.items() for raw in raws
                        if raw != level))


# ------------------------------------------------------------------------------ inference


def infer_column(name: str, values: pd.Series, forced: str | None = None,
                 max_levels: int = MAX_LEVELS, locale: str | None = None) -> ColumnPlan:
    """Decide one column's type (``forced`` = the user's override)."""
    if forced is not None and forced not in KINDS:
        raise ConfigError(f"type of column {name!r} must be one of {KINDS}, got {forced!r}")
    text, missing = clean_text(values)
    n_missing = int(missing.sum())
    blanks = int(sum(1 for v, m in zip(text, missing, strict=True) if m and v is not None))
    notes = [f"{blanks} blank/NA cell(s) read as missing"] if blanks else []
    levels = pd.unique(text[~missing])
    if forced == "dropped":
        return ColumnPlan(name, "dropped", "dropped on request", n_missing)
    if forced is None and contact_columns([name]):
        return ColumnPlan(name, "dropped", "contact details (a name, phone or e-mail) are never "
                          f"a feature; --categorical {name} keeps it (or --id {name} if it "
                          "identifies the customer)", n_missing)
    if forced is None and len(levels) <= 1:
        return ColumnPlan(name, "dropped", "constant: carries no information", n_missing)
    pair = boolean_pair(levels)
    if forced in (None, "boolean") and pair is not None:
        return ColumnPlan(name, "boolean", f"values {pair[0]}/{pair[1]} (any case) -> 1/0",
                          n_missing, tuple(notes), true_value=pair[0])
    if forced == "boolean":
        raise ConfigError(f"column {name!r} cannot be boolean: its values {list(levels[:6])} "
                          "are not one yes/no, true/false, y/n, t/f or 1/0 pair")
    _, bad = _numbers(text, missing)
    n_bad = int(bad.sum())
    if forced is None and n_bad == 0 and identifier_like(name, text, missing):
        return ColumnPlan(name, "dropped", f"every value a distinct whole number: an "
                          f"identifier (row or customer number)? --id {name} uses it as the "
                          f"customer id, --numeric {name} keeps it as a feature", n_missing)
    if forced == "numeric" or (forced is None and n_bad == 0):
        if n_bad:
            examples = sorted(set(text[bad]))[:3]
            notes.append(f"{n_bad} non-numeric value(s) {examples} read as missing (--numeric)")
        return ColumnPlan(name, "numeric", "numbers" if forced is None else "numeric on request",
                          n_missing + n_bad, tuple(notes))
    present = len(text) - n_missing
    if forced is None and present and (present - n_bad) / present >= _MOSTLY_NUMERIC:
        examples = sorted(set(text[bad]))[:3]
        raise DataContractError(
            f"column {name!r} holds numbers except for {n_bad} value(s) such as {examples}; "
            f"refusing to guess: pass --numeric {name} to read those as missing, or "
            f"--categorical {name} to treat the column as categories"
        )
    if forced in (None, "date"):
        parsed = _dates(text, missing)
        if parsed is not None:
            return ColumnPlan(name, "date", "ISO dates -> age in days", n_missing, tuple(notes))
        if forced == "date":
            raise ConfigError(f"column {name!r} cannot be read as dates: expected ISO 8601 "
                              f"(2025-01-31) in every non-blank cell, e.g. got {levels[:3]}")
    merges = _fold_merges(text, missing, locale)
    n_levels = len({fold_category(v, locale) for v in levels})
    if forced is None and n_levels == len(text) - n_missing and n_levels >= 5:
        return ColumnPlan(name, "dropped", f"every value distinct ({n_levels}): an identifier? "
                          f"--id {name} uses it as the customer id, --categorical {name} "
                          "keeps it as a feature", n_missing)
    if forced is None and n_levels > max_levels:
        return ColumnPlan(name, "dropped", f"text with {n_levels} distinct values (free text "
                          f"or an identifier?); --categorical {name} keeps it", n_missing)
    if merges:
        shown = [f"{a!r}->{b!r}" for a, b in merges]
        notes.append(f"merged spellings of one level (case, spaces, Unicode): {shown[:4]}"
                     f"{f' (+{len(shown) - 4} more)' if len(shown) > 4 else ''}")
    reason = f"{n_levels} levels" + ("" if forced is None else " (categorical on request)")
    return ColumnPlan(name, "categorical", reason, n_missing, tuple(notes), merges=merges)


def infer_types(
    raw: pd.DataFrame,
    label: str,
    id_column: str | None = None,
    positive: str | None = None,
    *,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    date: Sequence[str] = (),
    boolean: Sequence[str] = (),
    drop: Sequence[str] = (),
    as_of: str | pd.Timestamp | None = None,
    max_levels: int = MAX_LEVELS,
    negatives: Sequence[str] = (),
    locale: str | None = None,
) -> TypePlan:
    """The type plan for ``raw`` (cells as text), with the user's overrides applied."""
    columns = [str(c) for c in raw.columns]
    for role, col in (("label", label), ("id", id_column)):
        if col is not None and col not in columns:
            raise ConfigError(f"{role} column {col!r} is not in the table; columns are "
                              f"{columns}")
    forced: dict[str, str] = {}
    for kind, names in (("categorical", categorical), ("numeric", numeric), ("date", date),
                        ("boolean", boolean), ("dropped", drop)):
        for n in names:
            if n not in columns:
                raise ConfigError(f"override names column {n!r}, which is not in the table; "
                                  f"columns are {columns}")
            if n in forced and forced[n] != kind:
                raise ConfigError(f"column {n!r} is given two types: {forced[n]} and {kind}")
            forced[n] = kind
    if id_column is not None:
        check_ids(raw[id_column], id_column)
    pos = label_positive(raw[label], label, positive, negatives)
    plans = tuple(
        infer_column(c, raw[c], forced.get(c), max_levels, locale)
        for c in columns if c not in (label, id_column)
    )
    stamp = None
    if any(p.kind == "date" for p in plans):
        if as_of is not None:
            stamp = _utc(pd.Timestamp(as_of))
        else:
            stamps = [_parsed_dates(raw[p.name]).max() for p in plans if p.kind == "date"]
            stamp = max(stamps)
    return TypePlan(columns=plans, id_column=id_column, label_column=label, positive=pos,
                    as_of=stamp, n_rows=len(raw), negatives=tuple(v.strip() for v in negatives),
                    notes=duplicate_rows(raw), locale=locale)


def _utc(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _parsed_dates(values: pd.Series) -> pd.Series:
    text, missing = clean_text(values)
    return pd.to_datetime(text.where(~missing), errors="coerce", utc=True, format="ISO8601")


# ------------------------------------------------------------------------------ applying


def apply_types(raw: pd.DataFrame, plan: TypePlan) -> pd.DataFrame:
    """Feature frame: floats for numeric/boolean/date columns, folded text for categoricals.

    Works on any table with the plan's columns (a test file, rows posted for scoring), so the
    same plan types training and scoring rows alike. The label and id are not included.
    """
    missing_cols = [c for c in plan.features if c not in raw.columns]
    if missing_cols:
        raise DataContractError(f"table lacks column(s) {missing_cols} the type plan needs")
    out: dict[str, pd.Series] = {}
    for col in plan.columns:
        if col.kind == "dropped":
            continue
        text, missing = clean_text(raw[col.name])
        if col.kind == "numeric":
            out[col.name] = pd.Series(_numbers(text, missing)[0], index=raw.index)
        elif col.kind == "boolean":
            lower = text.str.lower()
            out[col.name] = pd.Series(
                np.where(missing, np.nan, (lower == col.true_value).astype(float)),
                index=raw.index)
        elif col.kind == "date":
            parsed = _parsed_dates(raw[col.name])
            out[col.name] = (plan.as_of - parsed).dt.total_seconds() / 86400.0
        else:
            out[col.name] = pd.Series(
                [None if m else fold_category(v, plan.locale)
                 for v, m in zip(text, missing, strict=True)],
                index=raw.index, dtype="object")
    return pd.DataFrame(out, index=raw.index)


def label_vector(raw: pd.DataFrame, plan: TypePlan) -> np.ndarray:
    """0/1 churn label (1 where the label equals ``plan.positive``, any case)."""
    text, _ = clean_text(raw[plan.label_column])
    return (text.str.lower() == plan.positive.lower()).to_numpy(dtype=int)


def customer_ids(raw: pd.DataFrame, plan: TypePlan, offset: int = 0) -> pd.Series:
    """The id column as text, or ``row-<n>`` (1-based data row) when the table has none."""
    if plan.id_column is None:
        return pd.Series([f"row-{i + 1 + offset}" for i in range(len(raw))], index=raw.index,
                         dtype="object")
    return clean_text(raw[plan.id_column])[0]

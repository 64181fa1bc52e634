"""Checks of a one-row-per-customer table's cells, label and ids, before any typing.

Split from ``training.infer_types`` (which decides each column's type): reading a cell as
text or missing, the known yes/no pairs, identifier-like columns, which label value means
churn (and that every other one is named), and that ids are filled and unique. Each check
fails with a message that names the column, the rows and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError, DataContractError

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})
BOOLEAN_PAIRS = (("yes", "no"), ("true", "false"), ("y", "n"), ("t", "f"), ("1", "0"),
                 ("1.0", "0.0"))
_ID_NAME = re.compile(r"(id|number|num|no|nr|nummer|code|key|index)$", re.IGNORECASE)
_INTEGER = re.compile(r"^[+-]?\d+$")
_MIN_ID_ROWS = 20


def clean_text(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Stripped text and a missing mask (blank, whitespace-only or a missing token)."""
    text = values.astype("object").where(values.notna(), None)
    text = pd.Series([None if v is None else str(v).strip() for v in text], index=values.index,
                     dtype="object")
    missing = np.array([v is None or v.lower() in MISSING_TOKENS for v in text], dtype=bool)
    return text, missing


def boolean_pair(levels: Iterable[str]) -> tuple[str, str] | None:
    lower = {v.lower() for v in levels}
    for true, false in BOOLEAN_PAIRS:
        if lower and lower <= {true, false}:
            return true, false
    return None


def identifier_like(name: str, text: pd.Series, missing: np.ndarray) -> bool:
    """All filled, all distinct whole numbers that look like ids (name, a run, or many rows)."""
    n = len(text)
    if n < _MIN_ID_ROWS or missing.any() or not text.map(lambda v: bool(_INTEGER.match(v))).all():
        return False
    numbers = text.astype("int64")
    if numbers.nunique() != n:
        return False
    consecutive = int(numbers.max()) - int(numbers.min()) + 1 == n
    return bool(_ID_NAME.search(name.replace("_", ""))) or consecutive or n >= 1000


def label_positive(values: pd.Series, name: str, positive: str | None,
                    negatives: Sequence[str] = ()) -> str:
    text, missing = clean_text(values)
    if missing.any():
        rows = (np.flatnonzero(missing)[:5] + 1).tolist()
        raise DataContractError(
            f"label column {name!r} is blank in {int(missing.sum())} row(s) (data rows {rows}"
            "...); every row needs a churn value: fill them in or remove those rows"
        )
    levels = sorted(set(text))
    if negatives and positive is None:
        raise ConfigError("--negative needs --positive VALUE: the label value that means churn")
    if positive is not None:
        matches = [v for v in levels if v.lower() == positive.strip().lower()]
        if not matches:
            raise ConfigError(f"--positive {positive!r} is not a value of label column "
                              f"{name!r}; its values are {levels[:10]}")
        check_negatives(text, name, positive.strip(), negatives)
        return positive.strip()
    pair = boolean_pair(levels)
    if pair is None or len(levels) < 2:
        raise ConfigError(f"cannot tell which value of label column {name!r} means churn: "
                          f"values {levels[:10]}; pass --positive VALUE")
    return pair[0]


def check_negatives(text: pd.Series, name: str, positive: str, negatives: Sequence[str]
                     ) -> None:
    """Every label value other than ``positive`` must be named, unless there is just one."""
    counts = text.str.lower().value_counts()
    named = {v.strip().lower() for v in negatives}
    absent = sorted(v for v in named if v not in counts.index)
    if absent:
        raise ConfigError(f"--negative {absent} is not a value of label column {name!r}; its "
                          f"values are {sorted(counts.index)[:10]}")
    others = counts.drop(positive.lower())
    unnamed = others[~others.index.isin(named)]
    if (named and len(unnamed)) or (not named and len(others) > 1):
        listed = ", ".join(f"{v!r} ({n:,} rows)" for v, n in unnamed.items())
        raise ConfigError(
            f"label column {name!r} holds value(s) other than --positive {positive!r}: "
            f"{listed}; say which of them mean 'stayed' with --negative VALUE (repeatable, "
            f"e.g. {' '.join(f'--negative {v}' for v in unnamed.index[:3])}), or fix or remove "
            "those rows: they are never counted as non-churners silently")


def check_ids(values: pd.Series, id_column: str) -> None:
    """An explicit id column must be filled and unique; the error names rows, not ids."""
    ids, missing = clean_text(values)
    dup = ids.duplicated(keep=False).to_numpy(dtype=bool) & ~missing
    n_dup = int((ids[~missing].duplicated()).sum())
    if not (missing.any() or n_dup):
        return
    rows = (np.flatnonzero(dup | missing)[:6] + 1).tolist()
    raise DataContractError(
        f"id column {id_column!r} must be filled and unique: {int(missing.sum())} blank, "
        f"{n_dup} duplicate(s) (data rows {rows}...); one row per customer: remove the "
        "duplicate or blank rows (e.g. keep each customer's latest row), pick another --id, "
        "or omit --id to use row numbers"
    )


def duplicate_rows(raw: pd.DataFrame) -> tuple[str, ...]:
    """A note when whole rows repeat: they count twice and can sit on both sides of a split."""
    dup = raw.duplicated(keep="first").to_numpy(dtype=bool)
    if not dup.any():
        return ()
    rows = (np.flatnonzero(dup)[:6] + 1).tolist()
    return (f"note: {int(dup.sum())} row(s) repeat an earlier row exactly (data rows {rows}...):"
            " they count twice in training and can land on both sides of a cross-validation "
            "split; remove them if they are the same customer",)

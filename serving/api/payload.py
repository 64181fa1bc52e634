"""Posted feature rows -> typed columns the model accepts, or a message saying what to fix.

Validation follows the model's own feature schema (``ChurnModel.feature_schema()``), never the
spec list, so a model trained on a snapshot table with its own columns is checked the same way.
Work is per column, not per row: a 1,000-row batch costs a few list scans and one
``np.array`` per feature. Checks: every feature present and nothing unknown; numbers are
numbers (not true/false) and finite (NaN and infinity are refused: send ``null`` for
"no data"); categorical features are text or null.

Numbers sent as text are read as the model's type, the way its training table was read:
'619', ' 12.5 ', '-3', '1e3' are numbers. A decimal comma is read only where it cannot be a
thousands separator: one comma, no dot, and not exactly three digits after it ('12,5' and
'0,25' are 12.5 and 0.25; '1,234' is refused because it may mean 1234). Any other text in a
numeric feature is a 422 naming the feature and the row.

Categorical values are folded with the rule stored in the schema entry (``"fold"``, see
``features.normalize``), as the training rows were, so 'BİREYSEL' finds the level 'bireysel'.
A category the model never saw is accepted
and scored as missing, which is how LightGBM treats unseen levels; ``unseen_levels`` names each
such cell so the answer can warn the caller instead of scoring it silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cxchurn.errors import DataContractError, FeatureMismatchError
from features.normalize import fold_values
from features.schema import CUSTOMER_ID
from training.explain import unseen_rows

ID_COLUMNS = (CUSTOMER_ID,)
_NUMBER_TYPES = (float, int)


def _difference(schema: Mapping[str, Any], have: Sequence[str]) -> tuple[list[str], list[str]]:
    known = set(schema) | set(ID_COLUMNS)
    missing = [f for f in schema if f not in set(have)]
    extra = [c for c in have if c not in known]
    return missing, extra


def _mismatch(schema: Mapping[str, Any], missing: list[str], extra: list[str], where: str
              ) -> FeatureMismatchError:
    return FeatureMismatchError(
        f"{where}: the model expects exactly its {len(schema)} features (plus an optional "
        f"'{CUSTOMER_ID}'); missing: {missing[:20] or 'none'}"
        f"{' ...' if len(missing) > 20 else ''}; unknown: {extra[:20] or 'none'}"
        f"{' ...' if len(extra) > 20 else ''}; GET /metadata lists the features and their types"
    )


_NUMBER_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,(\d{1,2}|\d{4,})$")


def _number_from_text(name: str, text: str, row: int) -> float | None:
    """A numeric string as a float (blank -> None); anything else a 422 naming the cell."""
    value = text.strip()
    if not value:
        return None
    if _NUMBER_TEXT.match(value):
        return float(value)
    if _DECIMAL_COMMA.match(value):
        return float(value.replace(",", "."))
    hint = ("; a comma followed by three digits may be a thousands separator: send "
            "1234 or 1.234" if "," in value else "")
    raise DataContractError(
        f"feature '{name}' must be a number or null, got text {value[:40]!r} in row {row}"
        f"{hint}; send a number (quoted or not) and null for no data"
    )


def _numeric(name: str, values: Sequence[Any]) -> np.ndarray:
    if any(type(v) is str for v in values):
        values = [_number_from_text(name, v, i) if type(v) is str else v
                  for i, v in enumerate(values)]
    kinds = set(map(type, values))
    bad = kinds - {float, int, type(None)}
    if bad:
        row = next(i for i, v in enumerate(values) if type(v) in bad)
        raise DataContractError(
            f"feature '{name}' must be a number or null, got {type(values[row]).__name__} "
            f"{str(values[row])[:40]!r} in row {row}; send numbers without quotes and null for "
            "no data"
        )
    arr = np.array(values, dtype=np.float64)
    nan = np.isnan(arr)
    if float in kinds and (np.isinf(arr).any() or (nan.any() and int(nan.sum()) > sum(
            v is None for v in values))):
        row = next(i for i, v in enumerate(values)
                   if isinstance(v, float) and not math.isfinite(v))
        raise DataContractError(
            f"feature '{name}' is {values[row]} in row {row}; NaN and infinite values are "
            "not accepted: send null when there is no data"
        )
    return arr


def _categorical(name: str, values: Sequence[Any]) -> np.ndarray:
    kinds = set(map(type, values))
    bad = kinds - {str, type(None)}
    if bad:
        row = next(i for i, v in enumerate(values) if type(v) in bad)
        raise DataContractError(
            f"feature '{name}' is categorical and must be text or null, got "
            f"{type(values[row]).__name__} {str(values[row])[:40]!r} in row {row}"
        )
    return np.array(values, dtype=object)


def fold_column(spec: Mapping[str, Any], values: np.ndarray) -> np.ndarray:
    """A categorical column folded under the model's stored rule (as sent if it has none)."""
    rule = spec.get("fold")
    if not rule:
        return values
    return np.array(fold_values(values, str(rule)), dtype=object)


def typed_columns(schema: Mapping[str, Mapping[str, Any]],
                  columns: Mapping[str, Sequence[Any]]) -> dict[str, np.ndarray]:
    """Columns (name -> values) checked against the schema, as arrays the model scores."""
    out: dict[str, np.ndarray] = {}
    for name, spec in schema.items():
        values = columns[name]
        out[name] = (fold_column(spec, _categorical(name, values))
                     if spec.get("type") == "category" else _numeric(name, values))
    return out


MAX_WARNINGS = 100  # per answer; one more line says how many were left out


def unseen_levels(schema: Mapping[str, Mapping[str, Any]],
                  columns: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """One warning per cell whose category the model was never trained on (scored as missing).

    A CRM sending a new segment name gets a score either way; the warning tells it that the
    feature counted as "no data", so it can map the value or ask for a retrain.
    """
    warnings: list[dict[str, Any]] = []
    total = 0
    for name, spec in schema.items():
        if spec.get("type") != "category":
            continue
        known = list(spec.get("categories") or ())
        col = np.asarray(columns[name], dtype=object)
        unseen = unseen_rows(col, known)
        total += len(unseen)
        for row in unseen[: max(0, MAX_WARNINGS - len(warnings))]:
            warnings.append({"row": int(row), "feature": name, "warning": (
                f"'{name}' = {str(col[row])[:40]!r} is not a level the model was trained on "
                f"(known: {known[:10]}{' ...' if len(known) > 10 else ''}); scored as missing")})
    if total > len(warnings):
        warnings.append({"row": -1, "feature": "", "warning": (
            f"{total - len(warnings)} more cells with unseen categories are not listed")})
    return warnings


def _ids(values: Sequence[Any] | None, n: int) -> list[str | None]:
    if values is None:
        return [None] * n
    bad = [i for i, v in enumerate(values) if not isinstance(v, (str, int)) or isinstance(v, bool)]
    if bad:
        raise DataContractError(
            f"'{CUSTOMER_ID}' must be text (or a whole number) in every row; row {bad[0]} has "
            f"{str(values[bad[0]])[:40]!r}")
    return [str(v) for v in values]


def columns_from_records(schema: Mapping[str, Mapping[str, Any]],
                         records: Sequence[Mapping[str, Any]]
                         ) -> tuple[dict[str, np.ndarray], list[str | None]]:
    """List-of-objects rows -> (typed columns, customer ids or None per row)."""
    first = list(records[0].keys())
    key_set = set(first)
    for i, rec in enumerate(records):
        if rec.keys() != key_set:
            missing, extra = _difference(schema, list(rec.keys()))
            if missing or extra:
                raise _mismatch(schema, missing, extra, f"row {i}")
            raise DataContractError(
                f"row {i} has different keys than row 0; give every row the same features")
    missing, extra = _difference(schema, first)
    if missing or extra:
        raise _mismatch(schema, missing, extra, "rows")
    columns = {name: [rec[name] for rec in records] for name in schema}
    ids = [rec[CUSTOMER_ID] for rec in records] if CUSTOMER_ID in key_set else None
    return typed_columns(schema, columns), _ids(ids, len(records))


def columns_from_table(schema: Mapping[str, Mapping[str, Any]], columns: Sequence[str],
                       data: Sequence[Sequence[Any]]
                       ) -> tuple[dict[str, np.ndarray], list[str | None]]:
    """Column names + row lists (pandas 'split' orient) -> (typed columns, ids or None)."""
    dupes = sorted({c for c in columns if list(columns).count(c) > 1})
    if dupes:
        raise DataContractError(f"table.columns names {dupes} more than once; name each once")
    missing, extra = _difference(schema, list(columns))
    if missing or extra:
        raise _mismatch(schema, missing, extra, "table.columns")
    width = len(columns)
    lengths = {len(r) for r in data}
    if lengths != {width}:
        row = next(i for i, r in enumerate(data) if len(r) != width)
        raise DataContractError(
            f"table.data row {row} has {len(data[row])} values but table.columns names {width}; "
            "give one value per column in every row (null for no data)")
    transposed = dict(zip(columns, map(list, zip(*data, strict=True)), strict=True))
    ids = transposed.get(CUSTOMER_ID)
    return typed_columns(schema, transposed), _ids(ids, len(data))

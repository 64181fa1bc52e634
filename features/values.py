"""Column values as the contract reads them: vectorised parsing that never raises on bad values.

Each parser returns the parsed column with masks of the rows that were blank or could not be
read, so the contract's checks (``features/contract.py``) can quarantine exactly those rows
with a reason instead of dropping or guessing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_text(values: pd.Series) -> pd.Series:
    """Values as stripped ``str`` (missing stays missing), whatever type the reader produced."""
    if isinstance(values.dtype, pd.StringDtype) or values.dtype == object:
        text = values.astype("str")
    else:
        text = values.astype("str").where(values.notna())
    return text.str.strip()


def blank_mask(text: pd.Series) -> np.ndarray:
    return (text.isna() | (text == "")).to_numpy(dtype=bool)


def parse_timestamps(values: pd.Series, date_format: str | None = None
                     ) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse to ``datetime64[us, UTC]``; return (parsed, blank mask, unparseable mask).

    Naive timestamps are taken as UTC and offsets are converted to UTC, so files written in
    different zones line up. Only ISO 8601 text is accepted unless the user states the format
    (``date_format``, strptime codes such as ``%d.%m.%Y``; ISO 8601 is then still accepted):
    day-first or month-first dates are ambiguous, and guessing would silently move events
    across a cutoff.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = values.dt.tz_localize("UTC")
    else:
        text = as_text(values)
        blank = blank_mask(text)
        parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        if date_format:  # the stated format first; ISO 8601 stays accepted (never ambiguous)
            stated = pd.to_datetime(text, format=date_format, utc=True, errors="coerce")
            parsed = stated.where(stated.notna(), parsed)
        parsed = parsed.astype("datetime64[us, UTC]")
        return parsed, blank, ~blank & parsed.isna().to_numpy(dtype=bool)
    parsed = parsed.astype("datetime64[us, UTC]")
    blank = parsed.isna().to_numpy(dtype=bool)
    return parsed, blank, np.zeros(len(values), dtype=bool)


def parse_numbers(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse to float64; return (parsed, bad mask). Blank is fine (NaN); text or inf is bad."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        parsed = values.astype("float64")
        present = parsed.notna().to_numpy(dtype=bool)
    else:
        text = as_text(values)
        present = ~blank_mask(text)
        parsed = pd.to_numeric(text.where(present), errors="coerce").astype("float64")
    finite = np.isfinite(parsed.to_numpy(dtype="float64", na_value=np.nan))
    parsed = parsed.where(finite)
    return parsed, present & ~finite


def nullable_text(values: pd.Series) -> pd.Series:
    """Free text as nullable ``str``: kept as written (no stripping), missing stays missing."""
    if isinstance(values.dtype, pd.StringDtype) or values.dtype == object:
        return values.astype("str")
    return values.astype("str").where(values.notna())


__all__ = ["as_text", "blank_mask", "nullable_text", "parse_numbers", "parse_timestamps"]

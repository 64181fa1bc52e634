"""Numbers and dates as a reader of each language writes them.

English: ``1,234.5``, ``25%``, ``2024-03-31``; Turkish: ``1.234,5``, ``%25``, ``31.03.2024``.
A whole number shows no decimals, so a count reads "3", never "3.00".
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

__all__ = ["as_number", "date_text", "number_text", "percent_text"]


def as_number(value: Any) -> float | None:
    """A finite float, or None for missing, NaN, text or booleans."""
    if value is None or isinstance(value, (bool, str)):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def number_text(x: float, lang: str, decimals: int = 1, *, sign: bool = False) -> str:
    """``x`` rounded to ``decimals`` (none when whole), with the language's separators."""
    x = round(float(x), decimals)
    places = 0 if x.is_integer() else decimals
    shown = f"{x:{'+' if sign else ''},.{places}f}"
    if lang == "tr":  # swap the separators: 1,234.5 -> 1.234,5
        shown = shown.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return shown


def percent_text(share: float, lang: str) -> str:
    """A 0..1 share as a whole percentage: ``25%`` / ``%25``."""
    shown = number_text(100.0 * share, lang, 0)
    return f"%{shown}" if lang == "tr" else f"{shown}%"


def date_text(value: dt.date | dt.datetime, lang: str) -> str:
    """``2024-03-31`` in English, ``31.03.2024`` in Turkish."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return day.strftime("%d.%m.%Y") if lang == "tr" else day.isoformat()

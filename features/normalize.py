"""Category values as one level however they were typed: 'BİREYSEL' and 'bireysel' alike.

Exports written by hand spell the same level many ways: case, stray spaces, composed or
decomposed accents, and in Turkish the dotted and dotless i. Python's ``str.lower()`` turns
'İ' into 'i̇' (i + combining dot), so 'İstanbul'.lower() != 'istanbul'. The rule, applied the
same wherever a category value is read (import, training, the online store, the API):

1. Unicode NFC, surrounding whitespace stripped, inner runs of whitespace collapsed to one
   space;
2. lower-casing is Turkish-aware when the value contains a Turkish-only letter (ı İ ğ Ğ ş Ş)
   or the mapping says ``locale: tr``: 'İ' -> 'i' and 'I' -> 'ı' first, then ``lower()``;
3. otherwise plain ``lower()`` (so 'ISPARTA' and 'Isparta' both read 'isparta'; with
   ``locale: tr`` both read 'ısparta' — within one setting they always agree).

The rule works value by value (no table is needed to repeat it at serving time); the only
setting is the locale, which the mapping states once. A model stores it as ``fold_rule(locale)``
(``"default"`` or ``"tr"``) in each categorical feature's schema entry, and serving folds posted
values with ``fold_values`` under that rule before looking up the model's levels.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

TURKISH_LETTERS = frozenset("ıİğĞşŞ")
_SPACES = re.compile(r"\s+")
_TURKISH_UPPER = str.maketrans({"İ": "i", "I": "ı"})


def fold_category(text: str, locale: str | None = None) -> str:
    """The matching form of one category value (see the module docstring for the rule)."""
    value = _SPACES.sub(" ", unicodedata.normalize("NFC", text).strip())
    if locale == "tr" or not TURKISH_LETTERS.isdisjoint(value):
        value = value.translate(_TURKISH_UPPER)
    return value.lower()


# What a search box compares: Turkish letters read as their plain Latin cousins, so an agent
# typing "ayse" on an English keyboard finds "AYŞE" and "Ayşe".
_SEARCH_ASCII = str.maketrans({"ı": "i", "ğ": "g", "ş": "s", "ç": "c", "ö": "o", "ü": "u",
                               "â": "a", "î": "i", "û": "u"})


def search_key(text: str) -> str:
    """The form a search and the searched text are compared in: ``fold_category`` under the
    Turkish rule (İ/i, I/ı; NFC; spaces), then Turkish letters as plain Latin ones.

    Always Turkish-aware, because a name typed 'IŞIK' or 'Işık' or 'isik' must meet; the
    folding of category levels for models (``fold_category``) stays as it is.
    """
    return fold_category(text, "tr").translate(_SEARCH_ASCII)


def fold_rule(locale: str | None) -> str:
    """The rule's name as stored with a model: ``"default"`` or the locale (``"tr"``)."""
    return locale or "default"


def fold_values(values: Iterable[object], rule: str) -> list[object]:
    """Fold the text cells of a list under a stored rule; other cells (None, numbers) stay."""
    locale = None if rule == "default" else rule
    return [fold_category(v, locale) if isinstance(v, str) else v
            for v in values]


def merge_lines(merges: dict[str, dict[str, list[str]]]) -> list[str]:
    """One line per column whose spellings were merged: ``column: 'A', 'a' -> 'a'``."""
    out = []
    for column, groups in merges.items():
        shown = "; ".join(f"{', '.join(map(repr, raws))} -> {level!r}"
                          for level, raws in list(groups.items())[:4])
        more = f" (+{len(groups) - 4} more)" if len(groups) > 4 else ""
        out.append(f"{column}: {shown}{more}")
    return out


def fold_text_columns(frame: pd.DataFrame, skip: Iterable[str] = (), locale: str | None = None
                      ) -> tuple[pd.DataFrame, dict[str, dict[str, list[str]]]]:
    """Fold every text column of ``frame`` but ``skip``; return it and the merges per column.

    Event mode's customers file: its extra columns are the static attributes the model uses
    as categories, so they are folded when loaded, the same rule the API applies to posted
    values.
    """
    out = frame.copy()
    merges: dict[str, dict[str, list[str]]] = {}
    skipped = set(skip)
    for column in frame.columns:
        col = frame[column]
        if column in skipped or not (pd.api.types.is_object_dtype(col)
                                     or pd.api.types.is_string_dtype(col)):
            continue
        if not col.dropna().map(lambda v: isinstance(v, str)).all():
            continue
        out[column], merged = normalise_categories(col, locale)
        if merged:
            merges[str(column)] = merged
    return out, merges


def normalise_categories(values: pd.Series, locale: str | None = None
                         ) -> tuple[pd.Series, dict[str, list[str]]]:
    """Fold every value; return the folded column and the merges.

    ``merges`` maps each folded level that more than one raw spelling fell into to those
    spellings (sorted), so the caller can report once that e.g. 'BİREYSEL' and 'bireysel'
    were read as one level. Missing values stay missing.
    """
    present = values.dropna().astype(str)
    spellings = pd.unique(present)
    folded = {raw: fold_category(raw, locale) for raw in spellings}
    out = values.map(lambda v: folded[str(v)] if not pd.isna(v) else v).astype("str")
    groups: dict[str, list[str]] = {}
    for raw, level in folded.items():
        groups.setdefault(level, []).append(raw)
    merges = {level: sorted(raws) for level, raws in groups.items() if len(raws) > 1}
    return out, merges


__all__ = ["TURKISH_LETTERS", "fold_category", "fold_rule", "fold_text_columns", "fold_values",
           "merge_lines", "normalise_categories", "search_key"]

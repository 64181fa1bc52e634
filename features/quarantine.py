"""How much was quarantined, and whether that is too much to go on.

A quarantine that nobody reads is a silent drop: when every ``event_time`` is written
31.01.2025 the whole events table lands in quarantine, and the build later says only that
there is nothing to compile. So after loading, each table's quarantined share is held to a
limit (``--max-quarantined``, default 1%) and a table past it stops the command with the top
reasons, their counts, example row numbers and the likely fix.

Messages name files, columns, row numbers and the shape of a bad value (``99.99.9999``),
never a value itself: the user's own file has the values, the terminal and logs need not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from cxchurn.errors import DataContractError
from features import contract
from features.load import LoadResult

DEFAULT_MAX_QUARANTINED = 0.01
TOP_REASONS = 5
EXAMPLE_ROWS = 5

_DAY_FIRST = re.compile(r"^9{1,2}([./-])9{1,2}\1(9{4}|9{2})\b")


def shape(value: object) -> str:
    """The shape of a value without its content: digits -> 9, letters -> a (max 24 chars)."""
    text = re.sub(r"[A-Za-z]", "a", re.sub(r"\d", "9", str(value)))
    return text[:24] + ("..." if len(text) > 24 else "")


def _fix(column: str, reason: str, shapes: Sequence[str]) -> str:
    """The likely fix for one (column, reason), in plain words."""
    if reason.startswith("unparseable"):
        first = next((m for m in map(_DAY_FIRST.match, shapes) if m), None)
        if first is not None:
            sep = first.group(1)
            year = "%Y" if len(first.group(0).rsplit(sep, 1)[-1]) == 4 else "%y"
            return (f"these look like day- or month-first dates (e.g. 31{sep}01{sep}2025), which "
                    f"are never guessed because 03{sep}04{sep}2025 could be 3 April or 4 March: "
                    f"state the format with --date-format '%d{sep}%m{sep}{year}' (or "
                    f"'%m{sep}%d{sep}{year}' for month-first), or write {column} as "
                    f"{contract.TIMESTAMP_FORMAT_HINT}")
        return (f"write {column} as {contract.TIMESTAMP_FORMAT_HINT}, or state your format with "
                "--date-format (strptime codes, e.g. '%d.%m.%Y %H:%M')")
    if reason.startswith("unknown customer"):
        return ("add these customers to the customers file, or fix their rows there if the "
                "customers were quarantined (see customers.quarantine.csv)")
    if reason.startswith("unknown event_type") or reason.startswith("unknown channel"):
        return "map your names to the allowed ones (the reason lists them)"
    if reason.startswith("blank"):
        return f"fill in {column} or remove those rows"
    return "see the reason column of the quarantine file"


def fix_text(column: str, reason: str) -> str:
    """The likely fix for one rejected value (the API answers it per event)."""
    return _fix(column, reason, [])


def reason_lines(result: LoadResult, top: int = TOP_REASONS) -> list[str]:
    """Top quarantine reasons: count, column, reason, example rows, value shapes, fix."""
    rejected = result.rejected
    if rejected.empty:
        return []
    key = rejected[contract.REASON].str.split(";", n=1).str[0]
    grouped = rejected.assign(_key=key).groupby([contract.COLUMN, "_key"], sort=False)
    counts = grouped.size().sort_values(ascending=False, kind="stable")
    lines = []
    for (column, reason), count in counts.head(top).items():
        rows = grouped.get_group((column, reason))
        examples = ", ".join(str(r) for r in rows[contract.ROW].head(EXAMPLE_ROWS))
        shapes: list[str] = []
        if column in rows.columns and column != "customer_id":
            shapes = [shape(v) for v in pd.unique(rows[column].dropna().astype(str))[:3]]
        shown = f"; values shaped like {', '.join(shapes)}" if shapes else ""
        lines.append(f"{count:>10,}  {column}: {reason} (rows {examples}{shown})")
        lines.append(f"{'':>10}  fix: {_fix(str(column), str(reason), shapes)}")
    return lines


def share(result: LoadResult) -> float:
    return result.n_quarantined / result.n_read if result.n_read else 0.0


def check_quarantine(results: Sequence[LoadResult],
                     max_quarantined: float = DEFAULT_MAX_QUARANTINED) -> None:
    """Raise ``DataContractError`` when any table's quarantined share passes the limit.

    Every table past the limit is named (customers first: their rejects make their events
    'unknown customer' too), each with its top reasons, example rows and fix.
    """
    if not 0.0 <= max_quarantined <= 1.0:
        raise DataContractError(f"--max-quarantined must be a share between 0 and 1 (0.01 = "
                                f"1%); got {max_quarantined!r}")
    problems = []
    for result in results:
        if result.n_read and share(result) > max_quarantined:
            where = f" (written to {result.quarantine_path})" if result.quarantine_path else ""
            if result.n_accepted == 0:
                head = (f"all {result.n_read:,} rows of the {result.table} file "
                        f"'{result.path.name}' were quarantined{where}")
            else:
                head = (f"{result.n_quarantined:,} of {result.n_read:,} rows "
                        f"({share(result):.1%}) of the {result.table} file '{result.path.name}'"
                        f" were quarantined, more than --max-quarantined "
                        f"{max_quarantined:.1%}{where}")
            problems.append("\n".join([head + "; top reasons:", *reason_lines(result)]))
    if problems:
        raise DataContractError(
            "\n".join(problems) + "\nFix the file(s) and run again; to go on with the accepted "
            "rows anyway, raise --max-quarantined (e.g. --max-quarantined 0.05)."
        )


__all__ = ["DEFAULT_MAX_QUARANTINED", "check_quarantine", "fix_text", "reason_lines", "shape",
           "share"]

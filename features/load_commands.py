"""``cxchurn features validate``: check input files against the data contract before a run.

Kept apart from ``features/commands.py`` (owned elsewhere), which registers it with
``app.command("validate")(validate_command)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxchurn import paths
from features.load import load_tables
from features.quarantine import DEFAULT_MAX_QUARANTINED, check_quarantine, reason_lines

MaxQuarantined = Annotated[float, typer.Option(
    help="Stop (exit code 2) when a table's quarantined share of rows passes this "
    "(0.01 = 1%); the message lists the top reasons, example rows and the fix.")]
DateFormat = Annotated[str | None, typer.Option(
    help="Format of every time column (signup_date, event_time, action_time) in strptime "
    "codes, e.g. '%d.%m.%Y' for day-first dates; ISO 8601 (2025-01-31) is always read.")]


def validate_command(
    customers: Annotated[Path, typer.Option(help="Customers file (.csv, .csv.gz or .parquet).")],
    events: Annotated[Path, typer.Option(help="Events file (.csv, .csv.gz or .parquet).")],
    actions: Annotated[
        Path | None, typer.Option(help="Optional retention actions file.")
    ] = None,
    quarantine_dir: Annotated[
        Path | None,
        typer.Option(help="Where rejected rows are written; default <CXCHURN_HOME>/quarantine."),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Stop at the first bad row instead of quarantining it.")
    ] = False,
    max_quarantined: MaxQuarantined = DEFAULT_MAX_QUARANTINED,
    date_format: DateFormat = None,
) -> None:
    """Validate customers, events and (optionally) actions; quarantine bad rows with reasons.

    Prints one reconciliation line per table (read = accepted + quarantined) and the most
    common quarantine reasons. Structural problems (missing file or column) stop with a
    message that names the file, the column and the fix, and so does a table whose
    quarantined share passes --max-quarantined.
    """
    qdir = quarantine_dir if quarantine_dir is not None else paths.home() / "quarantine"
    tables = load_tables(customers, events, actions, quarantine_dir=qdir, strict=strict,
                         date_format=date_format)
    for result in tables.results:
        typer.echo(result.summary())
    check_quarantine(tables.results, max_quarantined)
    for result in tables.results:
        for line in reason_lines(result):
            typer.echo(f"  {result.table}: {line}")

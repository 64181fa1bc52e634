"""``cxchurn import``: bring your own export, with a mapping file instead of code.

``cxchurn import --suggest FILE... [--out mapping.yaml]`` proposes a mapping (commented YAML
for the user to edit); ``cxchurn import --mapping M --out DIR`` applies it and writes
``customers.parquet``, ``events.parquet`` (``actions.parquet``), the quarantine files under
``DIR/quarantine`` and ``import_report.json`` (read / left out / accepted / quarantined per
source, category merges). Past ``--max-quarantined`` it stops with exit code 2, the top
reasons and their fix, and writes no contract tables (a later build cannot pick up a partial
import); the quarantine files and the report are still written to be read.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from cxchurn.errors import ConfigError
from features.importer import Imported, apply_mapping
from features.load_commands import MaxQuarantined
from features.mapping import load_mapping
from features.quarantine import DEFAULT_MAX_QUARANTINED, check_quarantine, reason_lines

REPORT_FILE = "import_report.json"
TABLE_FILES = {"customers": "customers.parquet", "events": "events.parquet",
               "actions": "actions.parquet"}


def write_import(imported: Imported, out: Path, max_quarantined: float) -> dict[str, Path]:
    """Quarantine and report always; the contract tables only within the quarantine limit."""
    qdir = out / "quarantine"
    qdir.mkdir(parents=True, exist_ok=True)
    qpaths = {}
    for table, rejected in imported.rejected.items():
        qpaths[table] = qdir / f"{table}.quarantine.csv"
        rejected.to_csv(qpaths[table], index=False)
    report = imported.report()
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2, ensure_ascii=False),
                                   encoding="utf-8")
    for name in TABLE_FILES.values():  # a stale table from an earlier run never lingers
        (out / name).unlink(missing_ok=True)
    results = [dataclasses.replace(r, quarantine_path=qpaths.get(r.table))
               for r in imported.results]
    check_quarantine(results, max_quarantined)
    written = {}
    for table, frame in (("customers", imported.customers), ("events", imported.events),
                         ("actions", imported.actions)):
        if frame is not None:
            written[table] = out / TABLE_FILES[table]
            frame.to_parquet(written[table], index=False)
    written["report"] = out / REPORT_FILE
    return written


def _next_steps(imported: Imported, written: dict[str, Path]) -> list[str]:
    events = imported.events
    if events.empty:
        return []
    start, end = events["event_time"].min(), events["event_time"].max()
    contractual = (events["event_type"] == "cancellation").any()
    label = "contractual" if contractual else "non_contractual"
    first = (start + pd.Timedelta(days=90)).normalize().replace(day=1)
    last = (end - pd.Timedelta(days=90)).normalize().replace(day=1)
    cutoffs = (f"--start {first.date()} --end {last.date()} --every month" if first <= last
               else "--cutoffs <dates>")
    actions = f" --actions {written['actions']}" if "actions" in written else ""
    return [f"events from {start} to {end}",
            "next: features at monthly cutoffs (each needs 90 days of data after it):",
            f"  cxchurn features build --customers {written['customers']} --events "
            f"{written['events']}{actions} {cutoffs} --label {label} --horizon-days 90"]


def import_command(
    files: Annotated[list[Path] | None, typer.Argument(
        help="With --suggest: the exported files to look at (CSV, Excel, Parquet).")] = None,
    suggest: Annotated[bool, typer.Option(
        "--suggest", help="Propose a mapping from the files' headers and values.")] = False,
    mapping: Annotated[Path | None, typer.Option(
        help="The mapping YAML to apply (see docs/import.md).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="With --mapping: output folder. With --suggest: where to write the mapping "
        "(default: print it).")] = None,
    data: Annotated[Path | None, typer.Option(
        help="Folder that relative paths in the mapping start from (default: the mapping "
        "file's folder); e.g. the data folder for a shipped mapping.")] = None,
    max_quarantined: MaxQuarantined = DEFAULT_MAX_QUARANTINED,
) -> None:
    """Import your own export into the data contract through a mapping file (no code)."""
    if suggest:
        from features.suggest import suggest_mapping

        if not files:
            raise ConfigError("--suggest needs the files to look at: cxchurn import --suggest "
                              "orders.csv customers.xlsx --out mapping.yaml")
        text = suggest_mapping(list(files), out)
        if out is None:
            typer.echo(text, nl=False)
            return
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}: read every line and fix what is wrong, then run "
                   f"cxchurn import --mapping {out} --out <folder>")
        return
    if mapping is None or out is None:
        raise ConfigError("give --mapping M --out DIR to import, or --suggest FILE... to "
                          "propose a mapping")
    if files:
        raise ConfigError("files come from the mapping when importing; pass files only with "
                          "--suggest")
    imported = apply_mapping(load_mapping(mapping, data))
    for outcome in imported.sources:
        typer.echo(outcome.summary())
        typer.echo(f"    read as {outcome.how_read}")
    for column, merged in imported.merges.items():
        for level, spellings in merged.items():
            typer.echo(f"  {column}: {' / '.join(map(repr, spellings))} read as one level "
                       f"{level!r}")
    written = write_import(imported, out, max_quarantined)
    for result in imported.results:
        for line in reason_lines(result):
            typer.echo(f"  {result.table} ({result.path.name}): {line}")
    typer.echo(f"wrote {', '.join(str(p) for p in written.values())}")
    for line in _next_steps(imported, written):
        typer.echo(line)


def register(root: typer.Typer) -> None:
    root.command("import")(import_command)


__all__ = ["import_command", "register", "write_import"]

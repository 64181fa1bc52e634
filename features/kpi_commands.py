"""``cxchurn kpis``: CX KPIs per month (and per group) as a CSV, charts and a console table."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from cxchurn.errors import ConfigError


def kpis_command(
    world: Annotated[Path | None, typer.Option(
        help="A world folder written by `cxchurn simulate` (customers/events Parquet).")] = None,
    customers: Annotated[Path | None, typer.Option(
        help="Customers file (.csv or .parquet), validated against the contract.")] = None,
    events: Annotated[Path | None, typer.Option(
        help="Events file (.csv or .parquet), validated against the contract.")] = None,
    by: Annotated[list[str] | None, typer.Option(
        help="Also split each month by this group (repeatable): a customers column such as "
             "segment, region or plan, or channel / touchpoint of the survey answer.")] = None,
    out: Annotated[Path, typer.Option(help="Output folder for kpis*.csv and the PNG charts.")
                   ] = Path("kpis"),
    min_n: Annotated[int, typer.Option(help="Cells with fewer answers are flagged small and "
                                            "drawn grey.")] = 30,
    churn: Annotated[str, typer.Option(help="contractual (cancellations) or non_contractual "
                                            "(no activity within the horizon).")
                     ] = "contractual",
    horizon_days: Annotated[int | None, typer.Option(
        help="Non-contractual horizon in days; default the world's, else 30.")] = None,
    touchpoint_days: Annotated[int, typer.Option(
        help="A survey answered within this many days after a delivery, order or ticket is "
             "attributed to the latest one.")] = 7,
    start: Annotated[str | None, typer.Option(help="First month, e.g. 2024-01.")] = None,
    end: Annotated[str | None, typer.Option(help="Last month (inclusive), e.g. 2025-06.")
                   ] = None,
) -> None:
    """NPS, CSAT, CES, response and churn rates per month with 95% intervals and n."""
    from features.kpi_plots import write_plots
    from features.kpis import MONTH, KpiConfig, kpi_tables

    console = Console()
    meta: dict = {}
    if world is not None:
        if not (world / "world.json").exists():
            raise ConfigError(f"--world {str(world)!r} has no world.json; expected a folder "
                              f"written by `cxchurn simulate`.")
        meta = json.loads((world / "world.json").read_text(encoding="utf-8"))
        # the simulator writes contract-valid Parquet: DuckDB reads it without pandas
        cust_src: pd.DataFrame | Path = customers or world / "customers.parquet"
        event_src: pd.DataFrame | Path = events or world / "events.parquet"
    elif customers is None or events is None:
        raise ConfigError("give --world DIR, or both --customers and --events.")
    else:
        from features.load import load_tables

        with console.status("loading and validating input files"):
            tables = load_tables(customers, events, quarantine_dir=out / "quarantine")
        cust_src, event_src = tables.customers, tables.events
    config = KpiConfig(churn=churn, horizon_days=horizon_days or meta.get("horizon_days", 30),
                       touchpoint_days=touchpoint_days, start=start, end=end)
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    keys = list(dict.fromkeys(by or []))
    monthly, *split = kpi_tables(cust_src, event_src, [(MONTH,), *((MONTH, k) for k in keys)],
                                 min_n, config=config)
    by_key = dict(zip(keys, split, strict=True))
    seconds = time.perf_counter() - began
    written = [_csv(monthly, out / "kpis.csv")]
    written += [_csv(t, out / f"kpis_by_{key}.csv") for key, t in by_key.items()]
    written += write_plots(monthly, by_key, out)
    console.print(_console_table(monthly))
    console.print(f"KPIs in {seconds:.1f}s; wrote {len(written)} files to {out}: "
                  + ", ".join(p.name for p in written))


def _csv(table: pd.DataFrame, path: Path) -> Path:
    frame = table.copy()
    frame["month"] = frame["month"].dt.strftime("%Y-%m")
    frame.to_csv(path, index=False)
    return path


def _console_table(monthly: pd.DataFrame) -> Table:
    """Months as rows, each cell "value (n)"; a small sample dim. Intervals are in kpis.csv."""
    table = Table(title="CX KPIs by month: value (n); dim = small sample; 95% intervals in "
                        "kpis.csv")
    columns = (  # header, value, n, small flag, scale, digits
        ("NPS", "nps", "n_nps", "small_nps", 1, 0),
        ("CSAT %", "csat", "n_csat", "small_csat", 100, 0),
        ("CES", "ces_mean", "n_ces", "small_ces", 1, 2),
        ("effort≥5 %", "high_effort", "n_ces", "small_ces", 100, 0),
        ("resp. %", "response_rate", "n_active", "small_response", 100, 1),
        ("churn %", "churn_rate", "n_at_risk", "small_churn", 100, 1),
    )
    table.add_column("month")
    for header, *_ in columns:
        table.add_column(header, justify="right")
    for _, row in monthly.iterrows():
        cells = [row["month"].strftime("%Y-%m")]
        for _, value, n, small, scale, digits in columns:
            v = row[value]
            text = f"- ({row[n]})" if pd.isna(v) else f"{v * scale:.{digits}f} ({row[n]})"
            cells.append(f"[dim]{text}[/dim]" if row[small] else text)
        table.add_row(*cells)
    return table

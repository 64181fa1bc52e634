"""``cxchurn drivers``: which experiences move churn risk and NPS / CSAT, as files and charts.

Two analyses, written together to ``<out>/drivers.json`` (what ``GET /drivers`` and the
page's Experience tab read), ``churn_drivers.csv``, ``survey_drivers.csv``,
``survey_driver_features.csv`` and ``drivers.png``:

- churn (``training.churn_drivers``): the champion's SHAP mass by driver family at every
  cutoff of a feature build (its scoring population), with bootstrap intervals;
- NPS / CSAT (``training.survey_drivers``): relative weights of the experience families in
  the survey answers of a period, with direction and bootstrap intervals.

The default output folder is ``<CXCHURN_HOME>/reports/drivers``, where the service looks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from cxchurn import paths
from cxchurn.errors import ConfigError, NotFoundError

DRIVERS_FILE = "drivers.json"
PLOT_FILE = "drivers.png"


def drivers_dir(home: Path | None = None) -> Path:
    """Where ``cxchurn drivers`` writes by default and the service reads."""
    return paths.reports_dir(home) / "drivers"


def churn_rows(features_dir: Path) -> dict[str, pd.DataFrame]:
    """The feature build's rows by cutoff (each cutoff's scoring population)."""
    from features.pipeline import EXAMPLES_FILE, FEATURES_FILE
    from features.schema import CUTOFF

    path = features_dir / FEATURES_FILE
    if not path.exists():  # a build written as training examples only
        path = features_dir / EXAMPLES_FILE
    if not path.exists():
        raise NotFoundError(f"expected a feature build in {features_dir} ({FEATURES_FILE}) for "
                            "the churn drivers; run `cxchurn features build`, pass --features, "
                            "or --no-churn for the survey drivers only")
    rows = pd.read_parquet(path)
    day = rows[CUTOFF].dt.strftime("%Y-%m-%d")
    return {c: rows[day == c].reset_index(drop=True) for c in sorted(day.unique())}


def load_champion(model_name: str) -> tuple[Any, str]:
    """(model, uri) of the registered champion, or a NotFoundError saying how to get one."""
    import mlflow

    from training import registry
    from training.pyfunc import load_churn_model
    from training.tracking import setup_tracking

    setup_tracking()
    uri = registry.champion_uri(model_name)
    try:
        return load_churn_model(uri), uri
    except Exception as err:
        raise NotFoundError(
            f"could not load model {uri!r} from {mlflow.get_tracking_uri()}: {str(err)[:200]}; "
            "train one first (`cxchurn train`), pass --model-name, or --no-churn") from err


def plot_drivers(churn: pd.DataFrame, surveys: list[Any], path: Path) -> Path:
    """Left: each family's share of SHAP mass per cutoff; right: ranked survey driver bars."""
    from matplotlib.figure import Figure

    has_churn = bool(len(churn))
    fig = Figure(figsize=(4 * (int(has_churn) + len(surveys)) + 0.5, 4.5))
    panels = fig.subplots(1, max(1, int(has_churn) + len(surveys)), squeeze=False)[0]
    if has_churn:  # without --churn the chart holds the survey panels only
        left = panels[0]
        wide = churn.pivot(index="cutoff", columns="family", values="share")
        for family in wide.columns:
            left.plot(range(len(wide)), wide[family] * 100, marker="o", label=family)
        left.set_xticks(range(len(wide)), list(wide.index), rotation=30)
        left.legend(fontsize=7)
        left.set_title("Churn risk: share of SHAP mass (%)")
    for ax, result in zip(panels[int(has_churn):], surveys, strict=True):
        table = result.families.iloc[::-1]
        share = table["share"].to_numpy() * 100
        err = [share - table["share_ci_low"].to_numpy() * 100,
               table["share_ci_high"].to_numpy() * 100 - share]
        colours = ["tab:red" if d == "lowers" else "tab:green" for d in table["direction"]]
        ax.barh(table["family"], share, xerr=err, color=colours, capsize=3)
        ax.set_title(f"{result.survey.upper()}: share of explained variance (%)\n"
                     f"red: more of it, lower score (n = {result.n_answers})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def write_drivers(out: Path, churn: pd.DataFrame, surveys: list[Any],
                  meta: dict[str, Any]) -> list[Path]:
    """Write the JSON the service reads, the CSV tables and the chart."""
    from training.report import jsonable

    out.mkdir(parents=True, exist_ok=True)
    doc = {**meta, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
           "churn": churn.to_dict(orient="records"),
           "surveys": [s.to_dict() for s in surveys]}
    written = [out / DRIVERS_FILE, out / "churn_drivers.csv", out / "survey_drivers.csv",
               out / "survey_driver_features.csv"]
    written[0].write_text(json.dumps(jsonable(doc), indent=2) + "\n", encoding="utf-8")
    churn.to_csv(written[1], index=False)
    families = [s.families.assign(survey=s.survey, n_answers=s.n_answers) for s in surveys]
    features = [s.features.assign(survey=s.survey) for s in surveys]
    (pd.concat(families, ignore_index=True) if families else pd.DataFrame()).to_csv(
        written[2], index=False)
    (pd.concat(features, ignore_index=True) if features else pd.DataFrame()).to_csv(
        written[3], index=False)
    written.append(plot_drivers(churn, surveys, out / PLOT_FILE))
    return written


def drivers_command(
    world: Annotated[Path | None, typer.Option(
        help="A world folder written by `cxchurn simulate` (customers/events Parquet).")] = None,
    customers: Annotated[Path | None, typer.Option(
        help="Customers file (.csv or .parquet), validated against the contract.")] = None,
    events: Annotated[Path | None, typer.Option(
        help="Events file (.csv or .parquet), validated against the contract.")] = None,
    features: Annotated[Path | None, typer.Option(
        help="Feature build whose cutoffs the churn drivers explain (default: the home's).")
    ] = None,
    model_name: Annotated[str, typer.Option(help="Registered model whose champion to explain.")
                          ] = "cxchurn",
    churn: Annotated[bool, typer.Option(
        "--churn/--no-churn", help="Also the churn model's SHAP mass by family per cutoff.")
    ] = True,
    start: Annotated[str | None, typer.Option(help="First month of survey answers, e.g. "
                                                   "2025-01.")] = None,
    end: Annotated[str | None, typer.Option(help="Last month (inclusive), e.g. 2025-06.")
                   ] = None,
    resolution_hours: Annotated[int, typer.Option(
        help="An answer's features are taken at its time floored to this many hours.")] = 6,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")
                         ] = 200,
    out: Annotated[Path | None, typer.Option(
        help="Output folder (default <CXCHURN_HOME>/reports/drivers, which the service reads).")
    ] = None,
) -> None:
    """Key drivers: SHAP mass by family per cutoff (churn), relative weights (NPS, CSAT)."""
    from rich.console import Console

    from training.churn_drivers import shap_mass_by_cutoff
    from training.survey_drivers import survey_drivers

    if not 0 <= resamples <= 10_000:
        raise ConfigError(f"--resamples must be in 0..10000; got {resamples}")
    console = Console()
    if world is not None:
        if not (world / "world.json").exists():
            raise ConfigError(f"--world {str(world)!r} has no world.json; expected a folder "
                              "written by `cxchurn simulate`.")
        cust_src: Any = customers or world / "customers.parquet"
        event_src: Any = events or world / "events.parquet"
    elif customers is None or events is None:
        raise ConfigError("give --world DIR, or both --customers and --events.")
    else:
        from features.load import load_tables

        folder = out or drivers_dir()
        tables = load_tables(customers, events, quarantine_dir=folder / "quarantine")
        cust_src, event_src = tables.customers, tables.events
    meta: dict[str, Any] = {"period": {"start": start, "end": end},
                            "resolution_hours": resolution_hours, "resamples": resamples,
                            "model_uri": None}
    churn_table = pd.DataFrame()
    if churn:
        model, uri = load_champion(model_name)
        rows = churn_rows(features or paths.features_dir())
        with console.status("explaining every cutoff's scoring population"):
            churn_table = shap_mass_by_cutoff(model, rows, n_resamples=resamples)
        meta["model_uri"] = uri
    with console.status("relative weights of the survey answers"):
        surveys = survey_drivers(cust_src, event_src, start=start, end=end,
                                 resolution_hours=resolution_hours, n_resamples=resamples)
    written = write_drivers(out or drivers_dir(), churn_table, surveys, meta)
    _print(console, churn_table, surveys)
    console.print(f"wrote {len(written)} files to {written[0].parent}: "
                  + ", ".join(p.name for p in written))


def _print(console: Any, churn: pd.DataFrame, surveys: list[Any]) -> None:
    if len(churn):
        wide = churn.pivot(index="cutoff", columns="family", values="share") * 100
        console.print("churn risk, share of SHAP mass by family (%):")
        console.print(wide.round(1).to_string())
    for result in surveys:
        console.print(f"\n{result.survey.upper()} drivers: {result.n_answers} answers of "
                      f"{result.n_customers} customers; R² {result.r2:.3f} (95% CI "
                      f"{result.r2_ci[0]:.3f}..{result.r2_ci[1]:.3f})")
        for _, row in result.families.iterrows():
            low, high = row["share_ci_low"] * 100, row["share_ci_high"] * 100
            console.print(f"  {row['rank']}. {row['family']:<9} {row['share'] * 100:5.1f}% "
                          f"(95% CI {low:.1f}..{high:.1f})  more {row['top_feature']} "
                          f"{row['direction']} the score")

"""``cxchurn retention ...``: the at-risk list as a file, a screenshot of the page, outcomes.

* ``at-risk --out FILE`` writes the ranked list (CSV or Excel by suffix) from the champion and
  the online store in ``CXCHURN_HOME``: what the page shows, for people who want a file.
* ``screenshot --out page.png`` starts the retention page on a free local port (or uses
  ``--url`` of a running service) and saves a full-page PNG from headless Chromium.
* ``outcomes --out actions.csv`` exports the recorded outcomes as an ``actions`` table.
* ``catalogue --check FILE`` validates an edited action catalogue.

``learn-effects`` joins this group from ``uplift/commands.py`` (uplift sits above serving, so
the CLI attaches it).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from cxchurn import paths
from cxchurn.errors import ConfigError, ModelNotReadyError
from cxchurn.settings import Settings, apply_serving_mlflow_defaults

app = typer.Typer(help="Retention: at-risk list, page screenshot, outcomes, catalogue.",
                  no_args_is_help=True)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def ready_runtime(home: Path | None = None) -> Any:
    """A started ``ServingRuntime`` on ``home``; raises ModelNotReadyError saying why not."""
    from serving.api.runtime import ServingRuntime

    apply_serving_mlflow_defaults()  # like the service: an unreachable registry fails fast
    runtime = ServingRuntime(home=home, settings=Settings.from_env())
    meta = runtime.start()
    if not meta["ready"]:
        raise ModelNotReadyError(f"no model to rank customers with: {meta['reason']}")
    if not meta["online_store"].get("ready"):
        raise ModelNotReadyError(f"no customers to rank: {meta['online_store'].get('error')}")
    return runtime


def write_at_risk(out: Path, runtime: Any, *, lang: str = "en", limit: int = 1000,
                  segment: str | None = None, risk_band: str | None = None,
                  min_value: float | None = None, objective: str | None = None,
                  holdout: float | None = None, show_contacted: bool = False,
                  settings: Settings | None = None) -> tuple[Path, int, int]:
    """Write the ranked at-risk list (CSV, or Excel for .xlsx); returns (path, rows, how
    many recently contacted customers were left off).

    The same rows and columns as the page's export: recently contacted customers are left
    off unless ``show_contacted``, and each row carries contacts, owner and work status.
    """
    from serving.retention.at_risk import ListQuery, export_frame, to_csv_bytes, to_xlsx_bytes
    from serving.retention.state import RetentionState
    from serving.retention.web import work_view

    if lang not in ("en", "tr"):
        raise ConfigError(f"--lang must be 'en' or 'tr'; got {lang!r}.")
    settings = (settings or Settings.from_env()).with_overrides(policy_objective=objective,
                                                                holdout_share=holdout)
    state = RetentionState(runtime, settings)
    query = ListQuery(segment=segment, risk_band=risk_band, min_value=min_value, limit=limit,
                      show_contacted=show_contacted)
    view = work_view(state, state.book(), query, lang)
    frame = export_frame(view.records, lang)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(to_xlsx_bytes(frame) if out.suffix.lower() == ".xlsx"
                    else to_csv_bytes(frame))
    return out, len(frame), view.hidden


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_in_thread(asgi_app: Any, port: int | None = None) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free local port for the block; yields its URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(asgi_app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the retention page did not start within 30 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def screenshot(url: str, out: Path, *, width: int = 1440, height: int = 900,
               full_page: bool = True, browser: Any = None) -> Path:
    """Save a PNG of ``url`` from Debian's headless Chromium (Playwright, nothing downloaded).

    ``browser``: an already launched Playwright browser to reuse (tests); else one is started.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if browser is not None:
        _shoot(browser, url, out, width, height, full_page)
        return out
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise ConfigError(f"{CHROMIUM} not found: install Debian's chromium package "
                          f"(`make browser`, or apt-get install chromium) to take screenshots.")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            _shoot(launched, url, out, width, height, full_page)
        finally:
            launched.close()
    return out


def _shoot(browser: Any, url: str, out: Path, width: int, height: int, full_page: bool) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(url, wait_until="networkidle")
        page.screenshot(path=str(out), full_page=full_page)
    finally:
        page.close()


@app.command("at-risk")
def at_risk_command(
    out: Annotated[Path, typer.Option(help="CSV or .xlsx file to write")] = Path(
        "at_risk.csv"),
    lang: Annotated[str, typer.Option(help="en or tr")] = "en",
    limit: Annotated[int, typer.Option(help="rows, best expected net value first")] = 1000,
    segment: Annotated[str | None, typer.Option()] = None,
    risk_band: Annotated[str | None, typer.Option(help="low, medium or high")] = None,
    min_value: Annotated[float | None, typer.Option(help="minimum customer value")] = None,
    objective: Annotated[str | None, typer.Option(
        help="value (save the most value) or customers (save the most customers) "
             "[default: $CXCHURN_POLICY_OBJECTIVE or value]")] = None,
    holdout: Annotated[float | None, typer.Option(
        help="share of customers kept out at random as a control group, e.g. 0.1 "
             "[default: $CXCHURN_HOLDOUT_SHARE or 0]")] = None,
    show_contacted: Annotated[bool, typer.Option(
        help="also list customers contacted in the last CXCHURN_CONTACTED_DAYS days")] = False,
) -> None:
    """Write the ranked at-risk list with reasons, suggested actions and contacts."""
    path, n, hidden = write_at_risk(out, ready_runtime(), lang=lang, limit=limit, segment=segment,
                            risk_band=risk_band, min_value=min_value, objective=objective,
                            holdout=holdout, show_contacted=show_contacted)
    typer.echo(f"at-risk list: {n} customers -> {path}")
    if hidden:
        typer.echo(f"{hidden} customers contacted in the last "
                   f"{Settings.from_env().contacted_days} days are left off; "
                   "--show-contacted lists them")


@app.command("screenshot")
def screenshot_command(
    out: Annotated[Path, typer.Option(help="PNG file to write")] = Path("retention-page.png"),
    url: Annotated[str | None, typer.Option(
        help="page of a running service (default: start the page on CXCHURN_HOME)")] = None,
    lang: Annotated[str, typer.Option(help="en or tr")] = "en",
    customer: Annotated[str | None, typer.Option(help="shoot this customer's view")] = None,
    limit: Annotated[int, typer.Option(help="rows on the list")] = 25,
) -> None:
    """Take a screenshot of the retention page so a person can look at it."""
    path = f"/customer/{customer}?lang={lang}" if customer else f"/?lang={lang}&limit={limit}"
    if url:
        shot = screenshot(url.rstrip("/") + path, out)
    else:
        from serving.retention.app import make_retention_app

        with serve_in_thread(make_retention_app(ready_runtime())) as base:
            shot = screenshot(base + path, out)
    typer.echo(f"screenshot: {shot}")


@app.command("outcomes")
def outcomes_command(
    out: Annotated[Path, typer.Option(help="actions file (.csv or .parquet)")] = Path(
        "actions.csv"),
) -> None:
    """Export recorded outcomes as an `actions` table of the data contract."""
    from serving.retention.outcomes import OutcomeStore, default_url

    store = OutcomeStore(default_url(Settings.from_env()))
    path = store.export_actions(out)
    typer.echo(f"{len(store.as_actions())} recorded actions from {store.safe_url()} -> {path}")


@app.command("catalogue")
def catalogue_command(
    check: Annotated[Path | None, typer.Option(help="catalogue YAML to validate")] = None,
) -> None:
    """Validate an action catalogue and list its actions."""
    from serving.retention.catalogue import load_catalogue

    catalogue = load_catalogue(check or Settings.from_env().actions_file)
    typer.echo(f"{catalogue.source}: {len(catalogue)} actions, costs in {catalogue.currency}")
    for a in catalogue:
        cap = f", capacity {a.capacity}" if a.capacity is not None else ""
        never = "  never suggested (no effect)" if a.effect == 0 == a.general_effect else ""
        typer.echo(f"  {a.name:<18} {a.channel:<12} cost {a.cost:>6.2f}  effect {a.effect:.2f} "
                   f"(general {a.general_effect:.2f})  answers {', '.join(a.families)}{cap}"
                   f"{never}")


def demo_step(home: Path | None = None) -> list[str]:
    """The main job's last step: write the at-risk CSV and say how to open the page."""
    from serving.api.online_store import store_path

    home = home or paths.home()
    world = paths.world_dir(home)
    if not store_path(home).is_file() and (world / "events.parquet").is_file():
        from serving.api.commands import materialize_command

        materialize_command(world=world, out=store_path(home))
    try:
        path, n, _ = write_at_risk(paths.reports_dir(home) / "at_risk.csv",
                                   ready_runtime(home))
    except ModelNotReadyError as err:
        return [f"at-risk list skipped: {err}"]
    return [
        f"at-risk list: {n} customers ranked by expected net value -> {path}",
        "retention page: run `cxchurn serve` and open http://127.0.0.1:3000/ "
        "(or `cxchurn retention screenshot --out page.png` for a picture)",
    ]

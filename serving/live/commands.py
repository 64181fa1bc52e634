"""CLI of live ingestion: ``cxchurn replay``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from cxchurn.settings import Settings


def register(root: typer.Typer) -> None:
    """Attach ``cxchurn replay``."""
    root.command("replay")(replay_command)


def _utc(text: str, option: str) -> pd.Timestamp:
    from cxchurn.errors import ConfigError

    try:
        ts = pd.Timestamp(text)
    except ValueError as err:
        raise ConfigError(f"{option} must be an ISO date such as 2025-06-01; got "
                          f"{text[:40]!r}") from err
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def replay_command(
    world: Annotated[Path, typer.Option(help="A world folder (events.parquet).")],
    from_: Annotated[str, typer.Option("--from", help="Replay events at or after this instant "
                                       "(UTC), e.g. 2025-06-01.")],
    speed: Annotated[float, typer.Option(help="World seconds per real second (86400: a day "
                                         "per second); 0 = as fast as the service answers.")
                     ] = 0.0,
    url: Annotated[str, typer.Option(help="The running service.")] = "http://127.0.0.1:3000",
    batch: Annotated[int, typer.Option(help="Most events per POST /events.")] = 100,
    max_events: Annotated[int, typer.Option(help="Stop after this many events.")] = 10_000,
    until: Annotated[str | None, typer.Option(help="Only events before this instant.")] = None,
    lang: Annotated[str, typer.Option(help="Language of the answers' summaries: en or tr.")
                    ] = "en",
) -> None:
    """Stream a simulated world's events after --from to a running service (POST /events),
    in time order and batches, printing progress; the API key comes from CXCHURN_API_KEY."""
    from serving.live.replay import replay

    settings = Settings.from_env()
    replay(url, world, _utc(from_, "--from"), speed=speed, batch=batch,
           max_events=max_events, api_key=settings.api_key,
           end=_utc(until, "--until") if until else None, lang=lang,
           report=lambda line: typer.echo(line))

"""``cxchurn replay``: a simulated world's later events, streamed to a running service.

Events of the world with ``event_time >= --from`` are posted to ``POST /events`` in time
order, in batches, so the loop (scores following the events, alerts) can be watched on the
page and measured. ``--speed N`` plays N seconds of the world per second (0: as fast as the
service answers); ``--max-events`` bounds the run. The service's online store must have been
materialised at or before ``--from`` (``cxchurn online materialize --world DIR --cutoff
DATE``): events before the store's cutoff are already in its history and would count twice,
so the replay refuses to start then. The API key comes from ``CXCHURN_API_KEY``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cxchurn.errors import ConfigError, CxChurnError


class ReplayError(CxChurnError):
    """The service refused the replay or could not be reached."""


@dataclass
class Progress:
    sent: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    customers: int = 0
    requests: int = 0
    seconds: float = 0.0

    def line(self, now: pd.Timestamp | None) -> str:
        rate = self.sent / self.seconds if self.seconds > 0 else 0.0
        at = f", world time {now.isoformat()}" if now is not None else ""
        return (f"{self.sent:,} events sent in {self.requests:,} requests ({rate:,.0f}/s): "
                f"{self.stored:,} stored, {self.duplicates:,} duplicates, {self.rejected:,} "
                f"rejected, {self.customers:,} customer updates{at}")


def as_posted(events: pd.DataFrame) -> list[dict[str, Any]]:
    """Contract rows as ``POST /events`` objects: ISO times, missing values left out."""
    out = []
    for row in events.to_dict(orient="records"):
        item = {k: v for k, v in row.items()
                if v is not None and not (isinstance(v, float) and math.isnan(v))}
        item["event_time"] = pd.Timestamp(row["event_time"]).isoformat()
        out.append(item)
    return out


def world_events(world: Path, start: pd.Timestamp, end: pd.Timestamp | None = None
                 ) -> pd.DataFrame:
    """The world's events in ``[start, end)``, oldest first (ties in file order)."""
    path = next((world / n for n in ("events.parquet", "events.csv") if (world / n).is_file()),
                None)
    if path is None:
        raise ConfigError(f"--world {str(world)!r} has no events.parquet or events.csv; give a "
                          "world folder written by `cxchurn simulate --out DIR`")
    events = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    times = pd.to_datetime(events["event_time"], utc=True)
    keep = (times >= start) & ((times < end) if end is not None else True)
    events = events.loc[keep].assign(event_time=times[keep])
    return events.sort_values("event_time", kind="stable").reset_index(drop=True)


def batches(events: pd.DataFrame, size: int, speed: float,
            clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> Iterator[pd.DataFrame]:
    """Batches of at most ``size`` events, each sent once its world time is due at ``speed``."""
    if len(events) == 0:
        return
    first = pd.Timestamp(events["event_time"].iloc[0])
    began = clock()
    offsets = ((pd.to_datetime(events["event_time"], utc=True) - first).dt.total_seconds()
               .to_numpy())
    i = 0
    while i < len(events):
        if speed > 0:
            wait = offsets[i] / speed - (clock() - began)
            if wait > 0:
                sleep(wait)
            due = (clock() - began) * speed
            j = i + 1
            while j < len(events) and j - i < size and offsets[j] <= due:
                j += 1
        else:
            j = min(i + size, len(events))
        yield events.iloc[i:j]
        i = j


def replay(url: str, world: Path, start: pd.Timestamp, *, speed: float = 0.0,
           batch: int = 100, max_events: int = 10_000, api_key: str | None = None,
           end: pd.Timestamp | None = None, lang: str = "en",
           report: Callable[[str], None] = print, every: float = 2.0) -> Progress:
    """Stream the events; print progress every ``every`` seconds and at the end."""
    import httpx

    if batch < 1 or max_events < 1 or speed < 0:
        raise ConfigError("--batch and --max-events must be at least 1 and --speed >= 0")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    base = url.rstrip("/")
    try:
        return _stream(httpx.Client(base_url=base, headers=headers, timeout=120), base, world,
                       start, end, speed, batch, max_events, lang, report, every)
    except httpx.HTTPError as err:
        raise ReplayError(f"cannot reach the service at {base} ({type(err).__name__}); start "
                          "it with `cxchurn serve` or pass --url") from err


def _stream(client: Any, base: str, world: Path, start: pd.Timestamp,
            end: pd.Timestamp | None, speed: float, batch: int, max_events: int, lang: str,
            report: Callable[[str], None], every: float) -> Progress:
    with client:
        _check_store(client, start)
        events = world_events(world, start, end).head(max_events)
        report(f"replaying {len(events):,} events from {start.isoformat()} to {base} "
               f"(batches of {batch}, speed {'max' if speed == 0 else f'{speed:g}x'})")
        progress, began, shown = Progress(), time.monotonic(), time.monotonic()
        for part in batches(events, batch, speed):
            answer = _post(client, {"events": as_posted(part), "lang": lang})
            progress.sent += len(part)
            progress.requests += 1
            progress.stored += int(answer["stored"])
            progress.duplicates += int(answer["duplicates"])
            progress.rejected += int(answer["rejected"])
            progress.customers += len(answer["customers"])
            progress.seconds = time.monotonic() - began
            if time.monotonic() - shown >= every:
                report(progress.line(pd.Timestamp(part["event_time"].iloc[-1])))
                shown = time.monotonic()
        report("done: " + progress.line(None))
        return progress


def _check_store(client: Any, start: pd.Timestamp) -> None:
    meta = _json(client.get("/metadata"), "/metadata")
    cutoff = (meta.get("online_store") or {}).get("cutoff")
    if cutoff and pd.Timestamp(cutoff) > start:
        raise ReplayError(
            f"the service's online store was materialised at {cutoff}, after --from "
            f"{start.isoformat()}: its history already holds those events and they would count "
            "twice. Materialise at the replay's start (`cxchurn online materialize --world DIR "
            f"--cutoff {start.date()}`, then POST /reload) or replay from {cutoff}")


def _post(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    return _json(client.post("/events", json=body), "/events")


def _json(response: Any, path: str) -> dict[str, Any]:
    if response.status_code != 200:
        try:
            message = response.json().get("error", response.text[:300])
        except ValueError:
            message = response.text[:300]
        raise ReplayError(f"{path} answered {response.status_code}: {message}")
    out: dict[str, Any] = response.json()
    return out


__all__ = ["Progress", "as_posted", "batches", "replay", "world_events"]

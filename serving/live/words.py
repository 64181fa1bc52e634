"""What an ingest changed, in plain words: the new events and the drivers that moved.

"risk 0.08 -> 0.31: complaint today, NPS survey score 2". The events are told with the labels
and details the customer timeline uses (``serving.messages`` "event", ``event_detail``), the
drivers with the reasons ``/explain`` gives (``serving.reasons``), so the words match the page.
Sessions and email opens are left out of the summary when anything else happened: they are
many and say little one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from serving.messages import section, text
from serving.reasons.numbers import number_text
from serving.retention.history import QUIET, event_detail

MAX_EVENTS_TOLD = 3


DAY_NS = 86_400 * 10**9


def _when(event_time: pd.Timestamp, cutoff: pd.Timestamp, lang: str) -> str:
    """Days between the event's day and the day before the cutoff (the live "today")."""
    n = (pd.Timestamp(cutoff).value - DAY_NS) // DAY_NS - pd.Timestamp(event_time).value // DAY_NS
    if n <= 0:
        return text("live", "today", lang)
    if n == 1:
        return text("live", "yesterday", lang)
    return text("live", "days_ago", lang).format(n=n)


def event_phrases(events: Sequence[Mapping[str, Any]], cutoff: pd.Timestamp, lang: str
                  ) -> list[str]:
    """One phrase per told event, newest first ("Complaint today", "NPS survey score 2 ...")."""
    labels = section("event", lang)
    loud = [e for e in events if e["event_type"] not in QUIET] or list(events)
    ordered = sorted(loud, key=lambda e: pd.Timestamp(e["event_time"]), reverse=True)
    out = []
    for event in ordered[:MAX_EVENTS_TOLD]:
        kind = str(event["event_type"])
        detail = event_detail(dict(event), lang)
        words = [labels.get(kind, kind.replace("_", " ")), detail,
                 _when(pd.Timestamp(event["event_time"]), cutoff, lang)]
        out.append(" ".join(w for w in words if w))
    if len(ordered) > MAX_EVENTS_TOLD:
        out.append(text("live", "more", lang).format(n=len(ordered) - MAX_EVENTS_TOLD))
    return out


def moved_drivers(old_shap: np.ndarray | None, new_shap: np.ndarray, features: Sequence[str],
                  drivers: Sequence[Mapping[str, Any]], rising: bool) -> list[str]:
    """Reasons of the new top drivers whose SHAP moved the way the risk moved, most first.

    ``drivers``: the new top drivers (``/explain`` entries with ``feature`` and ``reason``);
    the SHAP arrays are the customer's full rows before and after, in ``features`` order.
    """
    if old_shap is None:
        return [str(d["reason"]) for d in drivers[:1]]
    position = {f: i for i, f in enumerate(features)}
    moved = []
    for d in drivers:
        j = position[str(d["feature"])]
        delta = float(new_shap[j] - old_shap[j])
        if (delta > 0) == rising and abs(delta) > 1e-9:
            moved.append((abs(delta), str(d["reason"])))
    return [r for _, r in sorted(moved, reverse=True)[:2]]


def summary(old: float | None, new: float, phrases: Sequence[str], lang: str) -> str:
    """'risk 0.08 -> 0.31: complaint today, NPS 2' (numbers written the language's way)."""
    what = ", ".join(phrases)
    if old is None:
        return text("live", "first", lang).format(new=number_text(new, lang, 2), what=what)
    return text("live", "change", lang).format(old=number_text(old, lang, 2),
                                               new=number_text(new, lang, 2), what=what)


def gone(phrases: Sequence[str], cutoff: pd.Timestamp, lang: str) -> str:
    """A customer no longer eligible (cancelled) after the new events."""
    return text("live", "gone", lang).format(what=", ".join(phrases),
                                             cutoff=pd.Timestamp(cutoff).date().isoformat())


__all__ = ["event_phrases", "gone", "moved_drivers", "summary"]

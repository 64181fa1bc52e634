"""What the Experience tab draws, from ``kpi_table`` results: cards, a trend, a heat map, bars.

Pure functions from tables to plain dicts; the template (``page/experience.html``) turns them
into HTML and inline SVG, so the words come from the message catalogue in the page's language
and nothing is rendered per request but text. Numbers are formatted for the language (Turkish:
decimal comma, dot for thousands, ``%12,5``). Small samples are drawn grey, never left out, and
every cell and point carries its n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.kpis import MONTH
from serving.retention.kpi_models import KPI_COLUMNS, finite_or_none

MISSING = "–"


@dataclass(frozen=True)
class Shown:
    """How a KPI is shown: scale (shares in percent), digits, and whether higher is better."""

    scale: float
    digits: int
    percent: bool
    higher_is_better: bool


SHOWN = {
    "nps": Shown(1.0, 0, False, True),
    "csat": Shown(100.0, 1, True, True),
    "ces": Shown(1.0, 2, False, False),
    "high_effort": Shown(100.0, 1, True, False),
    "response_rate": Shown(100.0, 1, True, True),
    "churn_rate": Shown(100.0, 2, True, False),
}
CARDS = ("nps", "csat", "ces", "churn_rate")
CHART_KPIS = ("nps", "csat", "ces", "churn_rate")  # the page's KPI choice for trend and heat map


def number(value: float | None, digits: int, lang: str, sign: bool = False) -> str:
    """``1,234.5`` in English, ``1.234,5`` in Turkish; ``–`` for a missing value."""
    if value is None or not math.isfinite(float(value)):
        return MISSING
    rounded = round(float(value), digits) + 0.0  # + 0.0: no "-0" for a small negative
    text = f"{rounded:{'+' if sign else ''},.{digits}f}"
    if lang == "tr":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def count(n: Any, lang: str) -> str:
    return MISSING if n is None or pd.isna(n) else number(int(n), 0, lang)


def kpi_text(kpi: str, value: float | None, lang: str, sign: bool = False,
             unit: bool = True) -> str:
    """A KPI value as read on the page: ``78.4%`` / ``%78,4``, NPS in points, CES as a mean."""
    shown = SHOWN[kpi]
    if value is None or not math.isfinite(float(value)):
        return MISSING
    text = number(float(value) * shown.scale, shown.digits, lang, sign)
    if not (shown.percent and unit):
        return text
    return f"%{text}" if lang == "tr" else f"{text}%"


def _cell(row: pd.Series | None, kpi: str) -> dict[str, Any]:
    if row is None:
        return {"value": None, "low": None, "high": None, "n": None, "small": True}
    value, low, high, n, small = KPI_COLUMNS[kpi]
    get = finite_or_none
    return {"value": get(row[value]), "low": get(row[low]), "high": get(row[high]),
            "n": None if pd.isna(row[n]) else int(row[n]), "small": bool(row[small])}


def interval_text(kpi: str, cell: dict[str, Any], lang: str) -> str:
    if cell["low"] is None or cell["high"] is None:
        return MISSING
    return f"{kpi_text(kpi, cell['low'], lang)} – {kpi_text(kpi, cell['high'], lang)}"


def cards(monthly: pd.DataFrame, month: pd.Timestamp | None, lang: str) -> list[dict[str, Any]]:
    """The latest complete month's NPS, CSAT, CES and churn, with the change vs the month
    before (``better`` says whether the change is good news for that KPI)."""
    by_month = {m: row for m, row in monthly.set_index(MONTH, drop=False).iterrows()}
    now = by_month.get(month) if month is not None else None
    before = by_month.get(month - pd.DateOffset(months=1)) if month is not None else None
    out = []
    for kpi in CARDS:
        cell, prev = _cell(now, kpi), _cell(before, kpi)
        delta = (cell["value"] - prev["value"]
                 if cell["value"] is not None and prev["value"] is not None else None)
        better = None if not delta else (delta > 0) == SHOWN[kpi].higher_is_better
        out.append({"kpi": kpi, "value": kpi_text(kpi, cell["value"], lang),
                    "interval": interval_text(kpi, cell, lang), "n": count(cell["n"], lang),
                    "small": cell["small"], "delta": kpi_text(kpi, delta, lang, sign=True,
                                                              unit=False),
                    "points": SHOWN[kpi].percent,
                    "better": better, "has_delta": delta is not None})
    return out


def month_rows(monthly: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """The monthly table: every KPI with its interval and n, newest month first."""
    rows = []
    for _, row in monthly.sort_values(MONTH, ascending=False).iterrows():
        cells = {}
        for kpi in KPI_COLUMNS:
            cell = _cell(row, kpi)
            cells[kpi] = {**cell, "text": kpi_text(kpi, cell["value"], lang),
                          "interval": interval_text(kpi, cell, lang),
                          "n_text": count(cell["n"], lang)}
        rows.append({"month": row[MONTH].strftime("%Y-%m"), "cells": cells})
    return rows


# ---------------------------------------------------------------------------- charts
W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 260, 48, 12, 14, 52


def _x(i: int, count_: int) -> float:
    return LEFT + (W - LEFT - RIGHT) * (0.5 if count_ <= 1 else i / (count_ - 1))


def _ticks(low: float, high: float, steps: int = 4) -> list[float]:
    raw = (high - low) / steps
    if raw <= 0 or not math.isfinite(raw):
        return [low]
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step) + 1)]


def _month_labels(months: list[pd.Timestamp], y: float) -> list[dict[str, Any]]:
    step = max(1, math.ceil(len(months) / 10))
    return [{"x": _x(i, len(months)), "y": y, "text": m.strftime("%Y-%m")}
            for i, m in enumerate(months) if i % step == 0]


def trend(monthly: pd.DataFrame, kpi: str, lang: str) -> dict[str, Any]:
    """A line with its 95% band; small months as grey hollow points; n under every month."""
    t = monthly.sort_values(MONTH).reset_index(drop=True)
    cells = [_cell(row, kpi) for _, row in t.iterrows()]
    scale = SHOWN[kpi].scale
    seen = [v * scale for c in cells for v in (c["value"], c["low"], c["high"])
            if v is not None]
    low, high = (min(seen), max(seen)) if seen else (0.0, 1.0)
    pad = (high - low) * 0.08 or 1.0
    low, high = low - pad, high + pad
    bottom = H - BOTTOM

    def y(v: float) -> float:
        return TOP + (high - v * scale) / (high - low) * (bottom - TOP)

    months = list(t[MONTH])
    points, band = [], []
    run: list[int] = []
    for i, c in enumerate([*cells, {"low": None, "high": None}]):
        if c["low"] is not None and c["high"] is not None:
            run.append(i)
            continue
        if run:  # a stretch of months with an interval: one closed band polygon
            top = [f"{_x(j, len(cells)):.1f},{y(cells[j]['high']):.1f}" for j in run]
            base = [f"{_x(j, len(cells)):.1f},{y(cells[j]['low']):.1f}" for j in run[::-1]]
            band.append(" ".join(top + base))
            run = []
    path, joined = [], False  # the line joins trusted months only; a gap starts a new piece
    for i, c in enumerate(cells):
        x = _x(i, len(cells))
        trusted = c["value"] is not None and not c["small"]
        if c["value"] is not None:
            points.append({"x": x, "y": y(c["value"]), "small": c["small"],
                           "title": f"{months[i]:%Y-%m}: {kpi_text(kpi, c['value'], lang)} "
                                    f"[{interval_text(kpi, c, lang)}], n = "
                                    f"{count(c['n'], lang)}"})
        if trusted:
            path.append(f"{'L' if joined else 'M'}{x:.1f},{y(c['value']):.1f}")
        joined = trusted
    n_labels = [{"x": _x(i, len(cells)), "y": bottom + 12, "text": count(c["n"], lang),
                 "small": c["small"]} for i, c in enumerate(cells)]
    return {"width": W, "height": H, "band": band, "path": " ".join(path), "points": points,
            "n_labels": n_labels, "months": _month_labels(months, bottom + 30),
            "yticks": [{"y": TOP + (high - v) / (high - low) * (bottom - TOP),
                        "text": number(v, 0 if SHOWN[kpi].digits < 2 else 1, lang)}
                       for v in _ticks(low, high)],
            "left": LEFT, "right": W - RIGHT, "top": TOP, "bottom": bottom}


def composition(monthly: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Detractors, passives, promoters stacked to 100% per month; small months faded."""
    t = monthly.sort_values(MONTH).reset_index(drop=True)
    bottom, top = H - BOTTOM, TOP + 12
    width = max(4.0, (W - LEFT - RIGHT) / max(len(t), 1) * 0.75)
    bars = []
    for i, (_, row) in enumerate(t.iterrows()):
        x, base, parts = _x(i, len(t)), 0.0, []
        for part in ("detractors", "passives", "promoters"):
            share = 0.0 if pd.isna(row[part]) else float(row[part])
            y1 = bottom - (base + share) * (bottom - top)
            parts.append({"part": part, "y": y1, "h": share * (bottom - top),
                          "share": kpi_text("csat", share, lang)})
            base += share
        bars.append({"x": x - width / 2, "cx": x, "w": width, "parts": parts,
                     "small": bool(row["small_nps"]), "n": count(row["n_nps"], lang),
                     "month": row[MONTH].strftime("%Y-%m"), "label_y": top - 3})
    return {"width": W, "height": H, "bars": bars, "left": LEFT, "right": W - RIGHT,
            "bottom": bottom, "months": _month_labels(list(t[MONTH]), bottom + 16)}


def _colour(score: float) -> str:
    """0 (bad) .. 1 (good) on a red - amber - green ramp."""
    stops = ((0.0, (215, 48, 31)), (0.5, (254, 224, 139)), (1.0, (26, 152, 80)))
    score = float(np.clip(score, 0.0, 1.0))
    (a, ca), (b, cb) = ((stops[0], stops[1]) if score <= 0.5 else (stops[1], stops[2]))
    f = (score - a) / (b - a)
    r, g, bl = (round(x + (y - x) * f) for x, y in zip(ca, cb, strict=True))
    return f"rgb({r},{g},{bl})"


def heatmap(table: pd.DataFrame, key: str, kpi: str, lang: str) -> dict[str, Any]:
    """Levels of ``key`` x months: each cell coloured by the KPI, with value and n; small
    cells grey (coloured only by the trusted cells' range)."""
    months = sorted(table[MONTH].unique())
    rows, trusted = [], []
    cells_by_level: dict[str, list[dict[str, Any]]] = {}
    for level, part in table.groupby(key, sort=True):
        by_month = {m: r for m, r in part.set_index(MONTH, drop=False).iterrows()}
        cells_by_level[str(level)] = [_cell(by_month.get(m), kpi) for m in months]
        trusted += [c["value"] for c in cells_by_level[str(level)]
                    if c["value"] is not None and not c["small"]]
    low, high = (min(trusted), max(trusted)) if trusted else (0.0, 1.0)
    for level, cells in cells_by_level.items():
        shown = []
        for c in cells:
            colour = None
            if c["value"] is not None and not c["small"]:
                score = 0.5 if high == low else (c["value"] - low) / (high - low)
                colour = _colour(score if SHOWN[kpi].higher_is_better else 1 - score)
            shown.append({**c, "text": kpi_text(kpi, c["value"], lang),
                          "n_text": count(c["n"], lang), "colour": colour,
                          "interval": interval_text(kpi, c, lang)})
        rows.append({"level": level, "cells": shown})
    return {"months": [pd.Timestamp(m).strftime("%Y-%m") for m in months], "rows": rows}

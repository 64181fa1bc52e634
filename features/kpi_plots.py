"""KPI charts read at a glance, written as PNG files from a ``kpis.kpi_table`` result.

Drawn with matplotlib's Agg backend on explicit figures (no pyplot state, no display). Small
samples (``small_<kpi>``) are drawn in grey, never hidden, and every point or cell states its
n, so a reader sees both the value and how much to trust it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from features.kpis import MONTH

GREY = "#b0b0b0"


@dataclass(frozen=True)
class Kpi:
    column: str
    n: str
    small: str
    label: str
    scale: float = 1.0  # shares are drawn in percent
    limits: tuple[float, float] | None = None


KPIS = {
    "nps": Kpi("nps", "n_nps", "small_nps", "NPS (points)", 1.0, (-100, 100)),
    "csat": Kpi("csat", "n_csat", "small_csat", "CSAT (% answering 4-5)", 100.0, (0, 100)),
    "ces_mean": Kpi("ces_mean", "n_ces", "small_ces", "mean CES (1-7, higher = harder)", 1.0,
                    (1, 7)),
    "high_effort": Kpi("high_effort", "n_ces", "small_ces", "high effort (% CES >= 5)", 100.0,
                       (0, 100)),
    "response_rate": Kpi("response_rate", "n_active", "small_response",
                         "response rate (% of active customers)", 100.0, (0, 100)),
    "churn_rate": Kpi("churn_rate", "n_at_risk", "small_churn", "monthly churn rate (%)", 100.0),
}


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _bounds(kpi: Kpi) -> tuple[str, str]:
    stem = {"response_rate": "response", "churn_rate": "churn", "ces_mean": "ces"}.get(
        kpi.column, kpi.column)
    return f"{stem}_ci_low", f"{stem}_ci_high"


def _months_axis(ax: Axes, months: pd.Series) -> np.ndarray:
    x = np.arange(len(months))
    step = max(1, len(months) // 12)
    ax.set_xticks(x[::step], [m.strftime("%Y-%m") for m in months[::step]], rotation=45,
                  ha="right")
    return x


def plot_trend(table: pd.DataFrame, kpi: str, path: Path) -> Path:
    """A monthly line with its 95% band; small samples as grey hollow points; n under each."""
    spec = KPIS[kpi]
    t = table.sort_values(MONTH).reset_index(drop=True)
    low, high = _bounds(spec)
    y = t[spec.column].to_numpy(dtype=float) * spec.scale
    lo = t[low].to_numpy(dtype=float) * spec.scale
    hi = t[high].to_numpy(dtype=float) * spec.scale
    small = t[spec.small].to_numpy(dtype=bool)
    fig = Figure(figsize=(max(6.0, 0.4 * len(t) + 2), 4))
    ax = fig.subplots()
    x = _months_axis(ax, t[MONTH])
    ax.fill_between(x, lo, hi, color="tab:blue", alpha=0.18, label="95% interval")
    ax.plot(x, np.where(small, np.nan, y), "o-", color="tab:blue", label=spec.label)
    ax.plot(x, np.where(small, y, np.nan), "o", mfc="white", color=GREY,
            label="small sample (n < min_n)")
    if spec.limits:
        ax.set_ylim(*spec.limits)
    bottom = ax.get_ylim()[0]
    for xi, n, s in zip(x, t[spec.n], small, strict=True):
        label = "-" if pd.isna(n) else f"{int(n)}"
        ax.annotate(label, (xi, bottom), xytext=(0, 3), textcoords="offset points",
                    ha="center", fontsize=7, color=GREY if s else "black")
    ax.set(title=f"{spec.label} by month (numbers: n)", ylabel=spec.label)
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def plot_heatmap(table: pd.DataFrame, key: str, path: Path, kpi: str = "nps") -> Path:
    """Levels of ``key`` x months, coloured by the KPI; each cell shows value and n.

    Small cells are painted grey with grey text: visible, but clearly not to be trusted.
    """
    spec = KPIS[kpi]
    values = table.pivot(index=key, columns=MONTH, values=spec.column) * spec.scale
    ns = table.pivot(index=key, columns=MONTH, values=spec.n)
    small = table.pivot(index=key, columns=MONTH, values=spec.small).astype(bool)
    months = pd.Series(values.columns)
    fig = Figure(figsize=(max(6.0, 0.55 * len(months) + 3), 0.8 * len(values) + 2))
    ax = fig.subplots()
    shown = np.ma.masked_array(values.to_numpy(dtype=float),
                               mask=small.to_numpy() | values.isna().to_numpy())
    finite = values.to_numpy(dtype=float)[np.isfinite(values.to_numpy(dtype=float))]
    vmin, vmax = spec.limits or ((finite.min(), finite.max()) if finite.size else (0.0, 1.0))
    cmap = "RdYlGn_r" if kpi in ("ces_mean", "high_effort", "churn_rate") else "RdYlGn"
    ax.imshow(np.where(shown.mask, 1.0, np.nan), cmap="Greys", vmin=0, vmax=4, aspect="auto")
    image = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v, n, s = values.iat[i, j], ns.iat[i, j], small.iat[i, j]
            text = ("" if pd.isna(v) else f"{v:.0f}\n") + ("n=-" if pd.isna(n) else f"n={n}")
            ax.text(j, i, text, ha="center", va="center", fontsize=6.5,
                    color="dimgrey" if s else "black", style="italic" if s else "normal")
    ax.set_yticks(range(values.shape[0]), [str(v) for v in values.index])
    _months_axis(ax, months)
    ax.set(title=f"{spec.label} by {key} and month (grey: n < min_n)")
    fig.colorbar(image, ax=ax, label=spec.label)
    return _save(fig, path)


def plot_nps_composition(table: pd.DataFrame, path: Path) -> Path:
    """Detractors / passives / promoters stacked to 100% per month; small months faded, n on top."""
    t = table.sort_values(MONTH).reset_index(drop=True)
    fig = Figure(figsize=(max(6.0, 0.4 * len(t) + 2), 4))
    ax = fig.subplots()
    x = _months_axis(ax, t[MONTH])
    alpha = np.where(t["small_nps"].to_numpy(dtype=bool), 0.3, 1.0)
    base = np.zeros(len(t))
    handles = []
    for part, colour in (("detractors", "#d7301f"), ("passives", "#bdbdbd"),
                         ("promoters", "#1a9850")):
        share = np.nan_to_num(t[part].to_numpy(dtype=float) * 100)
        for xi, h, b, a in zip(x, share, base, alpha, strict=True):
            ax.bar(xi, h, bottom=b, color=colour, alpha=a, width=0.8)
        handles.append(Patch(color=colour, label=part))
        base = base + share
    for xi, n in zip(x, t["n_nps"], strict=True):
        ax.annotate(f"{int(n)}", (xi, 100), xytext=(0, 2), textcoords="offset points",
                    ha="center", fontsize=7)
    ax.set(ylim=(0, 108), ylabel="% of NPS answers",
           title="NPS composition by month (numbers: n; faded: n < min_n)")
    ax.legend(handles=handles[::-1], loc="lower left", fontsize=8)
    return _save(fig, path)


def write_plots(monthly: pd.DataFrame, by_key: Mapping[str, pd.DataFrame], folder: Path
                ) -> list[Path]:
    """Every chart for a monthly table and, per group key, its month x level table."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [plot_trend(monthly, kpi, folder / f"{kpi}_trend.png")
             for kpi in ("nps", "csat", "ces_mean", "churn_rate")]
    paths.append(plot_nps_composition(monthly, folder / "nps_composition.png"))
    for key, table in by_key.items():
        paths.append(plot_heatmap(table, key, folder / f"nps_heatmap_{key}.png"))
    return paths

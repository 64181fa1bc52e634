"""The learned-effects report: a chart and a page a data scientist reads before deploying.

Learned effects change who gets called, so they are reviewed by a person first: the chart puts
each action's prior beside its estimate with a 95% interval, the page adds the counts behind
them (treated, churned, expected churned had they not been treated).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from uplift.effects import EffectFit


def effects_markdown(fit: EffectFit, window_days: float) -> str:
    """The table as markdown, with what the numbers mean."""
    lines = [
        "# Learned retention action effects",
        "",
        f"Fitted on {fit.rows:,} labelled rows (treated within {window_days:g} days of a "
        f"cutoff, plus untreated rows at the same cutoffs). Score recalibration: "
        f"a = {fit.calibration[0]:.3f}, b = {fit.calibration[1]:.3f}.",
        "Effects are shares of the churn log-odds the answered (effect) and other experience "
        "(general) driver families add that the action removes; ± is one standard error.",
        "Only randomly assigned actions give unbiased effects.",
        *_crossfit_lines(fit),
        "",
        "| action | treated | churned | expected if untreated | effect prior → learned "
        "| general prior → learned |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in fit.table.itertuples():
        if r.learned:
            eff = f"{r.prior_effect:.2f} → {r.effect:.2f} ± {r.effect_se:.2f}"
            gen = f"{r.prior_general:.2f} → {r.general_effect:.2f} ± {r.general_se:.2f}"
        else:
            eff = f"{r.prior_effect:.2f} (kept: too few treated)"
            gen = f"{r.prior_general:.2f} (kept)"
        lines.append(f"| {r.action} | {r.treated:,} | {r.churned:,} | "
                     f"{r.expected_untreated:.1f} | {eff} | {gen} |")
    return "\n".join(lines) + "\n"


def _crossfit_lines(fit: EffectFit) -> list[str]:
    """How the scores were made: a reader must know no customer was scored by a model that
    had seen its outcome, or the effects cannot be trusted."""
    if fit.folds.empty:
        return []
    f = fit.folds
    return [
        "",
        f"Scores and drivers are cross-fitted: customers were split into {len(f)} folds and "
        f"each fold was scored by a churn model trained only on the other folds' untreated "
        f"rows ({f['train_rows'].min():,}–{f['train_rows'].max():,} rows per model).",
    ]


def effects_chart(fit: EffectFit, out: Path) -> Path:
    """Priors (hollow) and learned effects (filled, 95% interval) per action, as a PNG."""
    table = fit.table
    y = np.arange(len(table))
    fig = Figure(figsize=(10, 0.5 * len(table) + 1.6))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, (est, se, prior, title) in zip(axes, (
            ("effect", "effect_se", "prior_effect", "effect (answered drivers)"),
            ("general_effect", "general_se", "prior_general", "general effect (other drivers)"),
    ), strict=True):
        err = np.nan_to_num(1.96 * table[se].to_numpy(dtype=float))
        ax.errorbar(table[est], y, xerr=err, fmt="o", color="#1f5f8b", label="learned (95%)")
        ax.scatter(table[prior], y, facecolors="none", edgecolors="#b8562a", label="prior")
        ax.set_title(title)
        ax.set_xlim(left=0)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, table["action"])
    axes[0].invert_yaxis()
    axes[1].legend(loc="lower right")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    return out

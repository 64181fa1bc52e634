"""The key drivers ``cxchurn drivers`` wrote, read for ``GET /drivers`` and the Experience tab.

Nothing here computes a driver: the analyses (SHAP mass per family per cutoff over every
scoring population, relative weights with bootstrap intervals over thousands of answers) take
seconds to minutes, so the command writes ``<home>/reports/drivers/drivers.json`` and both the
API and the page read that one file, so they always show the same numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cxchurn.errors import NotFoundError
from serving.messages import section
from serving.reasons.numbers import as_number, percent_text
from training.driver_commands import DRIVERS_FILE, drivers_dir

CHURN_CUTOFFS_SHOWN = 6  # the page's churn table: the newest cutoffs


def drivers_path(home: Path) -> Path:
    return drivers_dir(Path(home)) / DRIVERS_FILE


def load_drivers(home: Path) -> dict[str, Any]:
    """The command's JSON, or a 404 that says how to make it."""
    path = drivers_path(home)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"no driver analysis at {str(path)!r}: run `cxchurn drivers "
                            "--world DIR` (or --customers/--events) to write it") from None
    except (OSError, ValueError) as err:
        raise NotFoundError(f"the driver analysis at {str(path)!r} cannot be read ({err}); "
                            "run `cxchurn drivers` again") from None
    if not isinstance(doc, dict):
        raise NotFoundError(f"the driver analysis at {str(path)!r} is not an object; run "
                            "`cxchurn drivers` again")
    return doc


def _pct(x: Any, lang: str) -> str:
    value = as_number(x)
    return "–" if value is None else percent_text(value, lang)


def survey_bars(survey: dict[str, Any], lang: str) -> dict[str, Any]:
    """One survey's ranked family bars: width, interval whisker, direction, in ``lang``."""
    families = section("family", lang)
    words = section("drivers", lang)
    rows = []
    for fam in survey.get("families", []):
        share, low, high = (fam.get(k) for k in ("share", "share_ci_low", "share_ci_high"))
        rows.append({
            "family": fam["family"], "label": families.get(fam["family"], fam["family"]),
            "rank": fam.get("rank"), "share": _pct(share, lang),
            "interval": f"{_pct(low, lang)}–{_pct(high, lang)}",
            "width": 100 * float(share or 0), "low": 100 * float(low or 0),
            "high": 100 * float(high or 0), "direction": fam.get("direction") or "",
            "direction_text": words.get(f"direction_{fam.get('direction')}", ""),
            "top_feature": fam.get("top_feature") or "",
        })
    return {"survey": survey.get("survey", ""), "n_answers": survey.get("n_answers"),
            "n_customers": survey.get("n_customers"), "rows": rows}


def churn_table(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """Families x the newest cutoffs: each family's share of the model's SHAP mass."""
    families = section("family", lang)
    rows = doc.get("churn") or []
    cutoffs = sorted({r["cutoff"] for r in rows})[-CHURN_CUTOFFS_SHOWN:]
    by_family: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["cutoff"] in cutoffs:
            by_family.setdefault(r["family"], {})[r["cutoff"]] = r
    newest = cutoffs[-1] if cutoffs else ""
    order = sorted(by_family, key=lambda f: -float(by_family[f].get(newest, {}).get("share")
                                                   or 0))
    return {"cutoffs": cutoffs, "rows": [
        {"family": f, "label": families.get(f, f),
         "cells": [{"share": _pct(by_family[f].get(c, {}).get("share"), lang),
                    "interval": (f"{_pct(by_family[f][c].get('share_ci_low'), lang)}–"
                                 f"{_pct(by_family[f][c].get('share_ci_high'), lang)}"
                                 if c in by_family[f] else "")}
                   for c in cutoffs]}
        for f in order]}


def drivers_section(home: Path, lang: str) -> dict[str, Any] | None:
    """What the Experience tab's Drivers section shows; None when nothing was written yet."""
    try:
        doc = load_drivers(home)
    except NotFoundError:
        return None
    return {"generated_at": doc.get("generated_at"), "period": doc.get("period") or {},
            "surveys": [survey_bars(s, lang) for s in doc.get("surveys") or []],
            "churn": churn_table(doc, lang)}

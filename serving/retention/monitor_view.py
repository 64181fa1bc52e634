"""The latest ``cxchurn monitor`` result for the at-risk page's model panel.

Read from ``monitor.json`` where the command writes it by default
(``training.monitor_commands.monitor_dir``): the newest cutoff's drift (features named, with
PSI) and its performance estimated before labels (CBPE), the newest cutoff whose labels have
matured with its realised AUC beside the estimate, and the newest cutoff's alerts. Alerts are
rebuilt from the report's fields in the page's language rather than shown as the command's
English sentences. A missing or unreadable file leaves the panel saying how to make it; the
page itself never fails for it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from serving.messages import section
from serving.reasons.numbers import as_number, date_text, number_text
from serving.reasons.text import FAMILY_LABELS, feature_label
from training.known_changes import HISTORY_AGE
from training.monitor_commands import MONITOR_FILE, monitor_dir


def _auc(x: Any, lang: str) -> str | None:
    value = as_number(x)
    return None if value is None else number_text(value, lang, 3)


def _drifted(record: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """Drifted features of a cutoff, most drifted first, named in ``lang`` (the identifier
    kept for the data scientist), with PSI where the record has it."""
    names = [n for n in str(record.get("top_drifted") or "").split(";") if n]
    psi = {}
    for part in str(record.get("top_psi_features") or "").split(";"):
        name, _, value = part.partition("=")
        psi[name] = value
    return [{"feature": n, "label": feature_label(n, lang), "psi": psi.get(n, "")}
            for n in names]


def _why(why: str, lang: str) -> str:
    """The monitor's reason a drift is expected, in ``lang``."""
    words = section("monitor", lang)
    if why == HISTORY_AGE:
        return words["history_age"]
    known = re.fullmatch(r"known (\w+) change on (\d{4}-\d{2}-\d{2})", why)
    if known and known[1] in FAMILY_LABELS:
        return words["known_change"].format(
            family=FAMILY_LABELS[known[1]][lang],
            date=date_text(date.fromisoformat(known[2]), lang))
    return why


def _expected(record: dict[str, Any], lang: str) -> list[str]:
    """Drift the monitor expected ("feature (why)"), named and explained in ``lang``."""
    out = []
    for entry in (e for e in str(record.get("expected_drift") or "").split(";") if e):
        feature, _, why = entry.partition(" (")
        out.append(f"{feature_label(feature, lang)} ({_why(why.removesuffix(')'), lang)})")
    return out


def _alerts(record: dict[str, Any], doc: dict[str, Any], lang: str) -> list[str]:
    words = section("monitor", lang)
    thresholds = doc.get("thresholds") or {}
    reference = as_number((doc.get("reference") or {}).get("roc_auc"))
    floor = reference - float(thresholds.get("auc_drop", 0.05)) if reference else None
    out = []
    drifted = _drifted(record, lang)
    if int(record.get("n_drifted") or 0):
        out.append(words["drift_alert"].format(n=int(record["n_drifted"]), features=", ".join(
            d["label"] for d in drifted)))
    score_psi = as_number(record.get("score_psi"))
    if score_psi is not None and score_psi >= float(thresholds.get("score_psi", 0.2)):
        out.append(words["score_alert"].format(psi=number_text(score_psi, lang, 2)))
    for key, label in (("est_roc_auc", "estimated_auc"), ("realised_roc_auc", "realised_auc")):
        value = as_number(record.get(key))
        if floor is not None and value is not None and value < floor:
            out.append(words["auc_alert"].format(what=words[label], auc=_auc(value, lang),
                                                 floor=_auc(floor, lang)))
    return out


def monitor_panel(home: Path, lang: str) -> dict[str, Any] | None:
    """What the model panel shows, or None when ``cxchurn monitor`` has not written a report."""
    path = monitor_dir(Path(home)) / MONITOR_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        cutoffs = [c for c in doc.get("cutoffs") or [] if isinstance(c, dict)]
        checked = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (OSError, ValueError, AttributeError):
        return None
    if not cutoffs:
        return None
    latest = cutoffs[-1]
    matured = [c for c in cutoffs if c.get("labelled")]
    labelled = matured[-1] if matured else None
    reference = as_number((doc.get("reference") or {}).get("roc_auc"))
    return {
        "checked": checked.strftime("%Y-%m-%d %H:%M UTC"),
        "cutoff": latest.get("cutoff"), "n": latest.get("n"),
        "estimated": _auc(latest.get("est_roc_auc"), lang),
        "estimated_range": (None if as_number(latest.get("est_roc_auc_low")) is None else
                            f"{_auc(latest.get('est_roc_auc_low'), lang)}–"
                            f"{_auc(latest.get('est_roc_auc_high'), lang)}"),
        "reference": _auc(reference, lang) if reference is not None else None,
        "labelled": None if labelled is None else {
            "cutoff": labelled.get("cutoff"),
            "estimated": _auc(labelled.get("est_roc_auc"), lang),
            "realised": _auc(labelled.get("realised_roc_auc"), lang),
            "error": None if as_number(labelled.get("auc_error")) is None else number_text(
                float(labelled["auc_error"]), lang, 3, sign=True)},
        "latest_labelled": bool(latest.get("labelled")),
        "drifted": _drifted(latest, lang),
        "expected": _expected(latest, lang),
        "alerts": _alerts(latest, doc, lang),
        "all_alerts": len(doc.get("alerts") or []),
    }

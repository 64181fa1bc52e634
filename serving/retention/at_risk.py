"""The ranked at-risk list: one book per model + feature snapshot, filtered per request.

Computing SHAP and the plan for every customer takes a second; filtering, sorting and
translating a list takes milliseconds. So the service builds an ``AtRiskBook`` once (per
model version and online-store snapshot) and every page view, API call and export reads it
through ``select_rows`` with the same ``ListQuery``: the export holds exactly the rows the page
shows. Pure functions apart from the CSV/Excel writers at the end.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError
from features.normalize import search_key
from serving.messages import MESSAGES, text
from serving.reasons.numbers import date_text, number_text
from serving.reasons.text import reason
from serving.reasons.turkish import value_tr
from serving.retention.catalogue import Catalogue
from serving.retention.policy import PolicyConfig, family_mass, plan_actions
from serving.retention.provenance import effect_source, plan_ranges
from serving.retention.value import ValueConfig, customer_value
from training.explain import top_drivers

SORTABLE: Final = ("expected_net_value", "p_churn", "value", "expected_saved", "customer_id")
SEGMENT_COLUMN: Final = "segment"
MAX_LIMIT: Final = 10_000
MAX_SEARCH: Final = 100

# Column headers and what the team does with a row (``serving.retention.policy`` statuses), on
# the page and in exports: sections of the message catalogue.
HEADERS: Final = MESSAGES["header"]
STATUS_LABELS: Final = MESSAGES["status"]


@dataclass
class AtRiskBook:
    """Everyone's score, value, plan and top drivers, for one model and one snapshot."""

    table: pd.DataFrame
    customers: pd.DataFrame  # customer_id, p_churn, value (policy input)
    mass: pd.DataFrame  # log-odds each driver family adds, rows as customers
    drivers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    version: str = ""
    # feature values by customer_id: the raw facts a reason tells (serving.reasons)
    facts: pd.DataFrame | None = None
    # customer_id -> horizons / leave_within_days / act_by (serving.timing); empty when the
    # model has no horizon model
    timing: dict[str, dict[str, Any]] = field(default_factory=dict)

    def segments(self) -> list[str]:
        return sorted(self.table[SEGMENT_COLUMN].dropna().astype(str).unique())


def build_book(features: pd.DataFrame, p_churn: np.ndarray, risk_band: Sequence[str],
               shap: np.ndarray, feature_names: Sequence[str], catalogue: Catalogue,
               *, shown_reasons: int = 3, version: str = "",
               value_config: ValueConfig | None = None,
               policy_config: PolicyConfig | None = None) -> AtRiskBook:
    """Plan every customer of an online-feature snapshot (rows aligned with the arrays)."""
    features = features.reset_index(drop=True)
    ids = features["customer_id"].astype(str)
    customers = pd.DataFrame({"customer_id": ids, "p_churn": np.asarray(p_churn, dtype=float),
                              "value": customer_value(features, value_config).to_numpy()})
    mass = family_mass(shap, list(feature_names))
    plan = plan_ranges(plan_actions(customers, mass, catalogue, policy_config), customers,
                       mass, catalogue)
    extra = pd.DataFrame({
        "customer_id": ids,
        "risk_band": pd.Series(list(risk_band), dtype="str"),
        SEGMENT_COLUMN: (features[SEGMENT_COLUMN].astype("str") if SEGMENT_COLUMN in features
                         else pd.Series("", index=features.index, dtype="str")),
    })
    table = plan.merge(extra, on="customer_id", how="left", validate="one_to_one")
    # the list shows only what raises the risk, selected and rendered like every driver
    drivers = [[d.to_dict() for d in row] for row in top_drivers(
        shap, list(feature_names), features, shown_reasons, raising_only=True)]
    return AtRiskBook(table=table, drivers=dict(zip(ids, drivers, strict=True)),
                      version=version, customers=customers, mass=mass,
                      facts=features.set_index(ids.to_numpy()))


@dataclass(frozen=True)
class ListQuery:
    """Filters and order of an at-risk list (the page, the API and the exports share it)."""

    segment: str | None = None
    risk_band: str | None = None
    min_value: float | None = None
    limit: int = 100
    sort: str = "expected_net_value"
    descending: bool = True
    only_actionable: bool = False
    search: str | None = None  # part of a customer id or name, any case, Turkish or not
    show_contacted: bool = False  # also list customers contacted in the last N days
    page: int = 1  # pages of ``limit`` rows, 1 first

    def __post_init__(self) -> None:
        if self.search is not None and len(self.search) > MAX_SEARCH:
            raise ConfigError(f"search must be at most {MAX_SEARCH} characters; got "
                              f"{len(self.search)}.")
        if not isinstance(self.page, int) or self.page < 1:
            raise ConfigError(f"page must be a whole number >= 1; got {self.page!r}.")
        if self.sort not in SORTABLE:
            raise ConfigError(f"sort must be one of {list(SORTABLE)}; got {self.sort!r}.")
        if not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_LIMIT:
            raise ConfigError(f"limit must be a whole number in 1..{MAX_LIMIT}; "
                              f"got {self.limit!r}.")
        if self.min_value is not None and not np.isfinite(self.min_value):
            raise ConfigError(f"min_value must be a finite number; got {self.min_value!r}.")

    def params(self) -> dict[str, str]:
        """Query-string form (only what differs from the defaults), for links and exports."""
        out = {}
        for key, default in (("segment", None), ("risk_band", None), ("min_value", None),
                             ("limit", 100), ("sort", "expected_net_value"),
                             ("descending", True), ("only_actionable", False),
                             ("search", None), ("show_contacted", False), ("page", 1)):
            value = getattr(self, key)
            if value != default and value is not None:
                out[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class RowMarks:
    """What the book does not know but the list filters on, read per request: each
    customer's search text (``search_key`` of its id and name) and who was contacted lately."""

    search_text: Mapping[str, str] = field(default_factory=dict)
    contacted: frozenset[str] = frozenset()


def filter_rows(book: AtRiskBook, query: ListQuery, marks: RowMarks | None = None
                ) -> pd.DataFrame:
    """Every row the filters keep, sorted (ties keep the plan's rank order); not cut."""
    marks = marks or RowMarks()
    table = book.table
    keep = np.ones(len(table), dtype=bool)
    if query.segment:
        keep &= (table[SEGMENT_COLUMN] == query.segment).to_numpy()
    if query.risk_band:
        keep &= (table["risk_band"] == query.risk_band).to_numpy()
    if query.min_value is not None:
        keep &= (table["value"] >= query.min_value).to_numpy()
    if query.only_actionable:
        keep &= table["action"].notna().to_numpy()
    if query.search and query.search.strip():
        needle = search_key(query.search)
        ids = table["customer_id"]
        texts = ids.map(lambda c: marks.search_text.get(c) or search_key(c))
        keep &= texts.str.contains(needle, regex=False).to_numpy()
    if not query.show_contacted and marks.contacted:
        keep &= ~table["customer_id"].isin(marks.contacted).to_numpy()
    rows = table[keep].sort_values(["rank"], kind="stable")
    return rows.sort_values(query.sort, ascending=not query.descending, kind="stable")


def select_rows(book: AtRiskBook, query: ListQuery, marks: RowMarks | None = None
                ) -> pd.DataFrame:
    """The page of rows the filters keep: ``query.limit`` rows from ``query.offset``."""
    rows = filter_rows(book, query, marks)
    return rows.iloc[query.offset:query.offset + query.limit].reset_index(drop=True)


def short_reason(text: str) -> str:
    """A reason without its closing "this raises the churn risk" (the list shows only risers)."""
    head, sep, _ = text.rpartition("; ")
    return head if sep else text.rstrip(".")


def reason_texts(drivers: Sequence[Mapping[str, Any]], lang: str,
                 row: Mapping[str, Any] | None = None) -> list[str]:
    """Plain-word reasons (``serving.reasons.text``, the scoring API's wording), kept short;
    ``row`` is the customer's feature values, the raw facts the reasons tell."""
    return [short_reason(reason(str(d["feature"]), d.get("value"),
                                str(d.get("direction", "raises")), lang, row)) for d in drivers]


def _facts_row(book: AtRiskBook, customer_id: str) -> Mapping[str, Any] | None:
    facts = book.facts
    if facts is None or customer_id not in facts.index:
        return None
    found = facts.loc[customer_id]
    return found if isinstance(found, pd.Series) else found.iloc[0]


def display_records(rows: pd.DataFrame, book: AtRiskBook, catalogue: Catalogue, lang: str
                    ) -> list[dict[str, Any]]:
    """Rows as the page and the API show them: reasons and the action title in ``lang``."""
    out = []
    for r in rows.to_dict(orient="records"):
        action = r["action"] if isinstance(r["action"], str) else None
        out.append({
            **r,
            "action": action,
            "segment_label": segment_label(r["segment"], lang),
            "action_title": catalogue.get(action).title(lang) if action else None,
            "effect_source": effect_source(catalogue.get(action)) if action else None,
            "reasons": reason_texts(book.drivers.get(r["customer_id"], []), lang,
                                    _facts_row(book, r["customer_id"])),
            "timing": timing_text(book.timing.get(r["customer_id"]), lang),
        })
    return out


def horizon_texts(entry: Mapping[str, Any] | None, lang: str) -> list[str]:
    """["within 30 days: 34.3%", ...] in ``lang`` (empty without a horizon model)."""
    horizons = (entry or {}).get("horizons") or {}
    out = []
    for days, p in horizons.items():
        shown = number_text(100.0 * float(p), lang, 1)
        pct = f"%{shown}" if lang == "tr" else f"{shown}%"
        out.append(f"{text('timing', 'within', lang).format(days=days)}: {pct}")
    return out


def timing_text(entry: Mapping[str, Any] | None, lang: str) -> str | None:
    """"likely to leave within 60 days; act by 2025-07-14" in ``lang``; None when not at risk
    within the longest horizon or the model has no horizon model."""
    if not entry or entry.get("act_by") is None:
        return None
    when = date_text(dt.date.fromisoformat(str(entry["act_by"])), lang)
    return text("timing", "leave_act", lang).format(days=entry["leave_within_days"], date=when)


def segment_label(segment: str, lang: str) -> str:
    """A segment as the page shows it: in Turkish where it is a known word."""
    return value_tr(segment) if lang == "tr" and segment else segment


def export_frame(records: Sequence[Mapping[str, Any]], lang: str) -> pd.DataFrame:
    """The visible rows with translated headers, risk bands and known segment names, and what
    a call list needs: when to act, the contact details, who owns the customer and how far
    the work got."""
    bands, work = MESSAGES["band"], MESSAGES["work_status"]
    frame = pd.DataFrame([{
        "rank": r["rank"], "customer_id": r["customer_id"],
        "segment": segment_label(r["segment"], lang),
        "p_churn": round(float(r["p_churn"]), 4),
        "risk_band": bands.get(r["risk_band"], {}).get(lang, r["risk_band"]),
        "value": round(float(r["value"]), 2), "reasons": " | ".join(r["reasons"]),
        "action": r["action_title"] or "",
        "status": STATUS_LABELS.get(r["status"], {}).get(lang, r["status"]),
        "cost": float(r["cost"]),
        "expected_net_value": round(float(r["expected_net_value"]), 2),
        "act_by": r.get("timing") or "",
        **{role: (r.get("contact") or {}).get(role, "")
           for role in ("name", "phone", "email", "channel")},
        "owner": r.get("owner") or "",
        "work_status": work.get(r.get("work_status") or "new", {}).get(lang, ""),
    } for r in records], columns=list(HEADERS))
    return frame.rename(columns={k: v[lang] for k, v in HEADERS.items()})


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel shows Turkish letters correctly."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "at-risk") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet)
        ws = writer.sheets[sheet]
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column[:200])
            ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 80)
        ws.freeze_panes = "A2"
    return buffer.getvalue()

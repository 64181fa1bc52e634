"""What turns the ranked list into a day's work: contacts, who owns whom, KPIs, pages.

The at-risk book (``at_risk``) knows scores, plans and reasons; an agent also needs to reach
the customer (contact details from the customers table, ``ContactBook``), to see who already
works a customer (``assignments``), to skip the ones called lately (``RowMarks.contacted``),
cards that sum up exactly the rows the filters keep (``list_kpis``) and a way through a list
longer than one page (``page_info``). Contact details stay in memory for display and search:
they are never logged and never reach the model (``features.contacts``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from features.contacts import contact_roles, shown_columns
from features.normalize import search_key
from serving.retention.assignments import Assignment
from serving.retention.at_risk import ListQuery, RowMarks
from serving.retention.outcomes import Outcome
from serving.retention.policy import SELECTED

log = logging.getLogger(__name__)

CUSTOMER_FILES = ("customers.parquet", "customers.csv")


@dataclass(frozen=True)
class ContactBook:
    """Each customer's contact details by role (name, phone, email, channel), as written."""

    by_id: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    columns: Mapping[str, list[str]] = field(default_factory=dict)  # role -> source columns
    source: str = ""

    def of(self, customer_id: str) -> Mapping[str, str]:
        return self.by_id.get(customer_id, {})

    def search_text(self, customer_ids: Sequence[str]) -> dict[str, str]:
        """customer id -> the text a search looks in: its id and its name, folded."""
        return {c: search_key(f"{c} {self.of(c).get('name', '')}") for c in customer_ids}


def read_contacts(path: Path | None, names: Sequence[str]) -> ContactBook:
    """The contact columns of a customers file (Parquet or CSV); empty when there is none.

    Only ``customer_id`` and the contact columns are read; values are kept as written (a name
    keeps its capitals), blank cells left out. A file that cannot be read leaves the page
    without contacts and logs the file name and the error class, never a value.
    """
    if path is None or not Path(path).is_file():
        return ContactBook()
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            header = pq.read_schema(path).names
            roles = contact_roles(header, shown_columns(names))
            wanted = ["customer_id", *[c for cols in roles.values() for c in cols]]
            frame = pd.read_parquet(path, columns=wanted) if len(wanted) > 1 else None
        else:
            header = list(pd.read_csv(path, nrows=0).columns)
            roles = contact_roles(header, shown_columns(names))
            wanted = ["customer_id", *[c for cols in roles.values() for c in cols]]
            frame = (pd.read_csv(path, usecols=wanted, dtype=str, keep_default_na=False)
                     if len(wanted) > 1 else None)
    except (OSError, ValueError, KeyError) as err:
        log.warning("contact details not read from %s: %s", path.name, type(err).__name__)
        return ContactBook()
    if frame is None or "customer_id" not in header:
        return ContactBook(source=str(path))
    by_id: dict[str, dict[str, str]] = {}
    ids = frame["customer_id"].astype(str).to_numpy()
    for role, cols in roles.items():
        joined = frame[cols].astype("string").fillna("").agg(
            lambda r: " ".join(v.strip() for v in r if v and v.strip()), axis=1)
        for cid, value in zip(ids, joined.to_numpy(), strict=True):
            if value:
                by_id.setdefault(cid, {})[role] = str(value)
    return ContactBook(by_id=by_id, columns=roles, source=str(path))


def recently_contacted(outcomes: Sequence[Outcome], assignments: Mapping[str, Assignment],
                       now: datetime, days: int) -> frozenset[str]:
    """Ids contacted within ``days`` of ``now``: an outcome recorded for them, or a status
    that says somebody spoke to them (contacted, won back, lost). ``days`` 0: nobody."""
    if days <= 0:
        return frozenset()
    since = now - timedelta(days=days)
    ids = {o.customer_id for o in outcomes if o.action_time >= since}
    ids |= {c for c, a in assignments.items()
            if a.contacted_at is not None and a.contacted_at >= since}
    return frozenset(ids)


def row_marks(contacts: ContactBook, customer_ids: Sequence[str], contacted: frozenset[str]
              ) -> RowMarks:
    return RowMarks(search_text=contacts.search_text(customer_ids) if contacts.by_id else {},
                    contacted=contacted)


def annotate(records: list[dict[str, Any]], contacts: ContactBook,
             assignments: Mapping[str, Assignment]) -> list[dict[str, Any]]:
    """Display rows with their contact details (``contact``), owner and status."""
    out = []
    for r in records:
        a = assignments.get(r["customer_id"])
        out.append({**r, "contact": dict(contacts.of(r["customer_id"])),
                    "owner": a.owner if a else None, "work_status": a.status if a else "new"})
    return out


def list_kpis(rows: pd.DataFrame, budget: float | None) -> dict[str, Any]:
    """The cards over every row the filters keep (not only the visible page).

    Expected saves and their range count the rows whose action is in the plan (status
    selected); the range is the sum of the rows' ranges (``provenance``).
    """
    planned = rows[rows["status"] == SELECTED]
    cost = float(planned["cost"].sum())
    return {
        "customers": len(rows),
        "mean_risk": float(rows["p_churn"].mean()) if len(rows) else 0.0,
        "high_risk": int((rows["risk_band"] == "high").sum()),
        "with_action": len(planned),
        "cost": cost,
        "budget": budget,
        "budget_share": cost / budget if budget else None,
        "saves": float(planned["expected_saved"].sum()),
        "saves_low": float(planned["expected_saved_low"].sum()),
        "saves_high": float(planned["expected_saved_high"].sum()),
        "net_value": float(planned["expected_net_value"].sum()),
    }


def page_info(total: int, query: ListQuery) -> dict[str, Any]:
    """Where this page sits: first and last row shown (1-based), pages, neighbours."""
    pages = max(1, -(-total // query.limit))
    page = min(query.page, pages)
    first = (page - 1) * query.limit + 1 if total else 0
    last = min(total, page * query.limit)
    window = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    return {"page": page, "pages": pages, "first": first, "last": last, "total": total,
            "window": window}


__all__ = ["ContactBook", "annotate", "list_kpis", "page_info", "read_contacts",
           "recently_contacted", "row_marks"]

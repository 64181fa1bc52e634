"""A customer's experience history for the customer view: touchpoints, surveys, tickets.

Read straight from the events file of the data contract (Parquet or CSV) with DuckDB and a
filter on one customer, so the page needs no second copy of the events. Only events before the
snapshot's cutoff are shown: the same history the model saw. Labels and details in English or
Turkish come from the message catalogue (``serving.messages``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import duckdb
import pandas as pd

from serving.messages import section, text
from serving.reasons.numbers import number_text

KIND: Final[dict[str, str]] = {
    "survey_nps": "survey", "survey_csat": "survey", "survey_ces": "survey",
    "feedback": "survey",
    "support_ticket": "ticket", "ticket_reopened": "ticket", "complaint": "ticket",
    "delivery": "delivery", "return": "delivery",
    "order": "order", "price_change": "billing", "payment_failed": "billing",
    "cancellation": "billing", "session": "touchpoint", "email_open": "touchpoint",
}
# Sessions and email opens are many and say little one by one: the timeline skips them unless
# asked, and the counts appear in the model's features anyway.
QUIET: Final = ("session", "email_open")


def _detail(row: dict[str, Any], lang: str) -> str:
    kind = row["event_type"]
    amount, score, duration = row.get("amount"), row.get("score"), row.get("duration")
    if kind == "delivery" and duration is not None and pd.notna(duration):
        if duration > 0:
            return text("event_detail", "days_late", lang).format(n=f"{duration:.0f}")
        return text("event_detail", "on_time", lang)
    if kind == "support_ticket" and pd.notna(duration):
        return text("event_detail", "resolved_in", lang).format(n=f"{duration:.0f}")
    if kind.startswith("survey_") and pd.notna(score):
        return text("event_detail", "score", lang).format(n=f"{score:.0f}")
    if kind in ("order", "return", "payment_failed", "price_change") and amount is not None \
            and pd.notna(amount):
        return number_text(float(amount), lang, 2, sign=kind == "price_change")
    if kind == "feedback" and isinstance(row.get("text"), str):
        return row["text"]
    return ""


def event_detail(row: dict[str, Any], lang: str) -> str:
    """One event's detail in words ("3 days late", "score 2"; "" when there is none)."""
    return _detail(row, lang)


def customer_history(events_path: str | Path, customer_id: str, lang: str = "en",
                     before: pd.Timestamp | None = None, limit: int = 60,
                     include_quiet: bool = False) -> list[dict[str, Any]]:
    """Newest first: time, kind (survey/ticket/delivery/...), label, channel, detail."""
    path = Path(events_path)
    if not path.exists():
        return []
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
    where = ["customer_id = ?"]
    params: list[Any] = [str(customer_id)]
    if before is not None:
        where.append("epoch_us(CAST(event_time AS TIMESTAMPTZ)) < ?")
        params.append(int(pd.Timestamp(before).value // 1000))  # ns -> us
    if not include_quiet:
        where.append(f"event_type NOT IN ({', '.join('?' for _ in QUIET)})")
        params.extend(QUIET)
    # Times travel as epoch microseconds: no timezone objects cross the DuckDB boundary.
    query = (f"SELECT * REPLACE (epoch_us(CAST(event_time AS TIMESTAMPTZ)) AS event_time) "
             f"FROM {reader}(?) WHERE {' AND '.join(where)} "
             f"ORDER BY event_time DESC LIMIT {int(limit)}")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        cursor = con.execute(query, [str(path), *params])
        names = [d[0] for d in cursor.description]
        frame = pd.DataFrame.from_records(cursor.fetchall(), columns=names)
    finally:
        con.close()
    labels = section("event", lang)
    out = []
    for row in frame.to_dict(orient="records"):
        kind = str(row["event_type"])
        out.append({
            "time": pd.Timestamp(int(row["event_time"]), unit="us", tz="UTC"),
            "kind": KIND.get(kind, "touchpoint"),
            "event_type": kind,
            "label": labels.get(kind, kind.replace("_", " ")),
            "channel": row.get("channel") or "",
            "detail": _detail(row, lang),
        })
    return out

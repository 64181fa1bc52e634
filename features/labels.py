"""Cutoff tables, eligibility and churn labels, as SQL on DuckDB (portable to Spark).

The rules, stated once:

* features at cutoff ``c`` use events with ``event_time < c``;
* the label uses the half-open horizon ``c <= event_time < c + horizon_days``, so an event
  exactly at the cutoff belongs to the label side, and nothing falls between the two;
* eligible at ``c``: ``signup_date < c`` and no ``cancellation`` with ``event_time < c``;
  for the non-contractual label, also active (an activity event) in
  ``[c - active_within_days, c)``, because "no activity" cannot be a future event for
  someone who already stopped long ago.

Labels: contractual = a cancellation within the horizon; non-contractual = no activity event
within the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from cxchurn.errors import ConfigError
from features import pit, schema

LABEL_KINDS = ("contractual", "non_contractual")
CANCELLATION = "cancellation"


@dataclass(frozen=True)
class LabelConfig:
    """How churn is defined and observed."""

    kind: str = "contractual"
    horizon_days: int = 30
    activity_event_types: tuple[str, ...] = tuple(schema.ACTIVITY_EVENT_TYPES)
    active_within_days: int = 90
    data_end: pd.Timestamp | None = None  # last observed instant; c + horizon must not pass it

    def __post_init__(self) -> None:
        if self.kind not in LABEL_KINDS:
            raise ConfigError(f"label kind must be one of {list(LABEL_KINDS)}; got "
                              f"{self.kind!r}.")
        for field_name in ("horizon_days", "active_within_days"):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
                raise ConfigError(f"{field_name} must be a whole number of days in 1..3650; "
                                  f"got {value!r}.")
        unknown = [t for t in self.activity_event_types if t not in schema.EVENT_TYPES]
        if unknown or not self.activity_event_types:
            raise ConfigError(f"activity_event_types must be known event types "
                              f"{sorted(schema.EVENT_TYPES)}; got unknown {unknown} "
                              f"(or an empty list).")


def cutoff_dates(start: str | pd.Timestamp, end: str | pd.Timestamp,
                 freq: str = "MS") -> list[pd.Timestamp]:
    """Cutoff instants from start to end inclusive (default: the first of each month), UTC."""
    try:
        dates = pd.date_range(_utc_ts(start), _utc_ts(end), freq=freq)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"cannot build cutoffs from start={start!r}, end={end!r}, "
                          f"freq={freq!r}: {err}. Use ISO dates, e.g. 2025-01-01.") from err
    if len(dates) == 0:
        raise ConfigError(f"no cutoffs between start={start!r} and end={end!r} with "
                          f"freq={freq!r}; check that start <= end.")
    return list(dates)


def _utc_ts(value: str | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def parse_cutoffs(text: str) -> list[pd.Timestamp]:
    """Comma-separated ISO dates -> UTC timestamps (naive = UTC)."""
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            out.append(_utc_ts(part))
        except ValueError as err:
            raise ConfigError(f"cutoff {part!r} is not an ISO date; expected e.g. "
                              f"2025-01-01,2025-02-01.") from err
    if not out:
        raise ConfigError(f"no cutoffs given; got {text!r}, expected e.g. 2025-01-01,2025-02-01.")
    return sorted(set(out))


def _dates_frame(dates: Sequence[pd.Timestamp]) -> pd.DataFrame:
    values = pd.to_datetime(list(dates), utc=True).astype("datetime64[us, UTC]")
    return pd.DataFrame({schema.CUTOFF: values}).drop_duplicates()


def _in_list(prefix: str, values: Sequence[str], params: dict[str, str]) -> str:
    names = []
    for i, value in enumerate(values):
        params[f"{prefix}{i}"] = value
        names.append(f"${prefix}{i}")
    return ", ".join(names)


def eligibility_sql(config: LabelConfig) -> tuple[str, dict[str, str]]:
    """SQL over cx_customers, cx_events, cx_dates -> (customer_id, cutoff) eligible rows."""
    params: dict[str, str] = {"cancel": CANCELLATION}
    active = ""
    if config.kind == "non_contractual":
        types = _in_list("act", config.activity_event_types, params)
        active = f""",
act AS (
  SELECT k.customer_id, k.cutoff FROM cand k JOIN cx_events e
    ON e.customer_id = k.customer_id
   AND e.event_time >= k.cutoff - INTERVAL {config.active_within_days} DAY
   AND e.event_time < k.cutoff
  WHERE e.event_type IN ({types})
  GROUP BY k.customer_id, k.cutoff
)"""
    sql = f"""WITH
cand AS (
  SELECT c.customer_id, d.cutoff FROM cx_customers c CROSS JOIN cx_dates d
  WHERE c.signup_date < d.cutoff
),
gone AS (
  SELECT customer_id, MIN(event_time) AS t FROM cx_events WHERE event_type = $cancel
  GROUP BY customer_id
){active}
SELECT k.customer_id, k.cutoff FROM cand k
LEFT JOIN gone g ON g.customer_id = k.customer_id
{"JOIN act a ON a.customer_id = k.customer_id AND a.cutoff = k.cutoff" if active else ""}
WHERE g.t IS NULL OR g.t >= k.cutoff
ORDER BY k.customer_id, k.cutoff"""
    return sql, params


def labels_sql(config: LabelConfig) -> tuple[str, dict[str, str]]:
    """SQL over cx_cutoffs (customer_id, cutoff) and cx_events -> (customer_id, cutoff, churned)."""
    params: dict[str, str] = {}
    if config.kind == "contractual":
        types = _in_list("lab", (CANCELLATION,), params)
        churned = "CASE WHEN h.n IS NULL THEN 0 ELSE 1 END"
    else:
        types = _in_list("lab", config.activity_event_types, params)
        churned = "CASE WHEN h.n IS NULL THEN 1 ELSE 0 END"
    sql = f"""WITH
k AS (SELECT DISTINCT customer_id, cutoff FROM cx_cutoffs),
h AS (
  SELECT k.customer_id, k.cutoff, COUNT(*) AS n FROM k JOIN cx_events e
    ON e.customer_id = k.customer_id
   AND e.event_time >= k.cutoff
   AND e.event_time < k.cutoff + INTERVAL {config.horizon_days} DAY
  WHERE e.event_type IN ({types})
  GROUP BY k.customer_id, k.cutoff
)
SELECT k.customer_id, k.cutoff, CAST({churned} AS TINYINT) AS churned
FROM k LEFT JOIN h ON h.customer_id = k.customer_id AND h.cutoff = k.cutoff
ORDER BY k.customer_id, k.cutoff"""
    return sql, params


def _data_end(config: LabelConfig) -> pd.Timestamp | None:
    if config.data_end is None:
        return None
    end = pd.Timestamp(config.data_end)
    return end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")


def split_by_data_end(dates: Sequence[pd.Timestamp], config: LabelConfig
                      ) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """(complete, late): late cutoffs' label window ``[c, c + horizon)`` passes the data's end.

    A late cutoff's "no cancellation" or "no activity" is only the absence of data not yet
    collected, so it has no label: it may be scored, never trained or evaluated on.
    """
    end = _data_end(config)
    ordered = sorted(_utc_ts(d) for d in dates)
    if end is None:
        return ordered, []
    horizon = pd.Timedelta(days=config.horizon_days)
    return ([d for d in ordered if d + horizon <= end],
            [d for d in ordered if d + horizon > end])


def check_horizon(dates: Sequence[pd.Timestamp], config: LabelConfig) -> None:
    """Refuse cutoffs whose label window runs past the end of the observed data."""
    complete, late = split_by_data_end(dates, config)
    end = _data_end(config)
    if not late or end is None:
        return
    shown = ", ".join(str(d.date()) for d in late[:6]) + (" ..." if len(late) > 6 else "")
    latest = end - pd.Timedelta(days=config.horizon_days)
    last = (f"the last cutoff with a complete label window is {complete[-1].date()}"
            if complete else
            f"none of the cutoffs has a complete label window (the latest possible cutoff is "
            f"{latest.date()})")
    raise ConfigError(
        f"{len(late)} cutoff(s) {shown} plus the {config.horizon_days}-day horizon pass the end "
        f"of the data ({end.isoformat()}), so their labels would count data not yet collected "
        f"as churn; {last}. Use cutoffs up to {latest.date()} (e.g. --end {latest.date()}) or "
        f"a shorter horizon, or add --score-only to build their features without labels "
        f"(scored, never trained on).")


def eligible_cutoffs(customers: pit.Source, events: pit.Source,
                     dates: Sequence[pd.Timestamp], config: LabelConfig,
                     con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """The explicit cutoff table: every (customer, cutoff) eligible under ``config``."""
    con = con or pit.connect()
    check_horizon(dates, config)
    pit.require(pit.register(con, "cx_customers", customers), schema.CUSTOMER_COLUMNS,
                "customers")
    pit.require(pit.register(con, "cx_events", events), schema.EVENT_REQUIRED, "events")
    pit.register(con, "cx_dates", _dates_frame(dates))
    sql, params = eligibility_sql(config)
    return pit.utc_cutoffs(con.sql(sql, params=params).to_arrow_table().to_pandas())


def make_labels(events: pit.Source, cutoffs: pd.DataFrame, config: LabelConfig,
                con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """Label each (customer, cutoff) row of ``cutoffs``: churned 1/0 as int8."""
    con = con or pit.connect()
    pit.require(pit.register(con, "cx_events", events), schema.EVENT_REQUIRED, "events")
    pit.register(con, "cx_cutoffs", cutoffs[[schema.CUSTOMER_ID, schema.CUTOFF]])
    sql, params = labels_sql(config)
    out = pit.utc_cutoffs(con.sql(sql, params=params).to_arrow_table().to_pandas())
    out[schema.LABEL] = out[schema.LABEL].astype("int8")
    return out

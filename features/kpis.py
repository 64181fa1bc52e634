"""Customer-experience KPIs per month and group, computed with DuckDB over the contract tables.

Definitions, stated once (times UTC; a month is the calendar month ``[m, m + 1 month)``):

* **NPS** over ``survey_nps`` answers (0-10) in the cell: promoters score >= 9, detractors
  <= 6, passives 7-8; ``nps = 100 (P - D) / n`` in points (-100..100). 95% interval: the
  trinomial normal interval (``kpi_stats.nps_interval``), clipped to +/-100.
* **CSAT**: share of ``survey_csat`` answers (1-5) scoring 4 or 5; Wilson interval.
* **CES**: mean of ``survey_ces`` answers (1-7, higher = more effort) with a Student-t
  interval; **high effort** = share of answers >= 5, i.e. above the neutral midpoint 4 of the
  7-point scale ("somewhat" to "very" difficult); Wilson interval.
* **Response rate**: customers who answered at least one survey in the month / customers
  active in the month (any ``schema.ACTIVITY_EVENT_TYPES`` event; survey answers count as
  activity, so it is a share in 0..1). The contract records answers, not invitations, so this
  is answers per active customer, not per survey sent. Per survey type too (no interval).
* **Churn rate**, contractual: customers at risk at the month start ``m`` (``signup_date <
  m``, no cancellation before ``m``) whose first cancellation falls in the month / those at
  risk. Someone who signs up mid-month is at risk from the next month. Non-contractual: the
  label's definition in ``features.labels`` with the cutoff at ``m`` (eligible: signed up, not
  cancelled, active within ``active_within_days`` before ``m``; churned: no activity in
  ``[m, m + horizon_days)``); a month whose horizon passes the end of the data has no label
  (``n_at_risk`` 0, rate NaN). Wilson interval.
* **Touchpoint**: an answer is attributed to the latest ``touchpoint_types`` event of the same
  customer with ``answer - touchpoint_days <= touchpoint_time < answer`` (strictly before the
  answer: nothing after it can explain it), else ``"none"``. Two touchpoints at the same
  instant: the one listed last in ``touchpoint_types``.
* **Groups** (``by``): ``month``, ``channel`` (the survey's channel), ``touchpoint``, or any
  customers column (segment, region, plan, ...; missing values are ``"(missing)"``). Response
  and churn are per customer, so with ``channel`` or ``touchpoint`` in ``by`` their columns are
  NA. Without ``month`` the customer KPIs pool customer-months over the period.
* Every (month x level) cell is a row: an empty month has n = 0 and NaN values, and
  ``small_<kpi>`` is True when its n < ``min_n`` (plots grey such cells; none is dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError
from features import kpi_stats, labels, pit, schema

MONTH = "month"
SURVEY_KEYS = ("channel", "touchpoint")  # attributes of the answer, not of the customer
SURVEYS = {"nps": "survey_nps", "csat": "survey_csat", "ces": "survey_ces"}
PROMOTER_MIN, DETRACTOR_MAX, CSAT_SATISFIED_MIN, HIGH_EFFORT_MIN = 9, 6, 4, 5
NO_TOUCHPOINT = "none"
MISSING = "(missing)"
SMALL = ("nps", "csat", "ces", "response", "churn")
COLUMNS = (  # after the group keys, one block per KPI: counts, value, interval, small flag
    "n_nps", "n_promoters", "n_passives", "n_detractors", "promoters", "passives", "detractors",
    "nps", "nps_ci_low", "nps_ci_high", "small_nps",
    "n_csat", "n_csat_satisfied", "csat", "csat_ci_low", "csat_ci_high", "small_csat",
    "n_ces", "ces_mean", "ces_sd", "ces_ci_low", "ces_ci_high", "n_high_effort", "high_effort",
    "high_effort_ci_low", "high_effort_ci_high", "small_ces",
    "n_active", "n_responded", "response_rate", "response_ci_low", "response_ci_high",
    "n_responded_nps", "n_responded_csat", "n_responded_ces", "nps_response_rate",
    "csat_response_rate", "ces_response_rate", "small_response",
    "n_at_risk", "n_churned", "churn_rate", "churn_ci_low", "churn_ci_high", "small_churn",
)


@dataclass(frozen=True)
class KpiConfig:
    """How churn, touchpoints and the period are defined (see the module docstring)."""

    churn: str = "contractual"
    horizon_days: int = 30
    active_within_days: int = 90
    touchpoint_days: int = 7
    touchpoint_types: tuple[str, ...] = ("order", "delivery", "support_ticket")  # ties: last
    start: str | None = None  # first month (any date in it); default: the first event's month
    end: str | None = None  # last month, inclusive; default: the last event's month
    data_end: pd.Timestamp | None = None  # non-contractual: default the last event's time

    def __post_init__(self) -> None:
        if self.churn not in labels.LABEL_KINDS:
            raise ConfigError(f"churn must be one of {list(labels.LABEL_KINDS)}; got "
                              f"{self.churn!r}.")
        days = self.touchpoint_days
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
            raise ConfigError(f"touchpoint_days must be a whole number in 0..365; got {days!r}.")
        unknown = [t for t in self.touchpoint_types if t not in schema.EVENT_TYPES]
        if unknown:
            raise ConfigError(f"touchpoint_types must be event types {sorted(schema.EVENT_TYPES)};"
                              f" got unknown {unknown}.")


def kpi_table(customers: pit.Source, events: pit.Source, by: Sequence[str] = (MONTH,),
              min_n: int = 30, *, config: KpiConfig | None = None,
              con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """One row per group of ``by`` with every KPI, its n, its 95% interval and a small flag.

    ``customers`` and ``events`` are contract frames or Parquet/CSV paths (read by DuckDB).
    """
    return kpi_tables(customers, events, [by], min_n, config=config, con=con)[0]


def kpi_tables(customers: pit.Source, events: pit.Source, bys: Sequence[Sequence[str]],
               min_n: int = 30, *, config: KpiConfig | None = None,
               con: duckdb.DuckDBPyConnection | None = None) -> list[pd.DataFrame]:
    """``kpi_table`` for several groupings at once: the events are read and reduced to
    per-customer-month tables once, then each grouping only aggregates those."""
    config = config or KpiConfig()
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise ConfigError(f"min_n must be a positive whole number; got {min_n!r}.")
    con = con or pit.connect()
    cust_cols = pit.register(con, "cx_customers", customers)
    pit.require(cust_cols, schema.CUSTOMER_COLUMNS, "customers")
    pit.require(pit.register(con, "cx_events", events), (*schema.EVENT_REQUIRED, "score"),
                "events")
    key_sets = [_check_by(by, cust_cols) for by in bys]
    months, data_end = _months(con, config)
    pit.register(con, "kpi_months", pd.DataFrame({
        "mkey": months.year * 12 + months.month - 1, MONTH: months,
        "month_end": months + pd.DateOffset(months=1)}))
    window = {"t0": months[0].to_pydatetime(), "t1": (months[-1] + pd.DateOffset(months=1))
              .to_pydatetime()} if len(months) else {"t0": None, "t1": None}
    _surveys(con, config, window, with_touchpoint=any("touchpoint" in k for k in key_sets))
    if any(_per_customer(keys) for keys in key_sets):
        _active(con, window)
        _at_risk(con, config, months, data_end)
    out = []
    for keys in key_sets:
        parts = [_survey_counts(con, keys)]
        if _per_customer(keys):
            parts += [_response_counts(con, keys), _churn_counts(con, keys)]
        table = _grid(months, keys, parts)
        for part in parts:
            table = table.merge(part, on=keys, how="left") if keys else table.join(part)
        out.append(_rates(table, min_n, _per_customer(keys)))
    return out


def _per_customer(keys: list[str]) -> bool:
    """Response and churn exist per customer, so not for answer-level groups."""
    return not any(k in SURVEY_KEYS for k in keys)


def _check_by(by: Sequence[str], cust_cols: list[str]) -> list[str]:
    keys = [by] if isinstance(by, str) else list(by)
    allowed = [MONTH, *SURVEY_KEYS, *(c for c in cust_cols if c not in schema.CUSTOMER_COLUMNS)]
    bad = [k for k in keys if k not in allowed]
    if bad or len(set(keys)) != len(keys):
        raise ConfigError(f"by must name distinct groups among {allowed}; got {keys} "
                          f"(unknown: {bad}). Customer attributes come from the customers table.")
    return keys


def _key_sql(key: str, month_col: str) -> str:
    """SQL for a group key; customer columns are validated names, quoted as identifiers."""
    if key == MONTH:
        return f"{month_col} AS {MONTH}"
    if key in SURVEY_KEYS:
        return f"coalesce(CAST(s.{key} AS VARCHAR), '{MISSING}') AS {key}"
    quoted = '"' + key.replace('"', '""') + '"'
    return f"coalesce(CAST(c.{quoted} AS VARCHAR), '{MISSING}') AS {quoted}"


def _select(keys: list[str], month_col: str) -> str:
    return "".join(f"{_key_sql(k, month_col)}, " for k in keys)


def _group(keys: list[str]) -> str:
    return "GROUP BY ALL" if keys else ""


def _months(con: duckdb.DuckDBPyConnection, config: KpiConfig
            ) -> tuple[pd.DatetimeIndex, pd.Timestamp | None]:
    span = con.sql("SELECT min(event_time) AS a, max(event_time) AS b FROM cx_events"
                   ).to_arrow_table().to_pandas()  # via Arrow: DuckDB's own tz values need pytz
    first, last = (None if pd.isna(v) else v for v in span.iloc[0])
    data_end = config.data_end if config.data_end is not None else last
    start = config.start if config.start is not None else first
    end = config.end if config.end is not None else last
    if start is None or end is None:  # no events and no period given
        return pd.DatetimeIndex([], tz="UTC").as_unit("us"), None
    start_m, end_m = (_utc(t).tz_localize(None).to_period("M").to_timestamp() for t in (start, end))
    months = pd.date_range(start_m, end_m, freq="MS", tz="UTC").as_unit("us")
    return months, (_utc(data_end) if data_end is not None else None)


def _utc(value: object) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# Month of an event as an integer key (year * 12 + month - 1). Truncating a TIMESTAMPTZ runs
# through the ICU calendar and costs seconds on 10M rows; the same instant as a naive UTC
# TIMESTAMP (the connection is in UTC) truncates with plain arithmetic.
MKEY = ("(year(make_timestamp(epoch_us(event_time))) * 12"
        " + month(make_timestamp(epoch_us(event_time))) - 1)")


def _in_list(prefix: str, values: Sequence[str], params: dict) -> str:
    for i, value in enumerate(values):
        params[f"{prefix}{i}"] = value
    return ", ".join(f"${prefix}{i}" for i in range(len(values))) or "NULL"


def _surveys(con: duckdb.DuckDBPyConnection, config: KpiConfig, window: dict,
             with_touchpoint: bool) -> None:
    """Temp table kpi_surveys: the answers in the period, with their touchpoint if asked."""
    params = {**window, **SURVEYS}
    answers = f"""SELECT customer_id, event_time, event_type, channel, score, {MKEY} AS mkey
FROM cx_events WHERE event_type IN ($nps, $csat, $ces) AND score IS NOT NULL
  AND event_time >= $t0 AND event_time < $t1"""
    if not with_touchpoint:
        con.execute(f"CREATE OR REPLACE TEMP TABLE kpi_surveys AS {answers}", params)
        return
    types = _in_list("tp", config.touchpoint_types, params)
    rank = " ".join(f"WHEN ${p} THEN {i}" for i, p in enumerate(
        k for k in params if k.startswith("tp")))
    width = len(config.touchpoint_types) + 1
    days = int(config.touchpoint_days)  # validated int, safe in SQL text
    # The ASOF key packs the instant and the type's rank: t.key < s.key exactly when the
    # touchpoint is strictly before the answer, and at one instant the highest rank wins.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE kpi_surveys AS
WITH s AS (SELECT *, epoch_us(event_time) * {width} AS k FROM ({answers})),
t AS (
  SELECT customer_id, event_time, event_type AS touchpoint,
         epoch_us(event_time) * {width} + CASE event_type {rank} END AS k
  FROM cx_events
  WHERE event_type IN ({types})
    AND event_time >= $t0 - INTERVAL {days} DAY AND event_time < $t1
)
SELECT s.* EXCLUDE (k),
       CASE WHEN t.event_time >= s.event_time - INTERVAL {days} DAY THEN t.touchpoint
            ELSE '{NO_TOUCHPOINT}' END AS touchpoint
FROM s ASOF LEFT JOIN t ON s.customer_id = t.customer_id AND s.k > t.k""", params)


def _active(con: duckdb.DuckDBPyConnection, window: dict) -> None:
    """Temp table kpi_active: one row per customer and month active, with what they answered."""
    params: dict[str, object] = {**window, **SURVEYS}
    types = _in_list("a", schema.ACTIVITY_EVENT_TYPES, params)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE kpi_active AS
WITH act AS (
  SELECT DISTINCT customer_id, {MKEY} AS mkey FROM cx_events
  WHERE event_type IN ({types}) AND event_time >= $t0 AND event_time < $t1
),
resp AS (
  SELECT customer_id, mkey, bool_or(event_type = $nps) AS nps, bool_or(event_type = $csat)
         AS csat, bool_or(event_type = $ces) AS ces
  FROM kpi_surveys GROUP BY customer_id, mkey
)
SELECT a.customer_id, a.mkey, r.customer_id IS NOT NULL AS responded,
       coalesce(r.nps, false) AS nps, coalesce(r.csat, false) AS csat,
       coalesce(r.ces, false) AS ces
FROM act a LEFT JOIN resp r ON r.customer_id = a.customer_id AND r.mkey = a.mkey""", params)


def _at_risk(con: duckdb.DuckDBPyConnection, config: KpiConfig, months: pd.DatetimeIndex,
             data_end: pd.Timestamp | None) -> None:
    """Temp table kpi_risk: (customer_id, mkey, churned) for every customer at risk."""
    if config.churn == "contractual":
        con.execute("""CREATE OR REPLACE TEMP TABLE kpi_risk AS
WITH gone AS (
  SELECT customer_id, min(event_time) AS t FROM cx_events WHERE event_type = $cancel
  GROUP BY customer_id
)
SELECT c.customer_id, m.mkey, coalesce(g.t < m.month_end, false) AS churned
FROM cx_customers c CROSS JOIN kpi_months m LEFT JOIN gone g ON g.customer_id = c.customer_id
WHERE c.signup_date < m.month AND (g.t IS NULL OR g.t >= m.month)""",
                    {"cancel": labels.CANCELLATION})
        return
    label = labels.LabelConfig(kind="non_contractual", horizon_days=config.horizon_days,
                               active_within_days=config.active_within_days)
    horizon = pd.Timedelta(days=config.horizon_days)
    labelled = [m for m in months if data_end is not None and m + horizon <= data_end]
    pit.register(con, "cx_dates", pd.DataFrame({schema.CUTOFF: pd.DatetimeIndex(
        labelled, tz="UTC").as_unit("us")}))
    sql, params = labels.eligibility_sql(label)
    con.execute(f"CREATE OR REPLACE TEMP TABLE cx_cutoffs AS {sql}", params)
    sql, params = labels.labels_sql(label)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE kpi_risk AS
SELECT l.customer_id, m.mkey, l.{schema.LABEL} = 1 AS churned
FROM ({sql}) l JOIN kpi_months m ON m.month = l.cutoff""", params)


def _customer_join(keys: list[str], alias: str) -> str:
    if all(k in (MONTH, *SURVEY_KEYS) for k in keys):
        return ""  # no customer attribute asked: skip the join
    return f"LEFT JOIN cx_customers c ON c.customer_id = {alias}.customer_id"


def _survey_counts(con: duckdb.DuckDBPyConnection, keys: list[str]) -> pd.DataFrame:
    sql = f"""SELECT {_select(keys, "s.mkey")}
  count_if(event_type = $nps) AS n_nps,
  count_if(event_type = $nps AND score >= $pro) AS n_promoters,
  count_if(event_type = $nps AND score > $det AND score < $pro) AS n_passives,
  count_if(event_type = $nps AND score <= $det) AS n_detractors,
  count_if(event_type = $csat) AS n_csat,
  count_if(event_type = $csat AND score >= $sat) AS n_csat_satisfied,
  count_if(event_type = $ces) AS n_ces,
  avg(score) FILTER (WHERE event_type = $ces) AS ces_mean,
  stddev_samp(score) FILTER (WHERE event_type = $ces) AS ces_sd,
  count_if(event_type = $ces AND score >= $high) AS n_high_effort
FROM kpi_surveys s {_customer_join(keys, "s")} {_group(keys)}"""
    params = {**SURVEYS, "pro": PROMOTER_MIN, "det": DETRACTOR_MAX, "sat": CSAT_SATISFIED_MIN,
              "high": HIGH_EFFORT_MIN}
    return _fetch(con, sql, params, keys)


def _response_counts(con: duckdb.DuckDBPyConnection, keys: list[str]) -> pd.DataFrame:
    sql = f"""SELECT {_select(keys, "a.mkey")}
  count(*) AS n_active, count_if(a.responded) AS n_responded, count_if(a.nps) AS
  n_responded_nps, count_if(a.csat) AS n_responded_csat, count_if(a.ces) AS n_responded_ces
FROM kpi_active a {_customer_join(keys, "a")} {_group(keys)}"""
    return _fetch(con, sql, {}, keys)


def _churn_counts(con: duckdb.DuckDBPyConnection, keys: list[str]) -> pd.DataFrame:
    sql = f"""SELECT {_select(keys, "r.mkey")}
  count(*) AS n_at_risk, count_if(r.churned) AS n_churned
FROM kpi_risk r {_customer_join(keys, "r")} {_group(keys)}"""
    return _fetch(con, sql, {}, keys)


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: dict, keys: list[str]
           ) -> pd.DataFrame:
    frame = con.sql(sql, params=params).to_arrow_table().to_pandas()
    if MONTH in keys:  # the integer month key back to the month's first instant, UTC
        key = frame[MONTH].astype("int64")
        frame[MONTH] = pd.to_datetime(pd.DataFrame(
            {"year": key // 12, "month": key % 12 + 1, "day": 1}), utc=True
        ).astype("datetime64[us, UTC]")
    return frame


def _grid(months: pd.DatetimeIndex, keys: list[str], parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Every month x every level combination seen anywhere: empty cells become rows too."""
    others = [k for k in keys if k != MONTH]
    if not keys:
        return pd.DataFrame(index=[0])
    if others:
        levels = pd.concat([p[others] for p in parts]).drop_duplicates()
    else:
        levels = pd.DataFrame(index=[0])
    if MONTH in keys:
        levels = levels.merge(pd.DataFrame({MONTH: months}), how="cross")
    grid = levels[keys].sort_values(keys, kind="stable").reset_index(drop=True)
    return grid


def _rates(t: pd.DataFrame, min_n: int, per_customer: bool) -> pd.DataFrame:
    s = kpi_stats
    counts = [c for c in t.columns if c.startswith("n_")]
    if not per_customer:
        for c in ("n_active", "n_responded", "n_responded_nps", "n_responded_csat",
                  "n_responded_ces", "n_at_risk", "n_churned"):
            t[c] = pd.NA
    t[counts] = t[counts].fillna(0).astype("int64")
    for c in (c for c in t.columns if c.startswith("n_") and c not in counts):
        t[c] = t[c].astype("Int64")
    num = {c: t[c].to_numpy(dtype=float, na_value=np.nan) for c in t.columns
           if c.startswith("n_")}
    t["promoters"], t["passives"], t["detractors"] = (
        s.share(num[c], num["n_nps"]) for c in ("n_promoters", "n_passives", "n_detractors"))
    t["nps"], t["nps_ci_low"], t["nps_ci_high"] = s.nps_interval(
        num["n_promoters"], num["n_detractors"], num["n_nps"])
    t["csat"], t["csat_ci_low"], t["csat_ci_high"] = s.wilson(num["n_csat_satisfied"],
                                                              num["n_csat"])
    t["ces_mean"] = t["ces_mean"].astype(float)
    t["ces_sd"] = t["ces_sd"].astype(float)
    t["ces_ci_low"], t["ces_ci_high"] = s.mean_interval(t["ces_mean"], t["ces_sd"],
                                                        num["n_ces"])
    t["high_effort"], t["high_effort_ci_low"], t["high_effort_ci_high"] = s.wilson(
        num["n_high_effort"], num["n_ces"])
    t["response_rate"], t["response_ci_low"], t["response_ci_high"] = s.wilson(
        num["n_responded"], num["n_active"])
    for kpi in SURVEYS:
        t[f"{kpi}_response_rate"] = s.share(num[f"n_responded_{kpi}"], num["n_active"])
    t["churn_rate"], t["churn_ci_low"], t["churn_ci_high"] = s.wilson(num["n_churned"],
                                                                      num["n_at_risk"])
    n_of = {"nps": "n_nps", "csat": "n_csat", "ces": "n_ces", "response": "n_active",
            "churn": "n_at_risk"}
    for kpi in SMALL:
        t[f"small_{kpi}"] = np.nan_to_num(num[n_of[kpi]], nan=0.0) < min_n
    return t[[c for c in t.columns if c not in COLUMNS] + list(COLUMNS)]

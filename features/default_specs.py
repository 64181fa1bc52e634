"""The default feature spec set, as data: what the demo, the tests and the service build.

Every entry is a spec (``features.spec``); the helpers below only expand windows. A tuned or
custom set is a JSON/YAML spec file (``features.spec.load_specs``), which this set can seed:
``dump_specs(DEFAULT_SPECS, "specs.yaml")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from features import schema
from features.spec import (
    AggregateSpec,
    Aggregation,
    BtydSpec,
    Family,
    FeatureSpec,
    Filter,
    Monotone,
    NpsCategorySpec,
    TrendOp,
    TrendSpec,
    ValueColumn,
    validate_specs,
)


def _agg(name: str, description: str, family: Family, event_types: Sequence[str],
         aggregation: Aggregation, *, column: ValueColumn | None = None, window: int | None = None,
         flt: Filter | None = None, channel: str | None = None, text: str | None = None,
         monotone: Monotone = 0, half_life: float | None = None, cap: float | None = None,
         power: float | None = None) -> AggregateSpec:
    return AggregateSpec(name=name, description=description, family=family,
                         event_types=tuple(event_types), aggregation=aggregation, column=column,
                         window_days=window, filter=flt, channel=channel, text_signal=text,
                         monotone=monotone, half_life_days=half_life, cap=cap, power=power)


def _windows(stem: str, description: str, windows: Sequence[int], *args: Any,
             **kwargs: Any) -> list[AggregateSpec]:
    return [_agg(f"{stem}_{w}d", f"{description} in the last {w} days", *args, window=w, **kwargs)
            for w in windows]


def _trend(name: str, description: str, recent: str, baseline: str, op: TrendOp) -> TrendSpec:
    return TrendSpec(name=name, description=description, family="trend",
                     inputs=(recent, baseline), op=op)


_LATE = Filter("duration", ">", 0.0)
_SLOW = Filter("duration", ">", 48.0)
# Half-life of a bad (or good) experience's effect on how a customer feels: about two months.
# Chosen to match the synthetic world's satisfaction dynamics (features/simulate_truth.py,
# DAMAGE_DECAY: 1 - 1/90 a day); for real data it is a reasonable prior that a tuned spec
# file can change.
FADE_DAYS = 62.0
_ACTIVE = schema.ACTIVITY_EVENT_TYPES


def _default_specs() -> tuple[FeatureSpec, ...]:
    s: list[FeatureSpec] = []
    # recency / frequency / monetary
    s += [
        _agg("days_since_last_order", "days since the last order", "rfm", ["order"],
             "days_since_last", monotone=1),
        _agg("days_since_last_session", "days since the last web or app session", "rfm",
             ["session"], "days_since_last", monotone=1),
        _agg("days_since_last_activity", "days since the customer was last active", "rfm",
             _ACTIVE, "days_since_last", monotone=1),
        _agg("orders_total", "number of orders ever", "rfm", ["order"], "count"),
        _agg("order_value_total", "total value of all orders ever", "rfm", ["order"], "sum",
             column="amount"),
    ]
    # the purchase-history (BTYD) statistics: frequency, recency, age, pace and regularity
    s += [
        _agg("repeat_orders", "number of orders after the first", "rfm", ["order"],
             "repeat_count"),
        _agg("days_since_first_order", "days since the first order", "rfm", ["order"],
             "days_since_first"),
        _agg("order_span_days", "days from the first to the last order", "rfm", ["order"],
             "active_span"),
        _agg("order_gap_mean", "average number of days between two orders", "rfm", ["order"],
             "gap_mean"),
        _agg("order_gap_cv", "how irregular the time between orders is (spread against the "
             "average)", "rfm", ["order"], "gap_cv"),
    ]
    s += _windows("orders", "number of orders", (7, 30, 90, 180), "windowed", ["order"], "count",
                  monotone=-1)
    s += _windows("order_value", "total order value", (30, 90, 180), "windowed", ["order"],
                  "sum", column="amount")
    s += _windows("order_value_mean", "average order value", (90, 180), "windowed", ["order"],
                  "mean", column="amount")
    s += [_agg("order_value_max_180d", "largest order value in the last 180 days", "windowed",
               ["order"], "max", column="amount", window=180)]
    s += _windows("returns", "number of returns", (30, 90, 180), "windowed", ["return"], "count")
    s += _windows("return_value", "value of returned goods", (90,), "windowed", ["return"], "sum",
                  column="amount")
    s += _windows("sessions", "number of web or app sessions", (7, 30, 90, 180), "windowed",
                  ["session"], "count", monotone=-1)
    s += [_agg("sessions_decayed", "web or app sessions, recent ones weighing more", "windowed",
               ["session"], "decayed_sum", half_life=30.0,
               monotone=-1),
          _agg("email_opens_decayed", "marketing emails opened, recent ones weighing more",
               "windowed", ["email_open"], "decayed_sum",
               half_life=FADE_DAYS, monotone=-1)]
    s += _windows("session_minutes", "minutes spent in sessions", (30, 90), "windowed",
                  ["session"], "sum", column="duration")
    s += _windows("email_opens", "number of marketing emails opened", (30, 90), "windowed",
                  ["email_open"], "count")
    s += _windows("active_events", "number of activity events", (30, 90), "windowed", _ACTIVE,
                  "count")
    # trends: recent versus earlier
    s += [
        _trend("orders_trend_30_180", "order rate in the last 30 days versus the last 180 days",
               "orders_30d", "orders_180d", "rate_ratio"),
        _trend("sessions_trend_30_90", "session rate in the last 30 days versus the last 90 days",
               "sessions_30d", "sessions_90d", "rate_ratio"),
        _trend("order_value_trend_30_180",
               "spending rate in the last 30 days versus the last 180 days",
               "order_value_30d", "order_value_180d", "rate_ratio"),
        _trend("activity_trend_30_90", "activity rate in the last 30 days versus the last 90 days",
               "active_events_30d", "active_events_90d", "rate_ratio"),
        _trend("csat_trend_30_180",
               "average CSAT in the last 30 days minus the average over the last 180 days",
               "csat_mean_30d", "csat_mean_180d", "difference"),
    ]
    # CX metrics
    s += [
        _agg("nps_last", "the last NPS score given", "cx", ["survey_nps"], "last",
             column="score", monotone=-1),
        NpsCategorySpec(name="nps_category", description="detractor, passive or promoter, "
                        "from the last NPS score", family="cx", inputs=("nps_last",)),
        _agg("nps_change", "the last NPS score minus the one before it", "cx", ["survey_nps"],
             "change", column="score"),
        _agg("days_since_last_nps", "days since the last NPS answer", "cx", ["survey_nps"],
             "days_since_last"),
        _agg("nps_mean_180d", "average NPS score in the last 180 days", "cx", ["survey_nps"],
             "mean", column="score", window=180, monotone=-1),
        _agg("nps_detractor_answers_180d", "NPS answers of 6 or less in the last 180 days", "cx",
             ["survey_nps"], "count", window=180, flt=Filter("score", "<=", 6.0), monotone=1),
        _agg("csat_last", "the last CSAT score given", "cx", ["survey_csat"], "last",
             column="score", monotone=-1),
        _agg("csat_min_180d", "lowest CSAT score in the last 180 days", "cx", ["survey_csat"],
             "min", column="score", window=180),
        _agg("ces_last", "the last customer effort score given", "cx", ["survey_ces"], "last",
             column="score", monotone=1),
        _agg("nps_decayed_mean", "average NPS score, recent answers weighing more", "cx",
             ["survey_nps"], "decayed_mean", column="score",
             half_life=FADE_DAYS, monotone=-1),
        _agg("csat_decayed_mean", "average CSAT score, recent answers weighing more", "cx",
             ["survey_csat"], "decayed_mean", column="score",
             half_life=FADE_DAYS, monotone=-1),
    ]
    s += _windows("csat_mean", "average CSAT score", (30, 90, 180), "cx", ["survey_csat"], "mean",
                  column="score", monotone=-1)
    s += _windows("ces_mean", "average customer effort score", (90, 180), "cx", ["survey_ces"],
                  "mean", column="score")
    # service friction
    s += _windows("tickets", "number of support tickets", (7, 30, 90, 180), "friction",
                  ["support_ticket"], "count")
    s += _windows("ticket_hours_mean", "average hours to resolve a support ticket", (30, 90),
                  "friction", ["support_ticket"], "mean", column="duration", monotone=1)
    s += [_agg("ticket_hours_max_90d", "longest hours to resolve a ticket in the last 90 days",
               "friction", ["support_ticket"], "max", column="duration", window=90, monotone=1),
          _agg("slow_tickets_90d", "tickets that took over 48 hours to resolve in the last 90 "
               "days", "friction", ["support_ticket"], "count", window=90,
               flt=Filter("duration", ">", 48.0), monotone=1)]
    s += _windows("reopenings", "support tickets reopened", (30, 90), "friction",
                  ["ticket_reopened"], "count", monotone=1)
    s += _windows("complaints", "formal complaints", (30, 90, 180), "friction", ["complaint"],
                  "count", monotone=1)
    s += [_agg("days_since_last_complaint", "days since the last formal complaint", "friction",
               ["complaint"], "days_since_last")]
    # fading damage: what a bad experience still weighs today (see FADE_DAYS)
    # Short, because the retention page shows it as a reason; the half-life is in the spec.
    fading = "recent ones weighing more"
    s += [
        _agg("ticket_damage", f"support tickets, {fading}", "friction", ["support_ticket"],
             "decayed_sum", half_life=FADE_DAYS, monotone=1),
        _agg("slow_ticket_damage", "support tickets that took over 48 hours, longer waits "
             f"and {fading}", "friction",
             ["support_ticket"], "decayed_sum", column="duration", flt=_SLOW,
             half_life=FADE_DAYS, cap=144.0, power=0.5, monotone=1),
        _agg("reopening_damage", f"support tickets reopened, {fading}", "friction",
             ["ticket_reopened"], "decayed_sum", half_life=FADE_DAYS, monotone=1),
        _agg("complaint_damage", f"formal complaints, {fading}", "friction", ["complaint"],
             "decayed_sum", half_life=FADE_DAYS, monotone=1),
        _agg("payment_failure_damage", f"failed payments, {fading}", "friction",
             ["payment_failed"], "decayed_sum", half_life=FADE_DAYS, monotone=1),
        _agg("days_since_last_payment_failure", "days since the last failed payment", "friction",
             ["payment_failed"], "days_since_last", monotone=-1),
        _agg("price_rise_damage", f"monthly price rises (amount), {fading}", "friction",
             ["price_change"], "decayed_sum", column="amount", flt=Filter("amount", ">", 0.0),
             half_life=FADE_DAYS, monotone=1),
        _agg("price_cut_relief", f"monthly price cuts (negative amount), {fading}", "friction",
             ["price_change"], "decayed_sum", column="amount", flt=Filter("amount", "<", 0.0),
             half_life=FADE_DAYS, monotone=1),
        _agg("price_change_total", "current monthly price minus the price at signup (all price "
             "changes ever)", "friction", ["price_change"], "sum", column="amount", monotone=1),
    ]
    s += _windows("payment_failures", "failed payments", (30, 90), "friction",
                  ["payment_failed"], "count", monotone=1)
    s += [_agg("price_rises_180d", "price rises in the last 180 days", "friction",
               ["price_change"], "count", window=180, flt=Filter("amount", ">", 0.0), monotone=1),
          _agg("price_change_180d", "total monthly price change in the last 180 days", "friction",
               ["price_change"], "sum", column="amount", window=180, monotone=1)]
    # delivery experience
    s += _windows("deliveries", "number of deliveries", (30, 90), "delivery", ["delivery"],
                  "count")
    s += _windows("late_deliveries", "late deliveries", (30, 90, 180), "delivery", ["delivery"],
                  "count", flt=_LATE, monotone=1)
    s += _windows("late_share", "share of deliveries that arrived late", (90, 180), "delivery",
                  ["delivery"], "share", flt=_LATE, monotone=1)
    s += _windows("delivery_delay_mean", "average delivery delay in days", (90, 180), "delivery",
                  ["delivery"], "mean", column="duration", monotone=1)
    s += [_agg("delivery_delay_max_90d", "longest delivery delay in days in the last 90 days",
               "delivery", ["delivery"], "max", column="duration", window=90, monotone=1),
          _agg("late_delivery_damage", "late deliveries, longer delays (up to 6 days) and recent "
               "ones weighing more", "delivery", ["delivery"],
               "decayed_sum", column="duration", flt=_LATE, half_life=FADE_DAYS, cap=6.0,
               power=0.6, monotone=1)]
    # channel mix
    s += [_agg(f"channel_share_{ch}_90d", f"share of activity through {ch.replace('_', ' ')} "
               f"in the last 90 days", "channel", _ACTIVE, "share", window=90, channel=ch)
          for ch in schema.CHANNELS]
    # text feedback
    s += _windows("feedback", "free-text feedback messages", (90,), "text", ["feedback"], "count")
    s += _windows("negative_feedback", "feedback messages with negative words", (30, 90, 180),
                  "text", ["feedback"], "count", text="negative", monotone=1)
    s += [_agg("negative_feedback_share_180d", "share of feedback messages with negative words "
               "in the last 180 days", "text", ["feedback"], "share", window=180,
               text="negative", monotone=1),
          _agg("positive_feedback_90d", "feedback messages with positive words in the last 90 "
               "days", "text", ["feedback"], "count", window=90, text="positive")]
    # BG/NBD fitted at each cutoff on the orders before it (features.btyd_features); last,
    # as the build adds their columns after the SQL ones
    s += [BtydSpec(name="order_p_alive", description="chance the customer is still ordering, "
                   "judged from their order history", family="rfm", output="p_alive",
                   monotone=-1),
          BtydSpec(name="expected_orders_90d", description="orders expected in the next 90 "
                   "days, judged from the order history", family="rfm",
                   output="expected_purchases", horizon_days=90, monotone=-1)]
    return validate_specs(s)


DEFAULT_SPECS: tuple[FeatureSpec, ...] = _default_specs()

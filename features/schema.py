"""The data contract's vocabulary, in one place.

Loaders validate against it, the simulator emits it and the feature specs refer to it, so a
new event type or channel is added here and nowhere else.
"""

from __future__ import annotations

from typing import Final

CUSTOMER_ID: Final = "customer_id"
CUTOFF: Final = "cutoff"
LABEL: Final = "churned"

# customers: required columns; any other column passes through as a static attribute.
CUSTOMER_COLUMNS: Final = ("customer_id", "signup_date")

# events, long format: one row per touchpoint.
EVENT_COLUMNS: Final = (
    "customer_id", "event_time", "event_type", "channel", "amount", "score", "duration", "text",
)
EVENT_REQUIRED: Final = ("customer_id", "event_time", "event_type", "channel")

# actions: retention treatments and their outcomes.
ACTION_COLUMNS: Final = ("customer_id", "action_time", "action_type", "cost", "outcome")
ACTION_REQUIRED: Final = ("customer_id", "action_time", "action_type")

# What each event type means and how its nullable columns are used.
EVENT_TYPES: Final[dict[str, str]] = {
    "order": "a purchase; amount = order value",
    "delivery": "a delivery; duration = delay in days versus the promised date (<= 0 on time)",
    "return": "goods sent back; amount = refunded value",
    "support_ticket": "a support ticket; duration = hours to resolve",
    "ticket_reopened": "a support ticket reopened because the first answer did not solve it",
    "complaint": "a formal complaint",
    "survey_nps": "NPS survey answer; score 0-10",
    "survey_csat": "CSAT survey answer; score 1-5",
    "survey_ces": "customer effort score answer; score 1-7 (higher = more effort)",
    "session": "a web or app session; duration = minutes",
    "email_open": "a marketing email opened",
    "price_change": "the customer's price changed; amount = change per month (> 0 a rise)",
    "payment_failed": "a payment attempt failed; amount = amount due",
    "feedback": "free-text feedback; text = what the customer wrote (any language)",
    "cancellation": "the customer cancelled (contractual churn)",
}

CHANNELS: Final = ("web", "app", "store", "call_centre", "email", "chat")

# Closed score scales per survey type (inclusive).
SCORE_SCALES: Final[dict[str, tuple[float, float]]] = {
    "survey_nps": (0, 10),
    "survey_csat": (1, 5),
    "survey_ces": (1, 7),
}

# Events that count as the customer being active (non-contractual churn = none of these).
ACTIVITY_EVENT_TYPES: Final = ("order", "session", "email_open", "survey_nps", "survey_csat",
                                "survey_ces", "support_ticket", "feedback")

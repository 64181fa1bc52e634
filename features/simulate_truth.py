"""The churn hazard of the synthetic world, and the truth written beside the data.

One function, ``daily_hazard``, drives both the simulated cancellations and the recorded
truth, so the truth is the world's own risk, not a second model of it.

Hazard (per day) = exp(linear predictor) + LIFE_HAZARD, where the linear predictor falls with
latent satisfaction, rises for new customers, for price rises (times the customer's price
sensitivity), for a plan bigger than the customer needs and right after a failed payment,
and is lower on annual contracts. ``LIFE_HAZARD`` stands for life events (moving, job loss)
that no data shows: it is the same for everyone, so it dilutes every ranking, the truth's too.

Truth definition (``churn_probability``): at a cutoff c, with the latent state known exactly
as it is at c, p = 1 - exp(-sum of daily hazards over the horizon days) along the *expected*
path of the state: damage decays towards the customer's baseline, the expected damage of
future late deliveries and tickets is added at the customer's current rates, the mood noise
decays to its mean, tenure grows and the failed-payment effect fades. This is a first-order
(mean-path) approximation of the exact expectation E[1 - exp(-sum of hazards)]: it ignores the
spread of future shocks around their mean, so realised churn runs a little above the mean
p_churn, but it ranks customers by exactly what is knowable at c. A company-wide price rise
that starts inside the horizon (2025-03-01 in the default world) is a future shock too: the
truth at that cutoff does not know it, which is why that month's realised churn runs high.

The world writes the truth at its own horizon (``p_churn``) and at each of ``TRUTH_HORIZONS``
(``p_churn_30d``, ...), read off the same expected path (``churn_probabilities``), so the
multi-horizon truth is non-decreasing in the horizon by construction.

Action effects (``action_effects``): the same formula on a treated copy of the state (e.g. the
apology voucher repairs most of the damage late deliveries did); effect = p - p_treated, the
absolute reduction of the churn probability. Effects are heterogeneous by design and can be
slightly negative (a manager's call annoys a happy customer).

The retention pilot (``SimConfig.pilot_share``) applies ``treated`` to the simulated customers
themselves, so the actions table's outcomes carry these very effects. Both the truth and the
effects at a cutoff describe the state *before* that cutoff's treatment (the pilot acts right
after they are recorded); earlier cutoffs' treatments are part of that state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from statistics import NormalDist
from typing import Final

import numpy as np

# Dynamics constants shared with the simulation loop.
DAMAGE_DECAY: Final = 1.0 - 1.0 / 90.0  # experience damage fades with a ~62-day half-life
NOISE_AR: Final = 0.97  # persistence of the unobserved mood noise
NOISE_SD: Final = 0.06  # stationary sd of the unobserved mood noise

# Observable drivers: satisfaction shocks (negative = hurts) and the rates that produce them.
LATE_SHOCK: Final = -0.3  # times min(delay days, 6) ** 0.6, when the late parcel arrives
LATE_DELAY_MEAN: Final = 2.2  # delay of a late parcel ~ ceil(exponential(mean)) days
TICKET_SHOCK: Final = -0.06  # any ticket
SLOW_SHOCK: Final = -0.35  # resolved after more than 48 hours (grows with the wait)
TICKET_HOURS_LOG: Final = (float(np.log(16.0)), 0.9)  # lognormal hours to resolve
REOPEN_SHOCK: Final = -0.3
REOPEN_BASE, REOPEN_SLOW = 0.10, 0.25  # P(reopened) = base + slow * [ticket was slow]
RISE_SHOCK: Final = -3.0  # per unit of relative price rise (a 10% rise: -0.3)
FAILED_PAYMENT_SHOCK: Final = -0.3
COMPLAINT_SHOCK: Final = -0.1
ORDER_SATISFACTION: Final = 0.35  # orders per day = order_rate * exp(0.35 * satisfaction)
TICKET_BASE: Final = 0.008  # tickets per day, times exp(-TICKET_DAMAGE * (delivery+payment))
TICKET_DAMAGE: Final = 1.5
TICKET_MAX: Final = 0.3

LOG_BASE: Final = float(np.log(0.00017))
SATISFACTION: Final = 3.2  # log-hazard per unit of satisfaction (lower satisfaction, more risk)
NEW_CUSTOMER: Final = 0.9  # extra log-hazard at tenure 0, fading over NEW_CUSTOMER_DAYS
NEW_CUSTOMER_DAYS: Final = 120.0
ANNUAL: Final = -1.2
PRICE: Final = 2.6  # per unit of (relative price rise + overpaying premium) x sensitivity
OVERPAYING: Final = 0.1
PAYMENT: Final = 1.4  # right after a failed payment, fading over PAYMENT_DAYS
PAYMENT_DAYS: Final = 12.0
LIFE_HAZARD: Final = 0.0001  # per day, unobservable
# Horizons (days) at which the world also records the truth (``p_churn_<h>d`` columns), so
# that churn over several horizons can be judged against what the world knows.
TRUTH_HORIZONS: Final = (30, 60, 90)


def late_factor(delay: np.ndarray) -> np.ndarray:
    """How much a delay (days) hurts, before LATE_SHOCK: grows slower than the delay."""
    return np.clip(delay, 0.0, 6.0) ** 0.6


def slow_factor(hours: np.ndarray) -> np.ndarray:
    """How much a slow ticket hurts, before SLOW_SHOCK: 0 within 48 hours."""
    return (hours > 48) * np.minimum(hours / 48, 3.0) ** 0.5


@lru_cache(maxsize=1)
def expected_shocks() -> tuple[float, float]:
    """Mean satisfaction shock per late delivery and per ticket (incl. a later reopening).

    Computed by quadrature on fixed grids (no randomness), for the truth's expected path.
    """
    k = np.arange(1, 200, dtype=float)  # ceil(exponential) delays
    pk = np.exp(-(k - 1) / LATE_DELAY_MEAN) - np.exp(-k / LATE_DELAY_MEAN)
    late = LATE_SHOCK * float((pk * late_factor(np.minimum(k, 20.0))).sum())
    q = (np.arange(20_000) + 0.5) / 20_000  # quantiles of the hours distribution
    mu, sd = TICKET_HOURS_LOG
    z = np.array([NormalDist().inv_cdf(x) for x in q[::10]])
    hours = np.minimum(np.exp(mu + sd * z), 400.0)
    slow = hours > 48
    ticket = TICKET_SHOCK + SLOW_SHOCK * slow_factor(hours) + REOPEN_SHOCK * (
        REOPEN_BASE + REOPEN_SLOW * slow
    )
    return late, float(ticket.mean())


ACTION_TYPES: Final = (
    "apology_voucher",
    "priority_callback",
    "cx_manager_call",
    "loyalty_offer",
    "re_engagement",
    "plan_rightsizing",
)
# Cost of one pilot treatment, as in serving/retention/actions.yaml (offer plus staff time, EUR), so
# that uplift learned from the pilot can be weighed against what the catalogue will spend.
PILOT_COSTS: Final[dict[str, float]] = {
    "apology_voucher": 5.0,
    "priority_callback": 12.0,
    "cx_manager_call": 25.0,
    "loyalty_offer": 20.0,
    "re_engagement": 2.0,
    "plan_rightsizing": 10.0,
}


def daily_hazard(
    satisfaction: np.ndarray,
    tenure_days: np.ndarray,
    annual: np.ndarray,
    sensitivity: np.ndarray,
    price_gap: np.ndarray,
    overpaying: np.ndarray,
    days_since_failure: np.ndarray,
) -> np.ndarray:
    """Per-day cancellation hazard; the daily probability is 1 - exp(-hazard)."""
    linear = (
        LOG_BASE
        - SATISFACTION * satisfaction
        + NEW_CUSTOMER * np.exp(-np.maximum(tenure_days, 0.0) / NEW_CUSTOMER_DAYS)
        + ANNUAL * annual
        + PRICE * sensitivity * (np.maximum(price_gap, 0.0) + OVERPAYING * overpaying)
        + PAYMENT * np.exp(-days_since_failure / PAYMENT_DAYS)
    )
    return np.exp(linear) + LIFE_HAZARD


@dataclass(frozen=True)
class CutoffState:
    """The latent state of eligible customers at a cutoff (parallel arrays)."""

    baseline: np.ndarray
    d_delivery: np.ndarray  # satisfaction damage from deliveries (late ones hurt)
    d_support: np.ndarray  # ... from tickets, reopenings and complaints
    d_price: np.ndarray  # ... from price changes
    d_payment: np.ndarray  # ... from failed payments
    noise: np.ndarray  # unobserved mood noise
    tenure_days: np.ndarray
    annual: np.ndarray
    sensitivity: np.ndarray
    price_gap: np.ndarray  # current price / signup price - 1
    overpaying: np.ndarray
    days_since_failure: np.ndarray
    engagement: np.ndarray
    order_rate: np.ndarray
    late_rate: np.ndarray  # share of this customer's deliveries that arrive late
    care: np.ndarray  # satisfaction added by a treatment; fades like damage

    @property
    def satisfaction(self) -> np.ndarray:
        return (
            self.baseline + self.d_delivery + self.d_support + self.d_price + self.d_payment
            + self.noise + self.care
        )


def churn_probability(state: CutoffState, horizon_days: int) -> np.ndarray:
    """True P(cancel within the horizon | state at the cutoff): see the module docstring."""
    return churn_probabilities(state, (horizon_days,))[:, 0]


def churn_probabilities(state: CutoffState, horizons: tuple[int, ...]) -> np.ndarray:
    """True P(cancel within each horizon), (customers, horizons): one pass over the longest.

    The cumulative hazard along the expected path is read off at each horizon on the way, so
    the probabilities never fall as the horizon grows and each column equals
    ``churn_probability`` at that horizon exactly (the same sums in the same order).
    """
    if not horizons or any(int(h) < 1 for h in horizons):
        raise ValueError(f"horizons must be positive day counts; got {horizons!r}")
    late_mean, ticket_mean = expected_shocks()
    d_delivery, d_other = state.d_delivery, state.d_support + state.d_price + state.care
    d_payment, noise = state.d_payment, state.noise
    inflow_delivery = np.zeros(len(state.baseline))
    inflow_support = np.zeros(len(state.baseline))
    total = np.zeros(len(state.baseline))
    out = np.zeros((len(state.baseline), len(horizons)))
    for j in range(max(int(h) for h in horizons)):
        d_delivery = d_delivery * DAMAGE_DECAY + inflow_delivery
        d_other = d_other * DAMAGE_DECAY + inflow_support
        d_payment = d_payment * DAMAGE_DECAY
        noise = noise * NOISE_AR
        satisfaction = state.baseline + d_delivery + d_other + d_payment + noise
        total += daily_hazard(
            satisfaction,
            state.tenure_days + j,
            state.annual,
            state.sensitivity,
            state.price_gap,
            state.overpaying,
            state.days_since_failure + j + 1,
        )
        for k, h in enumerate(horizons):
            if int(h) == j + 1:
                out[:, k] = -np.expm1(-total)
        # Expected damage the day's orders and tickets will add (the path's drift).
        orders = state.order_rate * np.exp(ORDER_SATISFACTION * satisfaction)
        inflow_delivery = orders * state.late_rate * late_mean
        tickets = np.minimum(TICKET_BASE * np.exp(-TICKET_DAMAGE * (d_delivery + d_payment)),
                             TICKET_MAX)
        inflow_support = tickets * ticket_mean
    return out


def _repair(damage: np.ndarray, keep: float) -> np.ndarray:
    """Undo part of the negative damage (a treatment cannot add to good experiences)."""
    return np.where(damage < 0, damage * keep, damage)


def treated(state: CutoffState, action: str) -> CutoffState:
    """The state as it would be right after the retention action (see ACTION_TYPES)."""
    now = state.satisfaction
    if action == "apology_voucher":  # works where late deliveries did the damage
        return replace(state, d_delivery=_repair(state.d_delivery, 0.3))
    if action == "priority_callback":  # works where slow or reopened tickets did
        return replace(state, d_support=_repair(state.d_support, 0.4))
    if action == "cx_manager_call":  # closes the loop with unhappy customers; annoys happy ones
        return replace(state, care=state.care + np.where(now < -0.35, 0.45, -0.04))
    if action == "loyalty_offer":  # cancels the price rise for price-sensitive customers
        return replace(
            state, price_gap=np.minimum(state.price_gap, 0.0), d_price=_repair(state.d_price, 0.5)
        )
    if action == "re_engagement":  # brings back customers whose engagement is fading
        fading = (now - state.baseline < -0.3).astype(float)
        low = (state.engagement < 0.8).astype(float)
        return replace(state, care=state.care + 0.3 * fading + 0.12 * low)
    if action == "plan_rightsizing":  # helps customers paying for more than they use
        return replace(
            state,
            overpaying=np.zeros_like(state.overpaying),
            care=state.care + np.where(state.overpaying, 0.0, -0.03),
        )
    raise ValueError(f"unknown action type {action!r}; expected one of {ACTION_TYPES}")


def action_effects(state: CutoffState, horizon_days: int) -> np.ndarray:
    """Absolute churn-probability reduction per customer (rows) and action (ACTION_TYPES cols)."""
    base = churn_probability(state, horizon_days)
    return np.column_stack(
        [base - churn_probability(treated(state, a), horizon_days) for a in ACTION_TYPES]
    )

"""The daily simulation of one block of customers, vectorised over the block.

Each day, for every active customer at once: experience damage fades, scheduled shocks land
(a late delivery hurts on the day it arrives), the unobserved mood noise moves, the day's
cancellation is drawn from ``simulate_truth.daily_hazard``, and the day's events are drawn
with rates that depend on satisfaction. Observable events are what move satisfaction (late
deliveries, slow or reopened tickets, complaints, price rises, failed payments), and
engagement (sessions, email opens, orders), surveys and feedback text are readings of it, so
a model looking only at events can recover most of what the truth knows.

On a cutoff day the truth (``churn_probability`` and ``action_effects``) is recorded first,
then the optional retention pilot acts: each eligible customer joins with probability
``pilot_share`` and gets one action drawn uniformly from ``ACTION_TYPES``, applied to the
customer's live state exactly as ``simulate_truth.treated`` says, before the day's dynamics. So
the truth at a cutoff is the risk *before* that cutoff's treatment, and the realised outcomes
of treated customers show the true effects. The pilot draws from its own generator, so a world
without a pilot is the same, draw for draw, as one simulated before the pilot existed.

An optional crisis (``Shock``) starts on a date and lasts to the end of the world, so that
drift monitoring can be tested against a known cause: ``delivery`` makes late deliveries
SHOCK_LATE times as likely, ``support`` makes tickets SHOCK_TICKETS times as frequent and
SHOCK_HOURS times as slow, ``price`` raises every active customer's price by SHOCK_RISE on the
day. Delivery and support shocks only move thresholds and scales of draws that happen anyway;
the price shock draws its own numbers on its day only; so a world without a shock is the same,
draw for draw, as one simulated before shocks existed. From the shock on, the truth knows the
new late-delivery rate (it is part of the customer's state); the ticket rate of the truth's
expected path stays the normal one, so after a support shock the truth runs a little low.

There is one Python iteration per simulated day, never one per customer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

import numpy as np

from features import feedback_text
from features.simulate_events import EventBuffer
from features.simulate_population import DAY_US, REGION_LATE_RATE, Population, to_us
from features.simulate_truth import (
    ACTION_TYPES,
    COMPLAINT_SHOCK,
    DAMAGE_DECAY,
    FAILED_PAYMENT_SHOCK,
    LATE_DELAY_MEAN,
    LATE_SHOCK,
    NOISE_AR,
    NOISE_SD,
    ORDER_SATISFACTION,
    REOPEN_BASE,
    REOPEN_SHOCK,
    REOPEN_SLOW,
    RISE_SHOCK,
    SLOW_SHOCK,
    TICKET_BASE,
    TICKET_DAMAGE,
    TICKET_HOURS_LOG,
    TICKET_MAX,
    TICKET_SHOCK,
    TRUTH_HORIZONS,
    CutoffState,
    action_effects,
    churn_probabilities,
    daily_hazard,
    late_factor,
    slow_factor,
    treated,
)

RING: Final = 40  # how many days ahead a shock can be scheduled (deliveries, reopenings)
HOUR_US: Final = 3_600_000_000
# Pilot actions happen in the first hours of the cutoff day: after the cutoff (features at the
# cutoff see only t < cutoff, so nothing leaks) and early enough to act on that day's state.
PILOT_WINDOW_US: Final = 8 * HOUR_US
# Company-wide price rises: (date, plans affected, share of monthly customers, relative rise).
# Annual customers get them less often (their price is fixed until renewal).
PRICE_RISES: Final = (
    ("2024-04-01", (1, 2), 0.85, 0.10),
    ("2025-03-01", (0, 1, 2), 0.50, 0.08),
)
SESSIONS_PER_DAY: Final = 0.12
EMAIL_OPENS_PER_DAY: Final = 0.05
# Survey invitations: share of deliveries followed by a CSAT invitation; every ticket gets a
# CSAT and a CES invitation; NPS goes out every NPS_EVERY days of tenure.
CSAT_AFTER_DELIVERY: Final = 0.25
NPS_EVERY: Final = 91
# Crises (SimConfig.shock): what changes from the shock's day to the end of the world.
SHOCK_KINDS: Final = ("delivery", "price", "support")
SHOCK_LATE: Final = 3.0  # late-delivery probability multiplied (capped at SHOCK_LATE_MAX)
SHOCK_LATE_MAX: Final = 0.9
SHOCK_TICKETS: Final = 2.0  # ticket rate multiplied (capped at TICKET_MAX)
SHOCK_HOURS: Final = 2.0  # hours to resolve a ticket multiplied
SHOCK_RISE: Final = 0.12  # relative price rise of every active customer on the day


@dataclass(frozen=True)
class Shock:
    """A crisis of one of SHOCK_KINDS starting at ``start_us`` (UTC microseconds)."""

    kind: str
    start_us: int


@dataclass(frozen=True)
class BlockResult:
    """Events (column arrays, local customer numbers) and the truth for one block."""

    events: dict[str, np.ndarray]
    cancel_us: np.ndarray  # int64 max when never cancelled
    truth_customer: np.ndarray  # local customer number of each truth row
    truth_cutoff: np.ndarray  # index into the cutoffs
    truth_p: np.ndarray
    truth_horizons: np.ndarray  # (truth rows, TRUTH_HORIZONS): p_churn at each horizon
    effect_cutoff: np.ndarray  # per customer: newest cutoff eligible at (-1: never)
    effects: np.ndarray  # per customer x ACTION_TYPES, at effect_cutoff
    action_customer: np.ndarray  # local customer number of each pilot action
    action_us: np.ndarray  # action time, int64 microseconds UTC
    action_code: np.ndarray  # index into ACTION_TYPES


def _times(rng: np.random.Generator, day_us: int, k: int) -> np.ndarray:
    return day_us + (rng.random(k) * DAY_US).astype(np.int64)


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _clip_round(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(np.round(x), lo, hi)


def _subset(state: CutoffState, pos: np.ndarray) -> CutoffState:
    """The state of the customers at positions ``pos`` of a cutoff's state."""
    return CutoffState(**{f.name: getattr(state, f.name)[pos] for f in fields(CutoffState)})


def _pilot(
    rng: np.random.Generator,
    share: float,
    state: CutoffState,
    who: np.ndarray,
    day_us: int,
    price0: np.ndarray,
    live: dict[str, np.ndarray],
    buf: EventBuffer,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Enrol, treat and record a cutoff's pilot; returns (customers, times, action codes).

    ``state`` is the eligible customers' (``who``) state at the cutoff, before treatment;
    ``live`` holds the block's mutable arrays, which take the treated values. The treatment
    is ``simulate_truth.treated`` itself, so the world's outcomes carry the recorded effects.
    A loyalty offer that lowers the price also shows as a ``price_change`` event.
    """
    join = np.flatnonzero(rng.random(len(who)) < share)  # positions in who
    code = rng.integers(0, len(ACTION_TYPES), join.size)
    time_us = day_us + (rng.random(join.size) * PILOT_WINDOW_US).astype(np.int64)
    for a, action in enumerate(ACTION_TYPES):
        pos = join[code == a]
        if not pos.size:
            continue
        cust = who[pos]
        before = _subset(state, pos)
        after = treated(before, action)
        for name in ("d_delivery", "d_support", "d_price", "care", "overpaying"):
            live[name][cust] = getattr(after, name)
        moved = after.price_gap != before.price_gap
        if moved.any():
            cust, when = cust[moved], time_us[code == a][moved]
            new = np.round(price0[cust] * (1.0 + after.price_gap[moved]), 2)
            buf.add("price_change", cust, when, amount=new - live["price"][cust])
            live["price"][cust] = new
    return who[join], time_us, code


def simulate_block(
    rng: np.random.Generator,
    pop: Population,
    start_us: int,
    end_us: int,
    cutoffs_us: tuple[int, ...],
    horizon_days: int,
    activity: float,
    pilot_share: float = 0.0,
    pilot_rng: np.random.Generator | None = None,
    crisis: Shock | None = None,
) -> BlockResult:
    """Simulate one block from start to end; see the module docstring for the day's steps.

    ``pilot_rng`` is the pilot's own generator (needed when ``pilot_share`` > 0, untouched
    otherwise), so that adding a pilot leaves every other draw of ``rng`` where it was.
    ``crisis`` starts a shock (see the module docstring); None leaves the world as it was.
    """
    if pilot_share > 0 and pilot_rng is None:
        raise ValueError("simulate_block needs pilot_rng when pilot_share > 0")
    pilot = pilot_rng if pilot_share > 0 else None
    n = len(pop)
    n_days = (end_us - start_us) // DAY_US
    cutoff_day = {(c - start_us) // DAY_US: i for i, c in enumerate(cutoffs_us)}
    rise_day = {}
    for date, rise_plans, share, rise_share in PRICE_RISES:
        day = (to_us(date) - start_us) // DAY_US
        if 0 <= day < n_days:
            rise_day[day] = (np.isin(pop.plan, rise_plans), share, rise_share)

    start_abs = start_us // DAY_US
    signup_abs = pop.signup_us // DAY_US
    first_day = np.maximum(0, signup_abs - start_abs + 1)  # active from the day after signup
    tenure0 = (start_us - pop.signup_us) / DAY_US
    late_rate = np.asarray(REGION_LATE_RATE)[pop.region]
    # Day the shock starts (never, without one); the day's own steps already feel it.
    shock_day = (crisis.start_us - start_us + DAY_US - 1) // DAY_US if crisis else n_days
    kind = crisis.kind if crisis else None
    shocked_late = np.minimum(late_rate * SHOCK_LATE, SHOCK_LATE_MAX)
    respond = np.where(pop.responder, 0.45, 0.006)
    language = pop.turkish.astype(np.int64)
    billing_phase = (signup_abs % 30).astype(np.int16)  # monthly billing on the signup day
    nps_phase = ((signup_abs + 45) % NPS_EVERY).astype(np.int16)  # NPS mid-quarter of tenure

    alive = np.ones(n, dtype=bool)
    cancel_us = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    d_delivery, d_support, d_price, d_payment = (np.zeros(n) for _ in range(4))
    noise = rng.normal(0.0, NOISE_SD, n)
    innovation = NOISE_SD * np.sqrt(1 - NOISE_AR**2)
    price = pop.price0.copy()
    overpaying = pop.overpaying.copy()  # the pilot's plan rightsizing changes it
    care = np.zeros(n)  # satisfaction added by pilot treatments; fades like damage
    live = {"d_delivery": d_delivery, "d_support": d_support, "d_price": d_price, "care": care,
            "overpaying": overpaying, "price": price}
    since_failure = np.full(n, 1e4)
    ring_delivery = np.zeros((RING, n))
    ring_support = np.zeros((RING, n))

    truth_c: list[np.ndarray] = []
    truth_k: list[np.ndarray] = []
    truth_p: list[np.ndarray] = []
    truth_h: list[np.ndarray] = []
    truth_at = tuple(dict.fromkeys((horizon_days, *TRUTH_HORIZONS)))  # own horizon first
    effect_cutoff = np.full(n, -1, dtype=np.int64)
    effects = np.zeros((n, len(ACTION_TYPES)))
    pilot_c: list[np.ndarray] = []
    pilot_t: list[np.ndarray] = []
    pilot_a: list[np.ndarray] = []
    buf = EventBuffer()

    for d in range(n_days):
        day_us = start_us + d * DAY_US
        if d == shock_day and kind == "delivery":
            late_rate = shocked_late
        if d in cutoff_day:
            who = np.flatnonzero(alive & (pop.signup_us < day_us))
            state = CutoffState(
                baseline=pop.baseline[who], d_delivery=d_delivery[who],
                d_support=d_support[who], d_price=d_price[who], d_payment=d_payment[who],
                noise=noise[who], tenure_days=tenure0[who] + d, annual=pop.annual[who],
                sensitivity=pop.price_sensitivity[who],
                price_gap=price[who] / pop.price0[who] - 1.0, overpaying=overpaying[who],
                days_since_failure=since_failure[who], engagement=pop.engagement[who],
                order_rate=pop.order_rate[who], late_rate=late_rate[who], care=care[who],
            )
            truth_c.append(who)
            truth_k.append(np.full(len(who), cutoff_day[d], dtype=np.int64))
            p_all = churn_probabilities(state, truth_at)
            truth_p.append(p_all[:, 0])
            truth_h.append(p_all[:, [truth_at.index(h) for h in TRUTH_HORIZONS]])
            effects[who] = action_effects(state, horizon_days)
            effect_cutoff[who] = cutoff_day[d]
            if pilot is not None:  # after the truth: it is the risk before this treatment
                treated_who, action_us, code = _pilot(
                    pilot, pilot_share, state, who, day_us, pop.price0, live, buf
                )
                pilot_c.append(treated_who)
                pilot_t.append(action_us)
                pilot_a.append(code)

        act = alive & (first_day <= d)
        slot = d % RING
        d_delivery *= DAMAGE_DECAY
        d_delivery += ring_delivery[slot]
        ring_delivery[slot] = 0.0
        d_support *= DAMAGE_DECAY
        d_support += ring_support[slot]
        ring_support[slot] = 0.0
        d_price *= DAMAGE_DECAY
        d_payment *= DAMAGE_DECAY
        care *= DAMAGE_DECAY
        noise = NOISE_AR * noise + innovation * rng.standard_normal(n)
        since_failure += 1.0
        sat = pop.baseline + d_delivery + d_support + d_price + d_payment + noise + care
        u = rng.random((9, n))

        # Cancellation first: the day's other events survive only if they come before it.
        hazard = daily_hazard(
            sat, tenure0 + d, pop.annual, pop.price_sensitivity, price / pop.price0 - 1.0,
            overpaying, since_failure,
        )
        who = np.flatnonzero(act & (u[0] < -np.expm1(-hazard)))
        if who.size:
            t = _times(rng, day_us, who.size)
            cancel_us[who] = t
            alive[who] = False
            buf.add("cancellation", who, t)

        # Orders, their deliveries (late ones hurt when they arrive), returns, CSAT.
        who = np.flatnonzero(act & (u[1] < pop.order_rate * np.exp(ORDER_SATISFACTION * sat)))
        k = who.size
        if k:
            t = _times(rng, day_us, k)
            amount = np.round(rng.lognormal(np.log(25.0 + 20.0 * pop.plan[who]), 0.5), 2)
            buf.add("order", who, t, amount=amount)
            late = rng.random(k) < late_rate[who]
            late_days = np.minimum(np.ceil(rng.exponential(LATE_DELAY_MEAN, k)), 20.0)
            delay = np.where(late, late_days, -rng.integers(0, 2, k))  # on time: 0 or 1 early
            arrive = rng.integers(1, 4, k) + np.maximum(delay, 0).astype(np.int64)
            t_delivery = day_us + arrive * DAY_US + (rng.random(k) * DAY_US).astype(np.int64)
            buf.add("delivery", who, t_delivery, duration=delay)
            shock = np.where(late, LATE_SHOCK * late_factor(delay), 0.0)
            ring_delivery[(d + arrive) % RING, who] += shock
            ret = rng.random(k) < 0.05 + 0.12 * late
            t_return = t_delivery[ret] + rng.integers(1, 10, ret.sum()) * DAY_US
            buf.add("return", who[ret], t_return,
                    amount=np.round(amount[ret] * rng.uniform(0.3, 1.0, ret.sum()), 2))
            asked = rng.random(k) < CSAT_AFTER_DELIVERY * respond[who]
            csat = _clip_round(3.8 + 1.3 * (sat[who] + shock) + rng.normal(0, 0.8, k), 1, 5)
            t_csat = t_delivery + (rng.uniform(2, 48, k) * HOUR_US).astype(np.int64)
            buf.add("survey_csat", who[asked], t_csat[asked], score=csat[asked])

        # Support tickets: more likely after late deliveries and payment trouble; slow ones hurt.
        support_crisis = kind == "support" and d >= shock_day
        p_ticket = np.minimum(
            TICKET_BASE * np.exp(-TICKET_DAMAGE * (d_delivery + d_payment))
            * (SHOCK_TICKETS if support_crisis else 1.0), TICKET_MAX
        )
        who = np.flatnonzero(act & (u[2] < p_ticket))
        k = who.size
        if k:
            t = _times(rng, day_us, k)
            hours = rng.lognormal(*TICKET_HOURS_LOG, k)
            hours = np.minimum(hours * SHOCK_HOURS if support_crisis else hours, 400.0)
            slow = hours > 48
            shock = TICKET_SHOCK + SLOW_SHOCK * slow_factor(hours)
            d_support[who] += shock
            buf.add("support_ticket", who, t, duration=np.round(hours, 1))
            reopen = rng.random(k) < REOPEN_BASE + REOPEN_SLOW * slow
            t_reopen = t + ((hours + rng.uniform(1, 72, k)) * HOUR_US).astype(np.int64)
            reopen_day = np.maximum((t_reopen - start_us) // DAY_US, d + 1)
            ring_support[reopen_day[reopen] % RING, who[reopen]] += REOPEN_SHOCK
            buf.add("ticket_reopened", who[reopen], t_reopen[reopen])
            asked = rng.random(k) < respond[who]
            after = sat[who] + shock
            t_survey = t + ((hours + rng.uniform(1, 24, k)) * HOUR_US).astype(np.int64)
            csat = _clip_round(3.8 + 1.3 * after + rng.normal(0, 0.8, k), 1, 5)
            ces = _clip_round(3.0 - 1.1 * after + 1.2 * slow + rng.normal(0, 1.0, k), 1, 7)
            buf.add("survey_csat", who[asked], t_survey[asked], score=csat[asked])
            buf.add("survey_ces", who[asked], t_survey[asked] + HOUR_US // 60, score=ces[asked])

        # Complaints: what unhappy customers do; filing one adds to the frustration.
        # Rare events: keep the few customers under the rate's upper bound, then test exactly.
        who = np.flatnonzero(act & (u[3] < 0.05))
        who = who[u[3][who] < np.minimum(0.0004 * np.exp(-1.8 * sat[who]), 0.05)]
        if who.size:
            d_support[who] += COMPLAINT_SHOCK
            buf.add("complaint", who, _times(rng, day_us, who.size))

        # NPS relationship survey, answered by a minority.
        who = np.flatnonzero(nps_phase == (start_abs + d) % NPS_EVERY)
        who = who[act[who] & (u[4][who] < respond[who])]
        if who.size:
            nps = _clip_round(7.0 + 2.6 * sat[who] + rng.normal(0, 1.5, who.size), 0, 10)
            buf.add("survey_nps", who, _times(rng, day_us, who.size), score=nps)

        # Engagement: sessions and email opens fade as satisfaction falls.
        lam = SESSIONS_PER_DAY * activity * pop.engagement * np.exp(0.8 * sat) * act
        who = np.repeat(np.arange(n), rng.poisson(lam))
        if who.size:
            minutes = np.round(rng.lognormal(np.log(6.0) + 0.25 * sat[who], 0.7), 1)
            buf.add("session", who, _times(rng, day_us, who.size), duration=minutes)
        p_email = np.minimum(EMAIL_OPENS_PER_DAY * activity * np.exp(0.4 * sat), 1.0)
        who = np.flatnonzero(act & (u[5] < p_email))
        if who.size:
            buf.add("email_open", who, _times(rng, day_us, who.size))

        # Price changes: company-wide rises on fixed dates, and rare individual changes.
        rel = np.zeros(n)
        if d in rise_day:
            plans, share, rise = rise_day[d]
            hit = act & plans & (rng.random(n) < share * np.where(pop.annual, 0.35, 1.0))
            rel[hit] = rise * rng.uniform(0.8, 1.2, hit.sum())
        if d == shock_day and kind == "price":
            rel[act] = SHOCK_RISE * rng.uniform(0.8, 1.2, act.sum())
        single = np.flatnonzero(act & (rel == 0) & (u[6] < 1 / 700))
        size = rng.uniform(0.05, 0.15, single.size)
        rel[single] = np.where(u[6][single] < 0.65 / 700, size, -size)
        who = np.flatnonzero(rel != 0)
        if who.size:
            new = np.round(price[who] * (1 + rel[who]), 2)
            buf.add("price_change", who, _times(rng, day_us, who.size), amount=new - price[who])
            d_price[who] += np.where(rel[who] > 0, RISE_SHOCK * rel[who], -1.0 * rel[who])
            price[who] = new

        # Monthly billing: fragile customers' payments fail more often.
        who = np.flatnonzero(billing_phase == (start_abs + d) % 30)
        who = who[act[who] & (u[7][who] < pop.fragility[who])]
        if who.size:
            since_failure[who] = 0.0
            d_payment[who] += FAILED_PAYMENT_SHOCK
            buf.add("payment_failed", who, _times(rng, day_us, who.size), amount=price[who])

        # Free-text feedback: extreme feelings speak up; the topic is what hurt most.
        who = np.flatnonzero(act & (u[8] < 0.05))
        who = who[u[8][who] < np.minimum(0.0015 * np.exp(0.9 * np.abs(sat[who])), 0.05)]
        k = who.size
        if k:
            parts = np.stack([d_delivery[who], d_support[who], d_price[who]])
            topic = np.where(parts.min(axis=0) < -0.15, parts.argmin(axis=0), 3)
            mood = sat[who] + rng.normal(0, 0.35, k)
            sentiment = np.where(mood < -0.35, 0, np.where(mood > 0.45, 2, 1))
            ids = feedback_text.phrase_ids(language[who], sentiment, topic, rng.random(k))
            buf.add("feedback", who, _times(rng, day_us, k), text=ids)

    return BlockResult(
        events=buf.finish(rng, pop.preferred, cancel_us, end_us),
        cancel_us=cancel_us,
        truth_customer=np.concatenate(truth_c) if truth_c else np.zeros(0, dtype=np.int64),
        truth_cutoff=np.concatenate(truth_k) if truth_k else np.zeros(0, dtype=np.int64),
        truth_p=np.concatenate(truth_p) if truth_p else np.zeros(0),
        truth_horizons=(np.concatenate(truth_h) if truth_h
                        else np.zeros((0, len(TRUTH_HORIZONS)))),
        effect_cutoff=effect_cutoff,
        effects=effects,
        action_customer=_concat(pilot_c, np.int64),
        action_us=_concat(pilot_t, np.int64),
        action_code=_concat(pilot_a, np.int64),
    )

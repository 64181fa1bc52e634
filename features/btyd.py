"""BG/NBD ("buy till you die") from Fader, Hardie and Lee (2005), with scipy only.

"Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD Model", Marketing
Science 24(2). Per customer, from the first purchase (time 0) to the cutoff:

* ``x``: repeat purchases (the first purchase is not counted),
* ``t_x``: time of the last purchase (0 when ``x == 0``),
* ``T``: age, the time from the first purchase to the cutoff.

The model: while alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r,
alpha)`` (shape r, rate alpha); after each repeat purchase they drop out for good with
probability ``p ~ Beta(a, b)``. Times are in whatever unit the summaries use (days here);
``alpha`` is in the same unit, the other parameters are unit-free.

Why not a package: ``lifetimes`` needs pandas 1.x (``benchmarks/btyd_runner.py`` runs it in
its own venv for the public benchmark); PyMC-Marketing pulls in PyMC and PyTensor, far too
heavy for one four-parameter likelihood. The likelihood is fitted by L-BFGS-B on the
log-parameters with its analytic gradient; standard errors come from a finite-difference
Hessian of the log-likelihood (observed information) and the delta method.

``summaries_at`` builds (x, t_x, T) per (customer, cutoff) from the events contract with the
project's point-in-time rule, ``event_time < cutoff``. The module sits in ``features`` because
the feature build uses it too (``features.btyd_features``: P(alive) and expected purchases as
declared features), and training's BG/NBD baseline reads it from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from cxchurn.errors import ConfigError, DataContractError
from features.schema import CUSTOMER_ID, CUTOFF

PARAMS = ("r", "alpha", "a", "b")
LOG_BOUND = 25.0  # |log parameter| limit; a fit that reaches it sits on a boundary
_DAY = pd.Timedelta(days=1)

Array = NDArray[np.float64]


def _arrays(*values: ArrayLike) -> tuple[Array, ...]:
    return tuple(np.asarray(v, dtype=float) for v in values)


def log_likelihood(r: float, alpha: float, a: float, b: float,
                   x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
    """Per-customer log-likelihood, FHL (2005) eq. 6.

    L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x)):
    the first term is "still alive at T", the second "dropped out right after the x-th repeat
    purchase". Summed in log space with ``logaddexp``.
    """
    xs, tx, age = _arrays(x, t_x, T)
    common = gammaln(r + xs) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + xs) - betaln(a, b) - (r + xs) * np.log(alpha + age)
    x1 = np.maximum(xs, 1.0)  # keeps b + x - 1 > 0 where the term is masked out anyway
    dead = betaln(a + 1, b + x1 - 1) - betaln(a, b) - (r + xs) * np.log(alpha + tx)
    dead = np.where(xs > 0, dead, -np.inf)
    return common + np.logaddexp(alive, dead)


def _gradient(theta: Array, x: Array, t_x: Array, T: Array, w: Array) -> tuple[float, Array]:
    """Weighted total log-likelihood and its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = theta
    x1 = np.maximum(x, 1.0)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    dead = np.where(x > 0, betaln(a + 1, b + x1 - 1) - betaln(a, b)
                    - (r + x) * np.log(alpha + t_x), -np.inf)
    mix = np.logaddexp(alive, dead)
    w_alive = np.exp(alive - mix)  # posterior weight of the "alive" term
    w_dead = 1.0 - w_alive
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + x)
    d_r = (digamma(r + x) - digamma(r) + np.log(alpha)
           - w_alive * np.log(alpha + T) - w_dead * np.log(alpha + t_x))
    d_alpha = r / alpha - (r + x) * (w_alive / (alpha + T) + w_dead / (alpha + t_x))
    base_a, base_b = digamma(a) - psi_ab, digamma(b) - psi_ab  # d/da, d/db of betaln(a, b)
    d_a = (w_alive * (digamma(a) - psi_abx) + w_dead * (digamma(a + 1) - psi_abx)) - base_a
    d_b = (w_alive * (digamma(b + x) - psi_abx)
           + w_dead * np.where(x > 0, digamma(b + x1 - 1) - psi_abx, 0.0)) - base_b
    grad = np.array([w @ d_r, w @ d_alpha, w @ d_a, w @ d_b])
    return float(w @ (common + mix)), grad


def p_alive(r: float, alpha: float, a: float, b: float,
            x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
    """P(still alive at T | x, t_x, T), FHL (2005) eq. 11 in its closed form:

    1 / (1 + [x > 0] a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)).

    A customer with no repeat purchase is alive with probability 1: in this model dropout
    can only follow a repeat purchase (the paper's limit case, and the model's known blind
    spot for one-time buyers).
    """
    xs, tx, age = _arrays(x, t_x, T)
    x1 = np.maximum(xs, 1.0)
    log_odds = np.log(a) - np.log(b + x1 - 1) + (r + xs) * (np.log(alpha + age)
                                                          - np.log(alpha + tx))
    return np.where(xs > 0, 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700.0))), 1.0)


def p_no_purchase(horizon: float, r: float, alpha: float, a: float, b: float,
                  x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
    """P(no purchase in (T, T + horizon] | x, t_x, T).

    Derivation. A dead customer never buys again. A customer alive at T has, given the
    history, rate posterior lambda ~ Gamma(r + x, alpha + T): the history's likelihood in
    lambda is lambda^x exp(-lambda T) times the Gamma(r, alpha) prior. Dropout happens only
    right after a purchase, so an alive customer makes no purchase in the next ``horizon``
    exactly when the Poisson process has no arrival there: probability exp(-lambda horizon),
    whose posterior mean is ((alpha + T) / (alpha + T + horizon))^(r + x). Hence

        P = (1 - P(alive)) + P(alive) ((alpha+T)/(alpha+T+h))^(r+x)
          = 1 - P(alive) (1 - ((alpha+T)/(alpha+T+h))^(r+x)).

    It is non-increasing in ``horizon`` (a longer window can only hold more purchases) and
    is exactly the non-contractual churn label "no purchase within the horizon".
    """
    xs, tx, age = _arrays(x, t_x, T)
    quiet = np.exp((r + xs) * (np.log(alpha + age) - np.log(alpha + age + horizon)))
    return 1.0 - p_alive(r, alpha, a, b, xs, tx, age) * (1.0 - quiet)


def expected_purchases(t: float, r: float, alpha: float, a: float, b: float,
                       x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
    """E[purchases in (T, T + t] | x, t_x, T], FHL (2005) eq. 10:

    (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
    / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    The (a - 1) is the paper's; the expression is the analytic continuation for a < 1 and
    undefined at a == 1 exactly.
    """
    xs, tx, age = _arrays(x, t_x, T)
    ratio = (alpha + age) / (alpha + age + t)
    hyp = hyp2f1(r + xs, b + xs, a + b + xs - 1, t / (alpha + age + t))
    head = (a + b + xs - 1) / (a - 1) * (1.0 - ratio ** (r + xs) * hyp)
    return head * p_alive(r, alpha, a, b, xs, tx, age)


@dataclass(frozen=True)
class BgNbd:
    """BG/NBD parameters, with their standard errors when fitted (``BgNbd.fit``).

    Build one from known parameters (``BgNbd(r=.., alpha=.., a=.., b=..)``) to simulate or
    score; ``fit`` returns a new instance with ``se`` (delta-method standard errors from the
    observed information), the maximised ``log_lik`` and the optimiser's verdict.
    """

    r: float
    alpha: float
    a: float
    b: float
    se: dict[str, float] = field(default_factory=dict)
    log_lik: float = float("nan")
    n_customers: int = 0
    converged: bool = True
    at_bound: bool = False

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)

    @classmethod
    def fit(cls, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
            max_iter: int = 1000, with_se: bool = True) -> BgNbd:
        """Maximum likelihood on (x, t_x, T) = (``frequency``, ``recency``, ``T``).

        Identical summaries are collapsed with counts first (day-level data repeat a lot).
        ``at_bound`` flags a fit with some parameter at exp(+-25). When the data show almost no
        dropout, a -> 0 and b -> infinity along a flat ridge that the optimiser may leave before
        the bound; a NaN standard error says the same: those parameters are not identified
        (the purchase-rate part, r and alpha, still is). ``with_se=False`` skips the standard
        errors (a finite-difference Hessian) where only the scores are needed.
        """
        x, t_x, age = _arrays(frequency, recency, T)
        _check_summaries(x, t_x, age)
        rows, counts = np.unique(np.column_stack([x, t_x, age]), axis=0, return_counts=True)
        ux, ut, uT = rows.T
        w = counts.astype(float)
        n = float(w.sum())

        def objective(log_theta: Array) -> tuple[float, Array]:
            theta = np.exp(log_theta)
            ll, grad = _gradient(theta, ux, ut, uT, w)
            return -ll / n, -grad * theta / n  # chain rule into log space

        rate = max(float(x.mean()), 0.1) / max(float(age.mean()), 1e-9)
        start = np.log([1.0, 1.0 / rate, 1.0, 1.0])
        result = minimize(objective, start, jac=True, method="L-BFGS-B",
                          bounds=[(-LOG_BOUND, LOG_BOUND)] * 4,
                          options={"maxiter": max_iter, "ftol": 1e-13, "gtol": 1e-9})
        log_theta = np.asarray(result.x, dtype=float)
        theta = np.exp(log_theta)
        se = _standard_errors(log_theta, objective, n) if with_se else np.full(4, np.nan)
        r, alpha, a, b = map(float, theta)
        return cls(r, alpha, a, b, se=dict(zip(PARAMS, map(float, theta * se), strict=True)),
                   log_lik=float(-result.fun * n), n_customers=int(n),
                   converged=bool(result.success),
                   at_bound=bool(np.any(np.abs(log_theta) > LOG_BOUND - 1e-6)))

    def log_likelihood(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
        return log_likelihood(*self.params, x, t_x, T)

    def p_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
        return p_alive(*self.params, x, t_x, T)

    def p_no_purchase(self, horizon: float, x: ArrayLike, t_x: ArrayLike,
                      T: ArrayLike) -> Array:
        return p_no_purchase(horizon, *self.params, x, t_x, T)

    def expected_purchases(self, t: float, x: ArrayLike, t_x: ArrayLike,
                           T: ArrayLike) -> Array:
        return expected_purchases(t, *self.params, x, t_x, T)

    def simulate(self, T: ArrayLike, seed: int = 0) -> pd.DataFrame:
        """Purchase histories drawn from the model itself: (x, t_x, T) per customer."""
        return simulate(self, T, seed)

    def to_dict(self) -> dict[str, object]:
        return {**dict(zip(PARAMS, self.params, strict=True)),
                **{f"{k}_se": v for k, v in self.se.items()}, "log_lik": self.log_lik,
                "n_customers": self.n_customers, "converged": self.converged,
                "at_bound": self.at_bound}


def _check_summaries(x: Array, t_x: Array, T: Array) -> None:
    if not len(x) == len(t_x) == len(T) or len(x) == 0:
        raise DataContractError(
            f"BG/NBD needs equal-length, non-empty frequency/recency/T; got lengths "
            f"{len(x)}, {len(t_x)}, {len(T)}"
        )
    bad = ~np.isfinite(x + t_x + T) | (x < 0) | (t_x < 0) | (t_x > T) | ((x == 0) & (t_x > 0))
    if bad.any():
        raise DataContractError(
            f"BG/NBD summaries must satisfy x >= 0, 0 <= t_x <= T and t_x = 0 when x = 0; "
            f"{int(bad.sum())} of {len(x)} rows do not (first at index {int(np.argmax(bad))}); "
            "build them with summaries_at"
        )


def _standard_errors(log_theta: Array, objective: Callable[[Array], tuple[float, Array]],
                     n: float) -> Array:
    """Standard errors of the log-parameters: inverse of the observed information, the
    Hessian of -log L by central differences of the analytic gradient."""
    step = 1e-5
    hess = np.empty((4, 4))
    for j in range(4):
        e = np.zeros(4)
        e[j] = step
        up = objective(log_theta + e)[1]
        down = objective(log_theta - e)[1]
        hess[:, j] = (up - down) / (2 * step) * n
    hess = (hess + hess.T) / 2
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(4, np.nan)
    var = np.diag(cov)
    return np.where(var > 0, np.sqrt(np.abs(var)), np.nan)


def simulate(model: BgNbd, T: ArrayLike, seed: int = 0) -> pd.DataFrame:
    """Draw (x, t_x, T) from the BG/NBD process: lambda ~ Gamma(r, rate alpha),
    p ~ Beta(a, b), Poisson purchases from the first one at time 0, dropout with probability p
    after each repeat purchase, observed up to each customer's ``T``."""
    rng = np.random.default_rng(seed)
    (age,) = _arrays(T)
    n = len(age)
    lam = rng.gamma(model.r, 1.0 / model.alpha, n)
    p = rng.beta(model.a, model.b, n)
    x, t_x, now = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active]
        buys = now[active] <= age[active]
        active = active[buys]
        x[active] += 1
        t_x[active] = now[active]
        active = active[rng.random(active.size) >= p[active]]
    return pd.DataFrame({"x": x, "t_x": t_x, "T": age})


def _utc(stamps: object) -> pd.Series:
    s = pd.Series(pd.to_datetime(stamps))
    return s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")


def summaries_at(events: pd.DataFrame, cutoffs: Sequence[object] | pd.Series,
                 event_type: str = "order") -> pd.DataFrame:
    """(customer_id, cutoff, x, t_x, T) in days, from ``event_type`` events with
    ``event_time < cutoff`` only: nothing at or after a cutoff changes its row.

    Purchases are counted by calendar day (UTC), the lifetimes convention, since the model's
    Poisson process has no simultaneous purchases: x = purchase days - 1, t_x = days from the
    first to the last purchase day, T = days from the first purchase day to the cutoff (a
    fraction when the cutoff is not at midnight). Customers without a purchase before a
    cutoff have no row: BG/NBD starts at the first purchase (see
    ``training.baselines.bgnbd_scores`` for how they are scored).
    """
    need = {CUSTOMER_ID, "event_time", "event_type"}
    if not need <= set(events.columns):
        raise DataContractError(
            f"events: expected columns {sorted(need)}, missing {sorted(need - set(events.columns))}"
        )
    buys = events.loc[events["event_type"] == event_type, [CUSTOMER_ID, "event_time"]]
    buys = pd.DataFrame({CUSTOMER_ID: buys[CUSTOMER_ID].astype(str).to_numpy(),
                         "time": _utc(buys["event_time"]).to_numpy()})
    buys["day"] = buys["time"].dt.floor("D")
    parts = []
    for cutoff in sorted(set(_utc(pd.Series(list(cutoffs))))):
        days = buys.loc[buys["time"] < cutoff, [CUSTOMER_ID, "day"]].drop_duplicates()
        g = days.groupby(CUSTOMER_ID, sort=True)["day"].agg(["min", "max", "count"])
        parts.append(pd.DataFrame({
            CUSTOMER_ID: g.index.astype(str), CUTOFF: cutoff,
            "x": (g["count"] - 1).to_numpy(float),
            "t_x": ((g["max"] - g["min"]) / _DAY).to_numpy(float),
            "T": ((cutoff - g["min"]) / _DAY).to_numpy(float),
        }))
    if not parts:
        raise ConfigError("summaries_at needs at least one cutoff, got none")
    return pd.concat(parts, ignore_index=True)


__all__ = ["PARAMS", "BgNbd", "expected_purchases", "log_likelihood", "p_alive",
           "p_no_purchase", "simulate", "summaries_at"]

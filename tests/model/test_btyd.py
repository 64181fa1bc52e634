"""BG/NBD (features.btyd) and its baseline: parameter recovery, the likelihood by hand, the
paper's limit cases and the point-in-time rule at the cutoff."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import beta as beta_fn

from features.btyd import BgNbd, log_likelihood, p_alive, p_no_purchase, summaries_at
from training.baselines import bgnbd_scores, event_log_baselines

# FHL (2005) estimates on the CDNOW data (weeks): a realistic mix of purchase rate and dropout.
CDNOW = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
PARAMS = ("r", "alpha", "a", "b")


@pytest.mark.parametrize("seed", [0, 1])
def test_fit_recovers_the_parameters_of_its_own_process(seed: int) -> None:
    ages = np.random.default_rng(100 + seed).uniform(27, 39, 5000)
    data = CDNOW.simulate(ages, seed=seed)
    fit = BgNbd.fit(data["x"], data["t_x"], data["T"])
    assert fit.converged and not fit.at_bound
    assert fit.n_customers == 5000
    for name in PARAMS:
        truth, got, se = getattr(CDNOW, name), getattr(fit, name), fit.se[name]
        assert 0 < se < 0.5 * truth, (name, se)
        assert abs(got - truth) < 2.5 * se, f"{name}: fitted {got:.4f} +- {se:.4f}, true {truth}"
    # the maximum is a maximum: the truth fits these data no better
    assert fit.log_lik >= CDNOW.log_likelihood(data["x"], data["t_x"], data["T"]).sum()


def test_log_likelihood_by_hand() -> None:
    r, alpha, a, b = 0.5, 2.0, 0.8, 2.5
    # x = 0: only "alive" is possible, L = (alpha / (alpha + T))^r
    assert log_likelihood(r, alpha, a, b, [0], [0], [10])[0] == pytest.approx(
        r * math.log(alpha / (alpha + 10)), rel=1e-12)
    # x = 2, t_x = 6, T = 10: alive term + dropped-after-the-second-purchase term, eq. 6 with
    # B(a, b+2)/B(a, b) = b(b+1)/((a+b)(a+b+1)), B(a+1, b+1)/B(a, b) = ab/((a+b)(a+b+1)),
    # Gamma(r+2)/Gamma(r) = r(r+1)
    x, t_x, T = 2, 6.0, 10.0
    nbd = r * (r + 1) * alpha ** r
    alive = b * (b + 1) / ((a + b) * (a + b + 1)) * nbd / (alpha + T) ** (r + x)
    dead = a * b / ((a + b) * (a + b + 1)) * nbd / (alpha + t_x) ** (r + x)
    got = log_likelihood(r, alpha, a, b, [x], [t_x], [T])[0]
    assert got == pytest.approx(math.log(alive + dead), rel=1e-12)

    # and the same number from the model's definition, integrated over lambda and p
    def individual(p: float, lam: float) -> float:
        given = (1 - p) ** x * lam ** x * math.exp(-lam * T) \
            + p * (1 - p) ** (x - 1) * lam ** x * math.exp(-lam * t_x)
        gamma_pdf = alpha ** r * lam ** (r - 1) * math.exp(-alpha * lam) / math.gamma(r)
        beta_pdf = p ** (a - 1) * (1 - p) ** (b - 1) / beta_fn(a, b)
        return given * gamma_pdf * beta_pdf

    value, _ = integrate.dblquad(individual, 0, 8, 0, 1, epsabs=0, epsrel=1e-8)
    assert got == pytest.approx(math.log(value), rel=1e-6)


def test_p_alive_limit_cases_and_p_no_purchase_in_the_horizon() -> None:
    r, alpha, a, b = CDNOW.params
    # no repeat purchase: alive for sure (dropout only follows a repeat purchase)
    assert np.all(p_alive(r, alpha, a, b, [0, 0], [0, 0], [1, 500]) == 1.0)
    # a purchase at the cutoff itself: P(alive) = 1 / (1 + a / (b + x - 1))
    assert p_alive(r, alpha, a, b, [3], [20], [20])[0] == pytest.approx(1 / (1 + a / (b + 2)))
    # silence after a busy history makes death likelier
    quiet = p_alive(r, alpha, a, b, [5, 5, 5], [30, 20, 5], [30, 30, 30])
    assert np.all(np.diff(quiet) < 0)

    x, t_x, T = np.array([0, 1, 4, 10]), np.array([0, 3, 12, 25]), np.array([5, 20, 30, 26])
    horizons = [0, 1, 4, 13, 52, 520]
    curves = np.array([p_no_purchase(h, r, alpha, a, b, x, t_x, T) for h in horizons])
    assert np.allclose(curves[0], 1.0)
    assert np.all(np.diff(curves, axis=0) < 0)
    assert np.all(curves > 0)
    # a long horizon leaves P(dead) + P(alive) * (tiny): P(no purchase) -> 1 - P(alive)
    dead = 1 - p_alive(r, alpha, a, b, x, t_x, T)
    assert np.allclose(p_no_purchase(1e40, r, alpha, a, b, x, t_x, T), dead, atol=1e-3)


def test_expected_purchases_small_horizon_is_rate_times_p_alive() -> None:
    x, t_x, T = np.array([0, 2, 7]), np.array([0, 10, 30]), np.array([15, 30, 31])
    t = 1e-4  # E[Y(t)] ~ P(alive) E[lambda | alive] t, E[lambda | alive] = (r + x)/(alpha + T)
    slope = CDNOW.p_alive(x, t_x, T) * (CDNOW.r + x) / (CDNOW.alpha + T) * t
    assert np.allclose(CDNOW.expected_purchases(t, x, t_x, T), slope, rtol=1e-3)


def test_p_no_purchase_matches_purchases_simulated_past_the_cutoff() -> None:
    # simulate to T + h, summarise at T: the mean predicted P(no purchase in (T, T + h]) with
    # the true parameters must match the share of customers who stayed quiet
    rng = np.random.default_rng(3)
    n, T, h = 20_000, 30.0, 13.0
    lam = rng.gamma(CDNOW.r, 1 / CDNOW.alpha, n)
    p = rng.beta(CDNOW.a, CDNOW.b, n)
    x, t_x, later = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    now, alive = np.zeros(n), np.ones(n, dtype=bool)
    while alive.any():
        now[alive] += rng.exponential(1.0, alive.sum()) / lam[alive]
        alive &= now <= T + h
        later |= alive & (now > T)
        early = alive & (now <= T)
        x[early] += 1
        t_x[early] = now[early]
        alive &= rng.random(n) >= p
    predicted = CDNOW.p_no_purchase(h, x, t_x, np.full(n, T))
    assert predicted.mean() == pytest.approx(1 - later.mean(), abs=0.01)


def _orders(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [c for c, _ in rows],
        "event_time": pd.to_datetime([t for _, t in rows], utc=True, format="ISO8601"),
        "event_type": "order",
    })


def test_summaries_count_purchase_days_strictly_before_the_cutoff() -> None:
    events = _orders([("A", "2025-01-01 10:00"), ("A", "2025-01-01 18:00"),
                      ("A", "2025-01-11 09:00"), ("A", "2025-01-31 23:59:59"),
                      ("A", "2025-02-01 00:00"), ("B", "2025-02-01 00:00")])
    events.loc[len(events)] = ["A", pd.Timestamp("2025-01-20", tz="UTC"), "session"]
    got = summaries_at(events, [pd.Timestamp("2025-02-01", tz="UTC")])
    assert got["customer_id"].tolist() == ["A"]  # B's first order is AT the cutoff
    row = got.iloc[0]
    assert (row["x"], row["t_x"], row["T"]) == (2.0, 30.0, 31.0)


def _world(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    rows = []
    for i in range(300):
        rate = rng.gamma(1.0, 1 / 20)  # per day
        t = rng.uniform(0, 200)
        while t < 540:
            rows.append((f"C{i:03d}", start + pd.Timedelta(days=float(t))))
            t += rng.exponential(1 / rate)
    events = pd.DataFrame(rows, columns=["customer_id", "event_time"]).assign(event_type="order")
    cutoffs = pd.to_datetime(["2024-10-01", "2025-01-01"], utc=True)
    examples = pd.DataFrame([(f"C{i:03d}", c, 100.0 + i) for i in range(0, 320, 2)
                             for c in cutoffs], columns=["customer_id", "cutoff", "tenure_days"])
    return events, examples.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_bgnbd_scores_never_see_events_at_or_after_the_cutoff() -> None:
    events, examples = _world()
    base = bgnbd_scores(examples, events, 90)
    assert base.shape == (len(examples),) and np.all((base > 0) & (base < 1))
    last = examples["cutoff"].max()
    earlier = (examples["cutoff"] < last).to_numpy()
    first = examples["cutoff"].min()
    # orders at the earlier cutoff and after it, for everyone and for newcomers
    extra = _orders([(f"C{i:03d}", str(first + pd.Timedelta(hours=k * 7)))
                     for i in range(0, 320, 3) for k in range(3)])
    changed = bgnbd_scores(examples, pd.concat([events, extra], ignore_index=True), 90)
    np.testing.assert_array_equal(changed[earlier], base[earlier])
    assert not np.allclose(changed[~earlier], base[~earlier])
    # one order a microsecond before the cutoff does count
    just_before = _orders([("C000", str(first - pd.Timedelta(microseconds=1)))])
    moved = bgnbd_scores(examples, pd.concat([events, just_before], ignore_index=True), 90)
    assert not np.array_equal(moved[earlier], base[earlier])


def test_bgnbd_scores_align_to_rows_and_score_customers_without_orders() -> None:
    events, examples = _world()
    scores = bgnbd_scores(examples, events, 90)
    again = bgnbd_scores(examples.iloc[::-1].reset_index(drop=True), events, 90)
    np.testing.assert_allclose(again[::-1], scores)
    # C300..C318 never ordered: x = 0 from signup, the longer the wait the likelier silence
    never = examples["customer_id"].str[1:].astype(int) >= 300
    at = examples["cutoff"] == examples["cutoff"].max()
    tenure = examples.loc[never & at, "tenure_days"].to_numpy()
    quiet = scores[(never & at).to_numpy()]
    assert np.all(np.diff(quiet[np.argsort(tenure)]) > 0)


def test_event_log_baselines_skip_without_orders() -> None:
    events, examples = _world()
    assert event_log_baselines(examples, None, 90) == {}
    assert event_log_baselines(examples, events.assign(event_type="session"), 90) == {}
    assert set(event_log_baselines(examples, events, 90)) == {"bgnbd"}


def test_training_run_adds_the_bgnbd_baseline_when_given_events(
    toy_examples: pd.DataFrame, tmp_path
) -> None:
    from training.train import TrainConfig, train_churn_model

    rng = np.random.default_rng(0)
    ids = toy_examples["customer_id"].unique()
    start = toy_examples["cutoff"].min() - pd.Timedelta(days=365)
    events = pd.DataFrame({
        "customer_id": rng.choice(ids, 20 * len(ids)),
        "event_time": start + pd.to_timedelta(rng.uniform(0, 500, 20 * len(ids)), unit="D"),
        "event_type": "order",
    })
    result = train_churn_model(toy_examples, None,
                               TrainConfig(write_plots=False, n_estimators=100), tmp_path,
                               events=events)
    assert "bgnbd" in result.metrics
    test = result.report.test_frame
    assert test["p_bgnbd"].between(0, 1).all()
    np.testing.assert_allclose(test["p_bgnbd"], bgnbd_scores(result.split.test, events, 30))


def test_run_training_reads_only_the_orders_of_a_world_folder(tmp_path) -> None:
    from training.build_events import baseline_events

    events, _ = _world()
    events.loc[::2, "event_type"] = "session"
    events.to_parquet(tmp_path / "events.parquet", index=False)
    # a build that predates the record of its sources falls back to the world folder
    got = baseline_events(tmp_path / "features", world_dir=tmp_path).orders
    assert got is not None and set(got["event_type"]) == {"order"}
    assert len(got) == (events["event_type"] == "order").sum()
    missing = baseline_events(tmp_path / "features", world_dir=tmp_path / "missing")
    assert missing.orders is None and "events.parquet" in (missing.note or "")

"""Shared fixtures: a small hand-made example table and the default synthetic world.

``toy_examples`` has the agreed columns of a feature build (customer_id, cutoff, float
features with NaNs, string static attributes, churned) with a known churn mechanism, so the
training units can be tested without the simulator. ``default_world`` / ``default_examples``
simulate the default world once per test session and build its features, cached under a
session tmp dir. Their imports are plain: a broken ``features`` module fails every test that
needs the world, loudly, instead of skipping it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest_plugins = ["tests.postgres"]  # the PostgreSQL server fixtures

TOY_CUTOFFS = pd.date_range("2025-01-01", periods=5, freq="MS", tz="UTC").as_unit("us")


def make_toy_examples(n_customers: int = 1500, seed: int = 0,
                      nonlinear: bool = False) -> pd.DataFrame:
    """Examples whose churn risk rises with late deliveries, silence, tickets and price.

    The log-odds are linear, so a logistic regression is a hard baseline to beat; with
    ``nonlinear`` risk also jumps after 25 quiet days and with late deliveries on top of open
    tickets (shapes a linear model cannot draw), for tests whose model must pass the
    promotion gate (beat its best baseline) to become champion.
    """
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:05d}" for i in range(n_customers)])
    plan = rng.choice(["basic", "plus", "premium"], n_customers, p=[0.5, 0.3, 0.2])
    segment = rng.choice(["consumer", "smb"], n_customers, p=[0.7, 0.3])
    region = rng.choice(["north", "south", "east", "west"], n_customers)
    price = np.select([plan == "basic", plan == "plus"], [10.0, 20.0], 35.0)
    satisfaction = rng.normal(0, 1, n_customers)
    frames = []
    for k, cutoff in enumerate(TOY_CUTOFFS):
        late = rng.poisson(np.exp(0.3 - 0.5 * satisfaction)).astype(float)
        days = rng.exponential(10 + 10 * np.maximum(-satisfaction, 0), n_customers)
        days[rng.random(n_customers) < 0.05] = np.nan  # never active
        nps = np.clip(np.round(7 + 2 * satisfaction + rng.normal(0, 1.5, n_customers)), 0, 10)
        nps[rng.random(n_customers) < 0.4] = np.nan  # no survey answered
        tickets = rng.poisson(0.5 + 0.5 * np.maximum(-satisfaction, 0)).astype(float)
        tenure = 200.0 + 30 * k + rng.integers(0, 400, n_customers)
        logit = (-3.2 + 0.35 * late + 0.03 * np.nan_to_num(days, nan=60.0) - 0.6 * satisfaction
                 + 0.2 * tickets + 0.03 * (price - 20) + 0.4 * (segment == "smb")
                 - 0.001 * tenure)
        if nonlinear:
            quiet = np.nan_to_num(days, nan=60.0) > 25
            logit = logit + 2.5 * quiet + 2.0 * ((late >= 2) & (tickets >= 1))
        churned = (rng.random(n_customers) < 1 / (1 + np.exp(-logit))).astype("int8")
        frames.append(pd.DataFrame({
            "customer_id": ids,
            "cutoff": cutoff,
            "plan": plan,
            "segment": segment,
            "region": region,
            "monthly_price": price,
            "tenure_days": tenure,
            "late_deliveries_90d": late,
            "days_since_last_activity": days,
            "last_nps": nps,
            "tickets_30d": tickets,
            "churned": churned,
        }))
    out = pd.concat(frames, ignore_index=True)
    for col in ("plan", "segment", "region", "customer_id"):
        out[col] = out[col].astype("str")
    out.attrs["spec_version"] = "toy-v1"
    return out


TOY_MONOTONE = {"late_deliveries_90d": 1, "days_since_last_activity": 1, "tickets_30d": 1}


@contextmanager
def _mlflow_uris_restored() -> Iterator[None]:
    """MLflow's tracking and registry URIs (process environment and globals) as they were.

    ``mlflow.set_tracking_uri`` / ``set_registry_uri`` also write ``MLFLOW_TRACKING_URI`` /
    ``MLFLOW_REGISTRY_URI`` into the process environment, so a command run in one test would
    silently point later tests (and the servers they start) at its temporary store, even one
    a test has since moved away.
    """
    import os

    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    before = {name: os.environ.get(name) for name in names}
    uris = (tracking_utils._tracking_uri, registry_utils._registry_uri)
    try:
        yield
    finally:
        tracking_utils._tracking_uri, registry_utils._registry_uri = uris
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(autouse=True)
def _isolated_mlflow_uris() -> Iterator[None]:
    """Each test ends with the MLflow URIs it started with."""
    with _mlflow_uris_restored():
        yield


@pytest.fixture(autouse=True, scope="module")
def _isolated_mlflow_uris_per_module() -> Iterator[None]:
    """Each test module ends with the MLflow URIs it started with: a module-scoped fixture
    (a serving runtime loading its champion sets both URIs) is set up before the per-test
    guard looks, so without this its URIs outlived the module and sent a later test's
    registry to that fixture's store."""
    with _mlflow_uris_restored():
        yield


@pytest.fixture(scope="session")
def toy_examples() -> pd.DataFrame:
    return make_toy_examples()


@pytest.fixture(scope="session")
def default_world(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The default synthetic world, ``simulate(SimConfig())``, in memory (once per session)."""
    from features.simulate import SimConfig, simulate

    return simulate(SimConfig())


@pytest.fixture(scope="session")
def default_world_dir(default_world: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default world written as a world folder (six files), once per session."""
    from features.simulate import write_world

    folder = tmp_path_factory.getbasetemp() / "default_world"
    if not (folder / "world.json").exists():
        write_world(default_world, folder)  # type: ignore[operator]
    return folder


@pytest.fixture(scope="session")
def default_examples(default_world: object, tmp_path_factory: pytest.TempPathFactory
                     ) -> pd.DataFrame:
    """Labelled examples of the default world at its cutoffs (built once per session).

    Written as a feature build folder and read back with ``load_examples``, so the frame
    carries the spec version exactly as a training run from disk would.
    """
    from features.default_specs import DEFAULT_SPECS
    from features.labels import LabelConfig
    from features.pipeline import build_examples, write_outputs
    from training.dataset import load_examples

    out = tmp_path_factory.getbasetemp() / "default_features"
    if not (out / "examples.parquet").exists():
        config = default_world.config  # type: ignore[attr-defined]
        labels_cfg = LabelConfig(horizon_days=config.horizon_days)
        dates = [pd.Timestamp(c, tz="UTC") for c in config.cutoffs]
        features, labels = build_examples(
            default_world.customers, default_world.events,  # type: ignore[attr-defined]
            dates, labels_cfg,
        )
        write_outputs(features, labels, DEFAULT_SPECS, out, labels_cfg)
    return load_examples(out)


@pytest.fixture(scope="session")
def default_training_examples(default_world: object, tmp_path_factory: pytest.TempPathFactory
                              ) -> pd.DataFrame:
    """Examples of the default world at every month start from 2023-10-01 to the last cutoff.

    Training over many cutoffs uses the world's history instead of its six truth cutoffs
    only: about four times the churners to learn from, the same world and the same test
    cutoff. The first three months are skipped so that the 90-day windows are filled.
    """
    from features.default_specs import DEFAULT_SPECS
    from features.labels import LabelConfig
    from features.pipeline import build_examples, write_outputs
    from features.simulate import monthly_cutoffs
    from training.dataset import load_examples

    out = tmp_path_factory.getbasetemp() / "default_training_features"
    if not (out / "examples.parquet").exists():
        config = default_world.config  # type: ignore[attr-defined]
        labels_cfg = LabelConfig(horizon_days=config.horizon_days)
        dates = monthly_cutoffs(config)
        features, labels = build_examples(
            default_world.customers, default_world.events,  # type: ignore[attr-defined]
            dates, labels_cfg,
        )
        write_outputs(features, labels, DEFAULT_SPECS, out, labels_cfg)
    return load_examples(out)


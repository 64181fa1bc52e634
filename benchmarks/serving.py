"""Serving latency and throughput: the BentoML API vs in-process LightGBM vs `mlflow models serve`.

Loopback only, bounded (a fixed number of requests per case, one client, keep-alive). Cases:

- single customer score (by id from the online store, and as one posted row),
- single customer score + explain (top 5 SHAP drivers with reasons),
- a 1,000-customer batch (by ids; as posted rows in the columnar ``table`` form; as
  list-of-objects ``rows``),

next to the same rows scored in process by the same ``ChurnModel`` (the limit) and to
``mlflow models serve --env-manager local`` of the same model folder, posting
``dataframe_split`` (what a user would pick instead). Prints p50/p95/p99 in ms and throughput.

Usage::

    .venv/bin/python benchmarks/serving.py                   # builds a small home in /tmp
    .venv/bin/python benchmarks/serving.py --home output     # a home with champion + store

The built home: default simulated world (5,000 customers), default feature spec (~95
features), a champion with exactly ``--trees`` trees.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_home(home: Path, trees: int) -> None:
    """Simulate the default world, build features, train a ``trees``-tree champion, store."""
    import mlflow

    from features.default_specs import DEFAULT_SPECS
    from features.schema import LABEL
    from features.simulate import SimConfig, simulate
    from features.spec import spec_version
    from serving.api.online_store import default_cutoff, latest_features, store_path, write_store
    from tests.api.trained_home import world_examples
    from training import registry
    from training.dataset import feature_columns, split_out_of_time
    from training.model import ChurnModel
    from training.pyfunc import log_churn_model
    from training.tracking import setup_tracking

    world = simulate(SimConfig())
    examples = world_examples(world)
    split = split_out_of_time(examples)
    cols = feature_columns(examples)
    X_train = split.train[cols]
    X_train.attrs = dict(examples.attrs)
    model = ChurnModel(n_estimators=trees, early_stopping_rounds=10 * trees).fit(
        X_train, split.train[LABEL], split.valid[cols], split.valid[LABEL])
    uri = f"sqlite:///{home / 'mlflow.db'}"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["CXCHURN_HOME"] = str(home)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run(experiment_id=setup_tracking(root=home)):
        info = log_churn_model(model, split.test, registered_model_name="cxchurn")
    version = str(info.registered_model_version)
    registry.client().set_registered_model_alias("cxchurn", registry.CHAMPION, version)
    cutoff = default_cutoff(world.events)
    write_store(latest_features(world.customers, world.events, cutoff), store_path(home),
                {"cutoff": cutoff.isoformat(), "spec_version": spec_version(DEFAULT_SPECS)})


def timed(fn: Callable[[], Any], n: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


HEADER = (f"{'case':<42}{'rows':>6}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'req/s':>9}{'rows/s':>10}")


def line(r: dict[str, Any]) -> str:
    return (f"{r['case']:<42}{r['rows']:>6}{r['n']:>5}{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}{r['req_per_s']:>9.1f}{r['rows_per_s']:>10.0f}")


def summary(name: str, ms: list[float], rows: int) -> dict[str, Any]:
    q = np.percentile(ms, [50, 95, 99])
    total_s = sum(ms) / 1000
    out = {"case": name, "rows": rows, "n": len(ms), "p50_ms": q[0], "p95_ms": q[1],
            "p99_ms": q[2], "req_per_s": len(ms) / total_s, "rows_per_s": rows * len(ms) / total_s}
    print(line(out), file=sys.stderr, flush=True)
    return out


def json_value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float):
        return None if math.isnan(v) else v
    if hasattr(v, "item"):
        return json_value(v.item())
    return str(v) if not isinstance(v, (int, float)) else float(v)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 240) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--single", type=int, default=200, help="requests per single case")
    parser.add_argument("--batch", type=int, default=40, help="requests per batch case")
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()

    import httpx

    from serving.api.model_source import load_from_registry
    from serving.api.online_store import OnlineStore, store_path
    from tests.api.server import free_port, launch, stop, wait_ready
    from training.explain import FastModel
    from training.pyfunc import model_frame

    home = args.home
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="cxchurn-bench-")) / "home"
        t0 = time.perf_counter()
        build_home(home, args.trees)
        print(f"built {home} in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    home = home.resolve()
    loaded = load_from_registry(home, f"sqlite:///{home / 'mlflow.db'}", "cxchurn")
    model = loaded.model
    features = list(model.feature_names_)
    store = OnlineStore.load(store_path(home)).table
    batch = store.sample(min(1000, len(store)), random_state=0, replace=len(store) < 1000)
    one = batch.iloc[:1]
    ids = batch["customer_id"].astype(str).tolist()
    n_trees = model.best_iteration_
    print(f"model: {n_trees} trees used, {len(features)} features; store {len(store)} customers; "
          f"batch {len(batch)} rows", file=sys.stderr)

    results = []
    X1, Xb = model_frame(model, one), model_frame(model, batch)
    fast = FastModel(model)
    M1, Mb = fast.matrix(X1), fast.matrix(Xb)
    results.append(summary("in-process ChurnModel.predict_churn, 1 row", timed(
        lambda: model.predict_churn(X1), args.single), 1))
    results.append(summary("in-process booster on matrix, 1 row", timed(
        lambda: fast.predict_churn(fast.matrix(X1)), args.single), 1))
    results.append(summary("in-process booster + TreeSHAP, 1 row", timed(
        lambda: (fast.predict_churn(M1), fast.shap_values(M1)), args.single), 1))
    results.append(summary("in-process ChurnModel.predict_churn, 1000", timed(
        lambda: model.predict_churn(Xb), args.batch), len(batch)))
    results.append(summary("in-process booster on matrix, 1000 rows", timed(
        lambda: fast.predict_churn(Mb), args.batch), len(batch)))

    cols = ["customer_id", *features]
    table = {"columns": cols, "data": [[json_value(v) for v in r] for r in
                                       batch[cols].itertuples(index=False, name=None)]}
    records = [dict(zip(cols, r, strict=True)) for r in table["data"]]
    svc = wait_ready(launch(home, port=free_port()))
    try:
        client = httpx.Client(base_url=svc.url, timeout=60)
        # Each worker loads the live ingestion's history in the background after it is ready;
        # an empty POST /events waits for it, so the load does not land in the first case.
        for _ in range(8):
            client.post("/events", json={"events": []})

        def post(path: str, body: dict) -> Callable[[], None]:
            content = json.dumps(body).encode()

            def call() -> None:
                r = client.post(path, content=content,
                                headers={"Content-Type": "application/json"})
                r.raise_for_status()
            return call

        cases = [
            ("BentoML /score, 1 id", "/score", {"customer_ids": ids[:1]}, 1, args.single),
            ("BentoML /score, 1 posted row", "/score", {"rows": records[:1]}, 1, args.single),
            ("BentoML /explain (score+top-5), 1 id", "/explain",
             {"customer_ids": ids[:1], "top_k": 5}, 1, args.single),
            ("BentoML /score, 1000 ids", "/score", {"customer_ids": ids}, len(ids), args.batch),
            ("BentoML /score, 1000 rows as table", "/score", {"table": table}, len(ids),
             args.batch),
            ("BentoML /score, 1000 rows as objects", "/score", {"rows": records}, len(ids),
             args.batch),
        ]
        for name, path, body, n_rows, n in cases:
            # enough warm-up requests that every worker process has served this case once
            results.append(summary(name, timed(post(path, body), n, warmup=20), n_rows))
        client.close()
    finally:
        stop(svc)

    if not args.skip_mlflow:
        port = free_port()
        model_dir = home / "serving" / "last_good" / "cxchurn"
        log = (home / "mlflow-serve.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir),
             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
        try:
            wait_http(f"http://127.0.0.1:{port}/ping", proc)
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
            feats_only = [r[1:] for r in table["data"]]

            def inv(data: list) -> Callable[[], None]:
                content = json.dumps({"dataframe_split": {"columns": features,
                                                          "data": data}}).encode()

                def call() -> None:
                    r = client.post("/invocations", content=content,
                                    headers={"Content-Type": "application/json"})
                    r.raise_for_status()
                return call

            results.append(summary("mlflow models serve, 1 row", timed(
                inv(feats_only[:1]), args.single), 1))
            results.append(summary("mlflow models serve, 1000 rows", timed(
                inv(feats_only), args.batch), len(ids)))
            client.close()
        finally:
            if proc.poll() is None:
                os.killpg(os.getpgid(proc.pid), signal.SIGTERM)
                proc.wait(timeout=30)

    print(HEADER)
    for r in results:
        print(line(r))
    by = {r["case"]: r for r in results}
    mlf = by.get("mlflow models serve, 1000 rows")
    if mlf:
        for case in ("BentoML /score, 1000 ids", "BentoML /score, 1000 rows as table",
                     "BentoML /score, 1000 rows as objects"):
            ratio = by[case]["rows_per_s"] / mlf["rows_per_s"]
            print(f"batch throughput {case} vs mlflow models serve: {ratio:.2f}x")


if __name__ == "__main__":
    main()

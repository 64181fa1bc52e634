"""Where the served model comes from: the registry's champion, else the last good local copy.

At start (and on reload) the service asks the MLflow registry for ``<name>@champion``,
downloads that version's MLflow model folder into ``<home>/serving/last_good/<name>/`` and
loads the ``ChurnModel`` inside it. If the registry cannot be reached, has no champion, or the
artifacts are gone, the copy written by the last successful load is served instead, and the
metadata says so (``source: "cache"`` plus the registry's error). With neither, the caller gets
``ModelNotReadyError`` and stays un-ready. The cache is a plain MLflow model folder, so
``mlflow models serve -m <it>`` can serve the very same model.
"""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxchurn.errors import CxChurnError, ModelNotReadyError, NotFoundError, RegistryUnavailableError

log = logging.getLogger(__name__)

CACHE_META = "serving_meta.json"
ALIAS = "champion"


@dataclass(frozen=True)
class LoadedModel:
    """A ChurnModel plus what the metadata endpoint says about it."""

    model: Any
    info: dict[str, Any] = field(default_factory=dict)


def cache_dir(home: Path, model_name: str) -> Path:
    """The folder holding the last model loaded from the registry for ``model_name``."""
    return Path(home) / "serving" / "last_good" / model_name


def _iso_ms(ms: int | None) -> str | None:
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def _check_store(tracking_uri: str) -> None:
    """Refuse a missing SQLite file instead of letting MLflow create an empty registry there."""
    if tracking_uri.startswith("sqlite:///"):
        db = Path(tracking_uri.removeprefix("sqlite:///"))
        if not db.is_file():
            raise RegistryUnavailableError(
                f"no MLflow registry database at {db}; train a model first (`cxchurn train`) "
                "or set MLFLOW_TRACKING_URI to the registry the champion lives in"
            )


def _from_registry(tracking_uri: str, model_name: str, alias: str, dst: Path
                   ) -> dict[str, Any]:
    """Download ``model_name@alias`` into ``dst``; return its metadata (no model loaded yet)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from training import registry

    _check_store(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = registry.client()
    version = registry.version_for_alias(client, model_name, alias)
    if version is None:
        raise NotFoundError(
            f"the registry at {tracking_uri!r} has no model {model_name!r} with alias "
            f"{alias!r}; train and promote one (`cxchurn train`) or set CXCHURN_MODEL_NAME"
        )
    try:
        mv = client.get_model_version(model_name, version)
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{model_name}/{version}", dst_path=str(dst)
        )
        run = client.get_run(mv.run_id) if mv.run_id else None
    except (MlflowException, OSError) as err:
        raise RegistryUnavailableError(
            f"could not fetch {model_name!r} v{version} from {tracking_uri!r}: "
            f"{type(err).__name__}: {str(err)[:200]}; check that its artifacts still exist"
        ) from err
    metrics = {}
    trained_at = _iso_ms(mv.creation_timestamp)
    if run is not None:
        metrics = {k: float(v) for k, v in sorted(run.data.metrics.items())
                   if k.startswith("test_")}
        trained_at = _iso_ms(run.info.start_time) or trained_at
    return {
        "model_name": model_name,
        "model_version": str(version),
        "alias": alias,
        "run_id": mv.run_id,
        "trained_at": trained_at,
        "registered_at": _iso_ms(mv.creation_timestamp),
        "metrics": metrics,
        "tracking_uri": tracking_uri,
    }


def _describe(model: Any, info: dict[str, Any]) -> dict[str, Any]:
    out = dict(info)
    out["spec_version"] = str(getattr(model, "spec_version_", "") or "unknown")
    out["n_features"] = len(model.feature_names_)
    return out


def _replace_dir(new: Path, target: Path) -> None:
    """Swap ``new`` into ``target`` so that a crash never leaves a half-written cache.

    Under a file lock: the service's worker processes refresh the same cache as they start.
    """
    with (target.parent / ".cache.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _swap(new, target)


def _swap(new: Path, target: Path) -> None:
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def load_from_registry(home: Path, tracking_uri: str, model_name: str, alias: str = ALIAS
                       ) -> LoadedModel:
    """Load the registry's ``alias`` version and refresh the local last-good copy."""
    from training.pyfunc import load_churn_model

    target = cache_dir(home, model_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        info = _from_registry(tracking_uri, model_name, alias, tmp / "model")
        model = load_churn_model(str(tmp / "model"))
        info = _describe(model, info)
        (tmp / "model" / CACHE_META).write_text(json.dumps(info, indent=2), encoding="utf-8")
        _replace_dir(tmp / "model", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return LoadedModel(model=model, info={**info, "source": "registry"})


def load_cached(home: Path, model_name: str) -> LoadedModel | None:
    """The last good copy of ``model_name``, or None if there is none (or it is unreadable)."""
    from training.pyfunc import load_churn_model

    folder = cache_dir(home, model_name)
    meta = folder / CACHE_META
    if not meta.is_file():
        return None
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        model = load_churn_model(str(folder))
    except Exception as err:  # a corrupt cache must not crash the service: report, stay un-ready
        log.warning("the cached model in %s is unreadable (%s)", folder, type(err).__name__)
        return None
    return LoadedModel(model=model, info={**info, "source": "cache", "cache_dir": str(folder)})


def load_model(home: Path, tracking_uri: str, model_name: str, alias: str = ALIAS
               ) -> LoadedModel:
    """The champion from the registry, else the cached copy (saying why), else ModelNotReady."""
    try:
        return load_from_registry(home, tracking_uri, model_name, alias)
    except Exception as err:  # any registry failure falls back to the cache, by design
        reason = str(err) if isinstance(err, CxChurnError) else (
            f"{type(err).__name__}: {str(err)[:300]}")
        log.warning("registry load of %s@%s failed: %s", model_name, alias, reason[:300])
    cached = load_cached(home, model_name)
    if cached is None:
        raise ModelNotReadyError(
            f"no model to serve: the registry load failed ({reason[:400]}) and there is no "
            f"cached copy in {cache_dir(home, model_name)}; train and promote a model "
            "(`cxchurn train`), then call POST /reload"
        )
    info = dict(cached.info)
    info["registry_error"] = reason[:1000]
    info["warning"] = (
        "serving the last good model cached locally because the registry could not be used; "
        "POST /reload once the registry is back"
    )
    return LoadedModel(model=cached.model, info=info)


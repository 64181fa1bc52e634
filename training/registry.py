"""The model registry: versions, the ``champion`` / ``challenger`` aliases and promotion.

Promotion rule: a new version is first the ``challenger``; it becomes ``champion``
only if it beats the current champion on the *same* out-of-time data, i.e. the current
champion is loaded back from the registry and scored on the challenger's test fold, and the
challenger's ROC-AUC must be strictly higher (a tie or worse keeps it a challenger). Before
that, the promotion gate: a challenger that does not beat the best baseline on its own test
fold (a logistic regression, the recency rule) is registered but never promoted, not even as
the first version, since a model that loses to a simpler one should not serve. Both numbers,
the gate and the decision are logged to the active run and tagged on the model version, so the
registry explains itself. ``force`` (``--force-promote``) overrides both and is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.metrics import roc_auc_score

from cxchurn.errors import FeatureMismatchError, RegistryUnavailableError
from training.pyfunc import OUTPUT_COLUMN, model_frame

DEFAULT_MODEL_NAME = "cxchurn"
CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class PromotionDecision:
    """Outcome of comparing a challenger with the champion on the same out-of-time rows."""

    model_name: str
    challenger_version: str
    champion_version: str | None
    challenger_roc_auc: float
    champion_roc_auc: float | None
    promoted: bool
    reason: str
    n_rows: int
    beats_baselines: bool | None = None
    forced: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def client() -> MlflowClient:
    """A client on the current tracking URI, failing clearly if the store is unusable."""
    uri = mlflow.get_tracking_uri()
    try:
        c = MlflowClient(tracking_uri=uri, registry_uri=mlflow.get_registry_uri())
        c.search_registered_models(max_results=1)
    except (MlflowException, OSError) as err:
        raise RegistryUnavailableError(
            f"the MLflow model registry at {uri!r} is unavailable ({type(err).__name__}: "
            f"{str(err)[:200]}); expected a reachable tracking store with a model registry "
            "(e.g. sqlite:///output/mlflow.db or http://host:5000); set MLFLOW_TRACKING_URI "
            "to a working store or unset it to use the local SQLite file"
        ) from err
    return c


def version_for_alias(c: MlflowClient, name: str, alias: str) -> str | None:
    """The version number behind an alias, or None if the model or alias does not exist."""
    try:
        return str(c.get_model_version_by_alias(name, alias).version)
    except MlflowException as err:
        code = getattr(err, "error_code", "")
        if code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            return None
        raise RegistryUnavailableError(
            f"could not read alias {alias!r} of model {name!r}: {err}; check MLFLOW_TRACKING_URI"
        ) from err


def aliases(c: MlflowClient, name: str) -> dict[str, str]:
    """alias -> version for a registered model ({} if it does not exist)."""
    try:
        return {k: str(v) for k, v in c.get_registered_model(name).aliases.items()}
    except MlflowException:
        return {}


def champion_uri(name: str = DEFAULT_MODEL_NAME) -> str:
    """The ``models:/`` URI serving and the notebook use to load the champion."""
    return f"models:/{name}@{CHAMPION}"


def roc_auc(y: Any, p: Any) -> float:
    """ROC-AUC, NaN when the rows hold a single class (no ranking to judge)."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, np.asarray(p, dtype=float)))


def decide(
    challenger_auc: float, champion_auc: float | None, min_improvement: float = 0.0
) -> tuple[bool, str]:
    """The promotion rule alone, pure: (promote?, reason in words)."""
    if champion_auc is None:
        return True, "no current champion"
    if np.isnan(challenger_auc):
        return False, "challenger ROC-AUC undefined on the comparison rows (one class only)"
    if np.isnan(champion_auc):
        return True, "champion ROC-AUC undefined on the comparison rows"
    delta = challenger_auc - champion_auc
    if delta > min_improvement:
        return True, (
            f"challenger ROC-AUC {challenger_auc:.4f} beats champion {champion_auc:.4f} "
            f"(+{delta:.4f} > {min_improvement:.4f})"
        )
    return False, (
        f"challenger ROC-AUC {challenger_auc:.4f} does not beat champion {champion_auc:.4f} "
        f"(delta {delta:+.4f}, needs > {min_improvement:.4f}); stays challenger"
    )


def compare_and_promote(
    name: str,
    version: str,
    challenger_scores: Any,
    rows: pd.DataFrame,
    y: Any,
    *,
    min_improvement: float = 0.0,
    force: bool = False,
    champion_scorer: Callable[[str, pd.DataFrame], np.ndarray] | None = None,
    baseline_check: tuple[bool, str] | None = None,
) -> PromotionDecision:
    """Compare ``version`` with the current champion on ``rows``/``y`` and move the aliases.

    ``challenger_scores`` are the challenger's P(churn) on ``rows``; the champion is loaded
    from the registry and scored on the very same rows (``champion_scorer`` overrides how, for
    tests). The new version is tagged ``challenger`` first; if it wins it becomes ``champion``
    (and loses the ``challenger`` alias). Both AUCs and the decision are logged to the active
    MLflow run, if any, and tagged on the model version. ``baseline_check`` is (does the
    challenger beat its best baseline?, the verdict in words); a challenger that does not is
    kept a challenger whatever the champion comparison says. ``force`` promotes regardless
    (e.g. after a deliberate feature-spec change) and says so in the reason.
    """
    c = client()
    version = str(version)
    y = np.asarray(y)
    c.set_registered_model_alias(name, CHALLENGER, version)
    champ_version = version_for_alias(c, name, CHAMPION)
    if champ_version == version:
        champ_version = None
    challenger_auc = roc_auc(y, challenger_scores)
    champion_auc: float | None = None
    incompatible = ""
    if champ_version is not None:
        scorer = champion_scorer or _registry_scorer(name)
        try:
            champion_auc = roc_auc(y, scorer(champ_version, rows))
        except FeatureMismatchError as err:
            incompatible = str(err)
    if incompatible:
        promoted = False
        reason = (
            f"champion v{champ_version} cannot score the challenger's out-of-time rows "
            f"({incompatible[:300]}); not comparable, stays challenger (use force to promote)"
        )
    else:
        promoted, reason = decide(challenger_auc, champion_auc, min_improvement)
    beats = None if baseline_check is None else bool(baseline_check[0])
    if beats is False:
        promoted = False
        reason = f"{baseline_check[1] if baseline_check else ''}; champion check: {reason}"
        if champ_version is None:
            reason += "; no champion is served until a model beats its baselines"
    forced = force and not promoted
    if forced:
        promoted, reason = True, f"forced promotion (--force-promote); rule said: {reason}"
    if promoted:
        c.set_registered_model_alias(name, CHAMPION, version)
        c.delete_registered_model_alias(name, CHALLENGER)
    decision = PromotionDecision(
        model_name=name,
        challenger_version=version,
        champion_version=champ_version,
        challenger_roc_auc=challenger_auc,
        champion_roc_auc=champion_auc,
        promoted=promoted,
        reason=reason,
        n_rows=len(y),
        beats_baselines=beats,
        forced=forced,
    )
    _record(c, decision)
    return decision


def _registry_scorer(name: str) -> Callable[[str, pd.DataFrame], np.ndarray]:
    """Score rows with a registered version exactly as serving would (through its pyfunc)."""

    def score(version: str, rows: pd.DataFrame) -> np.ndarray:
        try:
            loaded = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
        except MlflowException as err:
            raise RegistryUnavailableError(
                f"could not load champion {name!r} v{version} from the registry: {err}; "
                "check that its artifacts still exist where MLFLOW_TRACKING_URI says"
            ) from err
        # model_frame raises FeatureMismatchError (naming the columns) before MLflow's schema
        # check, and drops ids/labels so MLflow has no extra inputs to warn about.
        X = model_frame(loaded.unwrap_python_model().model, rows)
        return loaded.predict(X)[OUTPUT_COLUMN].to_numpy()

    return score


def _record(c: MlflowClient, d: PromotionDecision) -> None:
    """Log the comparison to the active run and tag it on the challenger's model version."""
    tags = {
        "promotion.decision": "promoted" if d.promoted else "kept_challenger",
        "promotion.reason": d.reason[:4000],
        "promotion.champion_version": d.champion_version or "none",
        "promotion.rule": "challenger beats its best baseline and the champion on test "
                          "ROC-AUC (same rows)",
        "promotion.forced": str(d.forced).lower(),
        "promotion.beats_baselines": "unknown" if d.beats_baselines is None
        else str(d.beats_baselines).lower(),
    }
    for key, value in tags.items():
        c.set_model_version_tag(d.model_name, d.challenger_version, key, value)
    if mlflow.active_run() is None:
        return
    mlflow.set_tags(tags)
    metrics = {
        "promotion.challenger_roc_auc": d.challenger_roc_auc,
        "promotion.promoted": float(d.promoted),
        "promotion.n_rows": float(d.n_rows),
    }
    if d.champion_roc_auc is not None:
        metrics["promotion.champion_roc_auc"] = d.champion_roc_auc
    mlflow.log_metrics({k: v for k, v in metrics.items() if not np.isnan(v)})
    mlflow.log_dict(d.as_dict(), "promotion.json")

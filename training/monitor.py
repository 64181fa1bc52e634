"""Watching the champion after training: drift, estimated and realised performance, alerts.

``monitor(model, reference_rows, current_rows_by_cutoff, labels_by_cutoff)`` is pure (frames
in, a ``MonitorReport`` out); ``training.monitor_commands`` does the I/O. Per current cutoff:

- drift of every model feature against the reference (``training.drift``: PSI and KS or
  chi-square) and of the score (PSI of the calibrated probability);
- performance estimated before labels arrive (``training.cbpe``: expected ROC-AUC with the
  range chance allows the realised AUC, top-decile lift and churn rate from the calibrated
  probabilities). Given ``calibration_rows`` (labelled rows the champion never trained on: its
  validation fold), the estimate first recalibrates the champion's probability there
  (``cbpe.fit_recalibration``), because the champion's own calibration, chosen for log loss,
  may leave the spread a few percent off and CBPE's AUC is sensitive to exactly that;
- once labels have matured, realised ROC-AUC, lift, ECE and churn rate beside the estimate,
  and the estimate's error (estimated - realised AUC);
- alerts, one message each: the drifted features by name (most drifted first), a drifted
  score, and an estimated or realised AUC more than ``auc_drop`` below the reference AUC.
  Drift a declared known change explains (``MonitorConfig.known_changes``, e.g. a price rise
  the company announced; ``training.known_changes``) is reported as expected, not alerted.

The reference is the population the champion learned from: the rows of its training fold
(``monitor_commands`` reads the train-fold cutoffs the training run recorded in
``data/split.json`` and takes those cutoffs' rows from the feature build). The reference AUC,
against which performance alerts are judged, is the champion's held-out test AUC recorded with
its run when known, else the CBPE estimate on the reference rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError
from training import cbpe
from training.drift import DriftConfig, drift_table, psi
from training.evaluate import compute_metrics
from training.known_changes import KnownChange, explained_by

REALISED_KEYS = {"roc_auc": "roc_auc", "lift_top_decile": "lift_top_decile", "ece": "ece",
                 "base_rate": "churn_rate"}


@dataclass(frozen=True)
class MonitorConfig:
    """Alert thresholds: feature drift (``drift``), score PSI, and the AUC drop tolerated."""

    drift: DriftConfig = field(default_factory=DriftConfig)
    score_psi: float = 0.2
    auc_drop: float = 0.05
    top_k: int = 5  # drifted features named in an alert (the rest counted)
    # deliberate changes (training.known_changes): their families' drift is expected
    known_changes: tuple[KnownChange, ...] = ()

    def __post_init__(self) -> None:
        if not self.score_psi > 0:
            raise ConfigError(f"MonitorConfig.score_psi must be > 0; got {self.score_psi}")
        if not 0 < self.auc_drop < 0.5:
            raise ConfigError(f"MonitorConfig.auc_drop must be in (0, 0.5); got {self.auc_drop}")
        if self.top_k < 1:
            raise ConfigError(f"MonitorConfig.top_k must be >= 1; got {self.top_k}")


@dataclass
class CutoffReport:
    """One current cutoff: its drift table, score drift, estimate, realised figures, alerts."""

    cutoff: str
    n: int
    drift: pd.DataFrame
    score_psi: float
    estimate: dict[str, float]
    realised: dict[str, float] | None
    alerts: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> list[str]:
        """Drifted features no known change explains, most drifted first."""
        unexplained = self.drift["expected"].eq("") if "expected" in self.drift else True
        return self.drift.loc[self.drift["drifted"] & unexplained, "feature"].tolist()

    @property
    def expected_drift(self) -> list[str]:
        """Drifted features a known change explains: 'feature (known price change on ...)'."""
        if "expected" not in self.drift:
            return []
        rows = self.drift[self.drift["drifted"] & self.drift["expected"].ne("")]
        return [f"{f} ({why})" for f, why in zip(rows["feature"], rows["expected"],
                                                  strict=True)]

    def record(self) -> dict[str, Any]:
        """One flat row of ``monitor.csv``."""
        nan = float("nan")
        realised = self.realised or {}
        est, real = self.estimate["est_roc_auc"], realised.get("roc_auc", nan)
        top = self.drift.head(3)
        return {
            "cutoff": self.cutoff, "n": self.n, "n_drifted": len(self.drifted),
            "top_drifted": ";".join(self.drifted[:5]),
            "expected_drift": ";".join(self.expected_drift),
            "max_psi": float(self.drift["psi"].max()) if len(self.drift) else nan,
            "top_psi_features": ";".join(f"{f}={v:.3f}" for f, v in
                                         zip(top["feature"], top["psi"], strict=True)),
            "score_psi": self.score_psi, **self.estimate,
            **{f"realised_{k}": realised.get(k, nan) for k in REALISED_KEYS.values()},
            "auc_error": est - real if self.realised else nan,
            # the realised AUC inside the range chance allows around the estimate (cbpe)
            "auc_in_interval": (bool(self.estimate["est_roc_auc_low"] <= real
                                     <= self.estimate["est_roc_auc_high"])
                                if self.realised else None),
            "labelled": self.realised is not None, "n_alerts": len(self.alerts),
        }


@dataclass
class MonitorReport:
    """Every current cutoff's report, the reference it was judged against, and the config."""

    cutoffs: list[CutoffReport]
    reference_n: int
    reference_auc: float
    reference_auc_source: str
    config: MonitorConfig
    # how the estimate's probabilities were recalibrated (None: the champion's own were used)
    recalibration: cbpe.Recalibration | None = None

    @property
    def alerts(self) -> list[str]:
        return [a for c in self.cutoffs for a in c.alerts]

    def table(self) -> pd.DataFrame:
        """One row per cutoff (``monitor.csv``)."""
        return pd.DataFrame([c.record() for c in self.cutoffs])

    def drift_frame(self) -> pd.DataFrame:
        """Every (cutoff, feature) drift row, for ``drift.csv``."""
        if not self.cutoffs:
            return pd.DataFrame()
        return pd.concat([c.drift.assign(cutoff=c.cutoff) for c in self.cutoffs],
                         ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """``monitor.json``: the per-cutoff rows, alerts and thresholds."""
        drift = self.config.drift
        return {
            "reference": {"n": self.reference_n, "roc_auc": self.reference_auc,
                          "roc_auc_source": self.reference_auc_source},
            "thresholds": {"psi": drift.psi_threshold, "p_value": drift.p_value,
                           "min_effect": drift.min_effect, "score_psi": self.config.score_psi,
                           "auc_drop": self.config.auc_drop},
            "known_changes": [c.label() for c in self.config.known_changes],
            "cbpe_calibration": (self.recalibration.to_dict() if self.recalibration
                                 else {"method": "the champion's own probabilities"}),
            "cutoffs": self.table().to_dict(orient="records"),
            "alerts": self.alerts,
        }


def _realised(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    metrics = compute_metrics(y, p)
    out = {name: float(metrics[key]) for key, name in REALISED_KEYS.items()}
    out["mean_p"] = float(np.mean(p)) if len(p) else float("nan")
    return out


def _alerts(report: CutoffReport, reference_auc: float, config: MonitorConfig) -> list[str]:
    out = []
    drifted = report.drifted
    if drifted:
        table = report.drift.set_index("feature")
        named = ", ".join(f"{f} (PSI {table.loc[f, 'psi']:.2f})" for f in drifted[:config.top_k])
        more = f" and {len(drifted) - config.top_k} more" if len(drifted) > config.top_k else ""
        out.append(f"{report.cutoff}: {len(drifted)} feature(s) drifted: {named}{more}")
    if report.score_psi >= config.score_psi:
        out.append(f"{report.cutoff}: the score drifted (PSI {report.score_psi:.2f} >= "
                   f"{config.score_psi})")
    floor = reference_auc - config.auc_drop
    est = report.estimate["est_roc_auc"]
    if np.isfinite(floor) and est < floor:
        out.append(f"{report.cutoff}: estimated AUC {est:.3f} is below {floor:.3f} (reference "
                   f"{reference_auc:.3f} - {config.auc_drop})")
    real = (report.realised or {}).get("roc_auc", float("nan"))
    if np.isfinite(floor) and real < floor:
        out.append(f"{report.cutoff}: realised AUC {real:.3f} is below {floor:.3f} (reference "
                   f"{reference_auc:.3f} - {config.auc_drop})")
    return out


def monitor(
    model: Any,
    reference_rows: pd.DataFrame,
    current_rows_by_cutoff: Mapping[str, pd.DataFrame],
    labels_by_cutoff: Mapping[str, Any] | None = None,
    *,
    reference_auc: float | None = None,
    config: MonitorConfig | None = None,
    calibration_rows: pd.DataFrame | None = None,
    calibration_labels: Any = None,
) -> MonitorReport:
    """Drift, estimated and (where labels exist) realised performance, alerts, per cutoff.

    ``model`` has ``feature_names_`` and ``predict_churn`` (a ``ChurnModel``); the rows carry
    at least its features. ``labels_by_cutoff[c]`` is the 0/1 outcome of
    ``current_rows_by_cutoff[c]``'s rows, in the same order (leave a cutoff out while its
    labels have not matured). ``reference_auc`` defaults to the CBPE estimate on the reference.
    ``calibration_rows`` with their ``calibration_labels`` (the champion's validation fold:
    labelled, never trained on, never its test fold) recalibrate the probabilities the
    estimate uses; without them the champion's own probabilities are used as they are.
    """
    config = config or MonitorConfig()
    if not len(reference_rows):
        raise ConfigError("monitor: the reference rows are empty; expected the rows the "
                          "champion was trained on")
    features = list(model.feature_names_)
    recalibration = _recalibration(model, calibration_rows, calibration_labels)
    ref_p = np.asarray(model.predict_churn(reference_rows[features]), dtype=float)
    source = "given"
    if reference_auc is None:
        reference_auc, source = cbpe.expected_auc(ref_p), "cbpe on the reference rows"
    labels = labels_by_cutoff or {}
    reference_cutoffs = ([str(c) for c in pd.Series(reference_rows["cutoff"]).unique()]
                         if "cutoff" in reference_rows else [])
    reports = []
    for cutoff, rows in current_rows_by_cutoff.items():
        p = np.asarray(model.predict_churn(rows[features]), dtype=float)
        realised = None
        if cutoff in labels:
            y = np.asarray(labels[cutoff], dtype=float)
            if y.shape != p.shape:
                raise ConfigError(f"monitor: cutoff {cutoff} has {len(p)} rows but {len(y)} "
                                  "labels; pass labels aligned with the rows")
            realised = _realised(y, p)
        drift = drift_table(reference_rows, rows, features, config.drift)
        drift["expected"] = explained_by(drift["feature"].tolist(), str(cutoff),
                                         config.known_changes, reference_cutoffs)
        report = CutoffReport(
            cutoff=str(cutoff), n=len(rows), drift=drift,
            score_psi=psi(ref_p, p, config.drift),
            estimate=cbpe.estimate(recalibration(p) if recalibration else p),
            realised=realised,
        )
        report.alerts = _alerts(report, reference_auc, config)
        reports.append(report)
    return MonitorReport(cutoffs=reports, reference_n=len(reference_rows),
                         reference_auc=float(reference_auc), reference_auc_source=source,
                         config=config, recalibration=recalibration)


def _recalibration(model: Any, rows: pd.DataFrame | None, labels: Any
                   ) -> cbpe.Recalibration | None:
    """Platt scaling of the champion's probability on its labelled held-out rows, or None."""
    if rows is None and labels is None:
        return None
    if rows is None or labels is None:
        raise ConfigError("monitor: pass calibration_rows and calibration_labels together "
                          "(the champion's validation rows and their 0/1 outcomes)")
    cutoffs = (sorted({str(pd.Timestamp(c).date()) for c in rows["cutoff"]})
               if "cutoff" in rows else [])
    source = f"validation rows at {', '.join(cutoffs)}" if cutoffs else "validation rows"
    p = np.asarray(model.predict_churn(rows[list(model.feature_names_)]), dtype=float)
    return cbpe.fit_recalibration(p, np.asarray(labels, dtype=float), source)

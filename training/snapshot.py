"""Snapshot mode: a one-row-per-customer table with a churn column, through the same stack.

A user with a CRM extract (one row per customer, a churn flag) gets what the event-log path
gives: typed features (``training.infer_types``, summary printed, overridable), the leakage
guard, an honest estimate (stratified k-fold with a fixed seed, or the split the data ships),
the final LightGBM model with SHAP drivers, plots, an MLflow run and a registered version that
becomes ``champion`` only if it beats the current one on the same held-out rows.

The registered model's held-out rows: the table's own test file when it ships one (Orange's
80/20 split); otherwise the customers whose id hashes into the lowest 20 of 100 buckets. A
hash of the id (not a random draw) keeps the same customers held out on every retrain, so a
challenger and the champion are always compared on rows neither trained on, even after new
customers are added to the table. The next 15 buckets are the validation rows for early
stopping, calibration and the tree-size choice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from cxchurn.errors import ConfigError, DataContractError
from features.schema import CUSTOMER_ID, LABEL
from training.crossval import CAPACITY_GRID, CVResult, best_of_grid, cross_validate
from training.infer_types import (
    TypePlan,
    apply_types,
    customer_ids,
    infer_types,
    label_vector,
)
from training.leakage import SUSPECT_THRESHOLD, LeakageReport, find_leaks
from training.model import ChurnModel
from training.report import (
    ReportView,
    RunReport,
    baseline_scores,
    evaluate_on_test,
    write_json,
)

log = logging.getLogger(__name__)

TEST_BUCKETS = 20
VALID_BUCKETS = 15
SUMMARY_KEYS = ("roc_auc", "pr_auc", "lift_top_decile", "brier")


@dataclass(frozen=True)
class SnapshotConfig:
    """How to read and train on a customer table (logged as run parameters)."""

    label: str
    id_column: str | None = None
    positive: str | None = None
    negative: tuple[str, ...] = ()  # the other label values, each meaning "stayed"
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    boolean: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    as_of: str | None = None
    n_folds: int = 5
    seed: int = 0
    cross_validate: bool = True
    leak_threshold: float = SUSPECT_THRESHOLD
    keep_features: tuple[str, ...] = ()
    strict_leakage: bool = False
    budget_share: float = 0.1
    tree_sizes: tuple[str, ...] = tuple(CAPACITY_GRID)
    write_plots: bool = True

    def grid(self) -> dict[str, dict[str, Any]]:
        unknown = [t for t in self.tree_sizes if t not in CAPACITY_GRID]
        if unknown or not self.tree_sizes:
            raise ConfigError(f"tree sizes must be among {list(CAPACITY_GRID)}, got "
                              f"{list(self.tree_sizes)}")
        return {t: CAPACITY_GRID[t] for t in self.tree_sizes}


# ------------------------------------------------------------------------------ reading


def read_table(path: str | Path) -> pd.DataFrame:
    """Every cell as written (text), from CSV, Excel or Parquet: typing is the plan's job."""
    p = Path(path)
    if not p.is_file():
        raise DataContractError(f"table file '{p}' does not exist; check the path")
    name = p.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".txt")):
            return pd.read_csv(p, dtype=str, keep_default_na=False)
        if name.endswith((".xlsx", ".xls")):
            return pd.read_excel(p, dtype=str, keep_default_na=False)
        if name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(p)
            return frame.astype("object").where(frame.notna(), "").astype(str)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise DataContractError(f"table file '{p}' could not be read ({type(err).__name__}: "
                                f"{err}); expected a CSV with a header row, .xlsx or "
                                "Parquet") from err
    raise DataContractError(f"table file '{p}': unsupported suffix; expected .csv, .csv.gz, "
                            ".xlsx or .parquet")


def type_plan(raw: pd.DataFrame, config: SnapshotConfig) -> TypePlan:
    return infer_types(raw, config.label, config.id_column, config.positive,
                       categorical=config.categorical, numeric=config.numeric,
                       date=config.date, boolean=config.boolean, drop=config.drop,
                       as_of=config.as_of, negatives=config.negative)


def id_buckets(ids: pd.Series, salt: str = "cxchurn") -> np.ndarray:
    """0..99 per id from a hash: the same customer lands in the same bucket on every run."""
    return np.array([int(hashlib.sha256(f"{salt}:{i}".encode()).hexdigest()[:8], 16) % 100
                     for i in ids], dtype=int)


@dataclass(frozen=True)
class SnapshotSplit:
    """Rows (typed features + ids + label) of the final model's three parts."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    source: str

    def describe(self) -> dict[str, dict[str, Any]]:
        return {name: {"rows": len(f), "churn_rate": float(f[LABEL].mean()) if len(f) else None,
                       "cutoffs": []}
                for name, f in (("train", self.train), ("valid", self.valid),
                                ("test", self.test))} | {"source": {"rule": self.source}}


def _rows(raw: pd.DataFrame, plan: TypePlan, offset: int = 0) -> pd.DataFrame:
    frame = apply_types(raw, plan)
    frame.insert(0, CUSTOMER_ID, customer_ids(raw, plan, offset).to_numpy())
    frame[LABEL] = label_vector(raw, plan)
    frame.attrs["spec_version"] = plan_version(plan)
    frame.attrs["category_fold"] = plan.fold
    return frame.reset_index(drop=True)


def plan_version(plan: TypePlan) -> str:
    """A short hash of the type plan: the 'feature spec version' of a snapshot model."""
    text = json.dumps([(c.name, c.kind, c.true_value, c.merges) for c in plan.columns])
    return "table-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def final_split(rows: pd.DataFrame, test_rows: pd.DataFrame | None, seed: int) -> SnapshotSplit:
    if test_rows is not None:
        y = rows[LABEL].to_numpy()
        fit_idx, valid_idx = train_test_split(np.arange(len(rows)), test_size=0.2, stratify=y,
                                              random_state=seed)
        return SnapshotSplit(rows.iloc[fit_idx].reset_index(drop=True),
                             rows.iloc[valid_idx].reset_index(drop=True),
                             test_rows.reset_index(drop=True),
                             "the data set's own test file; validation = stratified 20% of "
                             "the training file")
    bucket = id_buckets(rows[CUSTOMER_ID])
    test = bucket < TEST_BUCKETS
    valid = (bucket >= TEST_BUCKETS) & (bucket < TEST_BUCKETS + VALID_BUCKETS)
    parts = [rows[m].reset_index(drop=True) for m in (~test & ~valid, valid, test)]
    if any(p[LABEL].nunique() < 2 for p in parts):
        raise DataContractError("the held-out or validation rows hold a single class; the "
                                "table is too small or too unbalanced for a held-out check")
    source = (f"customers whose id hashes into buckets 0-{TEST_BUCKETS - 1} of 100 = test, the "
              f"next {VALID_BUCKETS} = validation (stable across retrains)")
    return SnapshotSplit(train=parts[0], valid=parts[1], test=parts[2], source=source)


# ------------------------------------------------------------------------------ training


@dataclass
class SnapshotResult(ReportView):
    """One snapshot run: the final model's test report plus the estimate and the type plan."""

    report: RunReport
    plan: TypePlan
    chosen_trees: str
    split: SnapshotSplit
    leakage: LeakageReport
    cv: CVResult | None = None
    protocol: str = ""

    @property
    def global_importance(self) -> pd.DataFrame:
        return self.report.global_importance

    def estimate(self) -> dict[str, dict[str, float]]:
        """The protocol's figures per model: CV means, else the held-out test metrics."""
        if self.cv is not None:
            return {m: {k: float(v) for k, v in row.items()}
                    for m, row in self.cv.mean().to_dict(orient="index").items()}
        return self.metrics

    def summary(self) -> str:
        headline = self.leakage.headline()
        lines = [headline] if headline else []
        lines.append(self.cv.summary() if self.cv is not None else f"protocol: {self.protocol}")
        lines.append(f"final model ({self.chosen_trees} trees) on held-out rows: "
                     f"{self.split.source}")
        lines.extend(self.report.metrics_table(SUMMARY_KEYS, 18))
        lines.extend(v for v in self.report.verdict_lines() if v != headline)
        lines.extend(self.leakage.lines())
        top = self.report.global_importance.head(5)["feature"].tolist()
        lines.append(f"top drivers (mean |SHAP|): {top}")
        return "\n".join(lines)


def leakage_line(report: LeakageReport) -> str:
    """The leakage guard's verdict in one line: every flagged column, its AUC and fate."""
    return report.lines()[0]


def train_snapshot(
    raw: pd.DataFrame,
    config: SnapshotConfig,
    out_dir: str | Path,
    test_raw: pd.DataFrame | None = None,
) -> SnapshotResult:
    """Type, guard, estimate (CV unless a test table is given), fit, explain; write run files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = type_plan(raw, config)
    rows = _rows(raw, plan)
    test_rows = _rows(test_raw, plan, offset=len(raw)) if test_raw is not None else None
    features = plan.features
    if not features:
        raise DataContractError("no usable feature column left after typing; see the summary")
    y_all = rows[LABEL].to_numpy(dtype=int)
    if len(np.unique(y_all)) < 2:
        raise DataContractError(f"label column {config.label!r} holds one class only "
                                f"(churn value {plan.positive!r}); check --positive")
    unknown_keep = [f for f in config.keep_features if f not in features]
    if unknown_keep:
        raise ConfigError(f"--keep-feature names unknown column(s) {unknown_keep}; have "
                          f"{features}")
    leakage = find_leaks(rows[features], y_all, config.leak_threshold,
                         keep=config.keep_features, strict=config.strict_leakage)
    features = [f for f in features if f not in leakage.dropped]
    grid = config.grid()

    cv = None
    if test_rows is None and config.cross_validate:
        cv = cross_validate(rows[features], y_all, grid, config.n_folds, config.seed,
                            config.budget_share)
        protocol = cv.protocol()
    elif test_rows is not None:
        protocol = ("the data set's own train/test split (train file -> test file); early "
                    "stopping on a stratified 20% of the train file")
    else:
        protocol = "held-out rows by id hash (cross-validation switched off)"

    split = final_split(rows, test_rows, config.seed)
    train_valid = pd.concat([split.train, split.valid], ignore_index=True)
    model, chosen = _fit_final(split, features, grid, config.seed)
    # The plan travels with the model: `cxchurn score --table` types new rows with it.
    model.type_plan_ = plan.to_dict()
    report = evaluate_on_test(
        model, split.test, budget_share=config.budget_share, keys=(CUSTOMER_ID,),
        baselines=baseline_scores(train_valid[features], train_valid[LABEL].to_numpy(dtype=int),
                                  split.test[features], recency=False),
        plots_dir=out / "plots" if config.write_plots else None,
        leakage=leakage, bootstrap_seed=config.seed,
    )
    if not report.beats_baselines:
        log.warning("the LightGBM model does NOT beat every baseline on the held-out rows: %s",
                    report.baseline_verdict())
    result = SnapshotResult(report=report, plan=plan, chosen_trees=chosen, split=split,
                            leakage=report.leakage or leakage, cv=cv, protocol=protocol)
    _write_files(result, config, out)
    return result


def _fit_final(split: SnapshotSplit, features: list[str], grid: dict[str, dict[str, Any]],
               seed: int) -> tuple[ChurnModel, str]:
    """Each tree size early-stopped and calibrated on the validation rows; best valid AUC."""
    X_fit, y_fit = split.train[features], split.train[LABEL].to_numpy(dtype=int)
    X_valid, y_valid = split.valid[features], split.valid[LABEL].to_numpy(dtype=int)
    X_fit.attrs = dict(split.train.attrs)
    return best_of_grid(grid, X_fit, y_fit, X_valid, y_valid, seed)


def _write_files(result: SnapshotResult, config: SnapshotConfig, out: Path) -> None:
    (out / "type_plan.json").write_text(json.dumps(result.plan.to_dict(), indent=2, default=str))
    result.report.write_files(out)
    write_json(out / "estimate.json", {"protocol": result.protocol,
                                       "metrics": result.estimate()})
    write_json(out / "leakage.json", result.leakage.to_dict())
    write_json(out / "headline.json", result.report.headline_record())
    write_json(out / "config.json", asdict(config))
    if result.cv is not None:
        result.cv.folds.to_csv(out / "cv_folds.csv", index=False)

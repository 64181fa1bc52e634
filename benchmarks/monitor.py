"""Monitoring against known causes: drift ranking under a shock, false alarms, CBPE error.

For each seed, two simulated worlds that are identical up to the shock date: one without a
shock and one with a ``--shock`` crisis (default ``delivery``) from April 1st of ``--year``.
Each gets the feature build at monthly cutoffs, a champion trained on the six cutoffs up to
January 1st (early stopping and calibration on February 1st), and
``training.monitor.monitor`` on March to June, labels included (all have matured).

The calendar: a world runs two years to July 1st of ``--year``. The simulator schedules
company-wide price rises on 2024-04-01 and 2025-03-01, real causes of price drift that the
monitor rightly flags; the default ``--year 2027`` puts the world after both, so that the
unshocked world has no cause of drift at all and every alert in it is a false alarm.
``--year 2025`` runs the default calendar (rises included). Printed: the top drifted features
at each cutoff of the shocked world, the alerts of the unshocked one (false alarms), and the
estimated vs realised AUC per cutoff (the CBPE error), and its summary per world.

The estimate recalibrates the champion's probability on the validation cutoff
(``--cbpe-calibration validation``, what ``cxchurn monitor`` does); ``champion`` uses the
champion's own probabilities as they are, the behaviour before that recalibration.

    .venv/bin/python benchmarks/monitor.py                       # 20,000 customers, 3 seeds
    .venv/bin/python benchmarks/monitor.py --customers 3000 --seeds 1 --year 2025
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.default_specs import DEFAULT_SPECS  # noqa: E402
from features.labels import LabelConfig  # noqa: E402
from features.pipeline import build_examples  # noqa: E402
from features.schema import CUSTOMER_ID, CUTOFF, LABEL  # noqa: E402
from features.simulate import SimConfig, monthly_cutoffs, simulate  # noqa: E402
from training.dataset import feature_columns  # noqa: E402
from training.model import ChurnModel  # noqa: E402
from training.monitor import MonitorConfig, MonitorReport, monitor  # noqa: E402


def world_config(n_customers: int, seed: int, year: int = 2027, shock: str | None = None
                 ) -> SimConfig:
    """A two-year world ending July 1st of ``year``; ``shock`` is a kind, starting April 1st."""
    return SimConfig(n_customers=n_customers, seed=seed, start=f"{year - 2}-07-01",
                     end=f"{year}-07-01", cutoffs=tuple(f"{year}-{m:02d}-01" for m in range(1, 7)),
                     shock=f"{shock}:{year}-04-01" if shock else None)


def world_examples(config: SimConfig) -> pd.DataFrame:
    """Features inner-joined with labels at the world's monthly cutoffs."""
    world = simulate(config)
    dates = monthly_cutoffs(config)
    labels = LabelConfig(horizon_days=config.horizon_days,
                         data_end=pd.Timestamp(config.end, tz="UTC"))
    features, label_rows = build_examples(world.customers, world.events, dates, labels)
    keys = [CUSTOMER_ID, CUTOFF]
    return features.merge(label_rows[[*keys, LABEL]], on=keys, how="inner")


def train_champion(examples: pd.DataFrame, train_until: str, n_train_cutoffs: int = 6
                   ) -> tuple[ChurnModel, pd.DataFrame]:
    """(model, reference rows): trained on the ``n_train_cutoffs`` cutoffs up to
    ``train_until``, early-stopped and calibrated on the next cutoff."""
    cutoffs = sorted(examples[CUTOFF].unique())
    last = cutoffs.index(pd.Timestamp(train_until, tz="UTC"))
    train_cuts, valid_cut = cutoffs[max(0, last - n_train_cutoffs + 1):last + 1], cutoffs[last + 1]
    train = examples[examples[CUTOFF].isin(train_cuts)]
    valid = examples[examples[CUTOFF] == valid_cut]
    features = feature_columns(examples)
    monotone = {s.name: s.monotone for s in DEFAULT_SPECS if s.monotone}
    model = ChurnModel(monotone=monotone).fit(train[features], train[LABEL],
                                              valid[features], valid[LABEL])
    return model, train


def simulated_monitor(n_customers: int, seed: int, shock: str | None, year: int = 2027,
                      config: MonitorConfig | None = None, recalibrate: bool = True
                      ) -> MonitorReport:
    """Simulate, build, train and monitor every cutoff after the validation one (whose rows
    recalibrate the estimate's probabilities unless ``recalibrate`` is False)."""
    examples = world_examples(world_config(n_customers, seed, year, shock))
    train_until = f"{year}-01-01"
    model, reference = train_champion(examples, train_until)
    cutoffs = sorted(examples[CUTOFF].unique())
    later = [c for c in cutoffs if c > pd.Timestamp(train_until, tz="UTC")]
    rows = {c.date().isoformat(): examples[examples[CUTOFF] == c].reset_index(drop=True)
            for c in later}
    labels = {c: r[LABEL].to_numpy() for c, r in rows.items()}
    # The validation cutoff's AUC stands in for the test AUC a training run records: the
    # reference performance alerts are judged against.
    valid = rows.pop(min(rows))
    valid_auc = roc_auc_score(valid[LABEL], model.predict_churn(valid[model.feature_names_]))
    return monitor(model, reference, rows, labels, reference_auc=float(valid_auc),
                   config=config, calibration_rows=valid if recalibrate else None,
                   calibration_labels=valid[LABEL].to_numpy() if recalibrate else None)


def error_summary(err: pd.DataFrame) -> pd.DataFrame:
    """Per world: cutoffs, mean and mean absolute CBPE error, largest error, share within
    0.02, and the share of realised AUCs inside the estimate's 95% range."""
    groups = err.assign(abs_error=err["auc_error"].abs()).groupby("world")
    return pd.DataFrame({
        "cutoffs": groups.size(), "mean_error": groups["auc_error"].mean(),
        "mean_abs_error": groups["abs_error"].mean(), "max_abs_error": groups["abs_error"].max(),
        "within_0.02": groups["abs_error"].apply(lambda e: float((e <= 0.02).mean())),
        "in_range": groups["auc_in_interval"].apply(lambda s: float(s.astype(bool).mean())),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--shock", default="delivery", help="delivery, price or support")
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument("--cbpe-calibration", choices=("validation", "champion"),
                        default="validation", help="recalibrate the estimate's probabilities "
                        "on the validation cutoff, or use the champion's own")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "monitor_results.json")
    args = parser.parse_args()
    results: dict[str, object] = {"customers": args.customers, "shock": args.shock,
                                  "year": args.year, "cbpe_calibration": args.cbpe_calibration,
                                  "runs": []}
    errors = []
    for seed in range(1, args.seeds + 1):
        for shock in (None, args.shock):
            began = time.perf_counter()
            report = simulated_monitor(args.customers, seed, shock, args.year,
                                       recalibrate=args.cbpe_calibration == "validation")
            table = report.table()
            label = shock or "no shock"
            print(f"\n== seed {seed}, {label} ({time.perf_counter() - began:.0f}s); reference "
                  f"AUC {report.reference_auc:.3f} ({report.reference_auc_source})")
            cols = ["cutoff", "n", "n_drifted", "score_psi", "est_roc_auc", "realised_roc_auc",
                    "auc_error", "est_churn_rate", "realised_churn_rate", "top_psi_features"]
            print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            for alert in report.alerts:
                print(f"  ALERT {alert}")
            errors.append(table.assign(seed=seed, world=label)[
                ["seed", "world", "cutoff", "est_roc_auc", "est_roc_auc_low",
                 "est_roc_auc_high", "realised_roc_auc", "auc_error", "auc_in_interval"]])
            results["runs"].append({"seed": seed, "world": label, **report.to_dict()})  # type: ignore[attr-defined]
    err = pd.concat(errors, ignore_index=True)
    print("\n== CBPE error (estimated - realised AUC) per cutoff")
    print(err.to_string(index=False, float_format=lambda v: f"{v:+.3f}"))
    print(f"mean |error| {err['auc_error'].abs().mean():.4f}, max |error| "
          f"{err['auc_error'].abs().max():.4f}, share within 0.02: "
          f"{(err['auc_error'].abs() <= 0.02).mean():.2f}; realised inside the estimate's "
          f"95% range: {err['auc_in_interval'].astype(bool).mean():.2f}; mean half-width "
          f"{((err['est_roc_auc_high'] - err['est_roc_auc_low']) / 2).mean():.3f}")
    summary = error_summary(err)
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"))
    results["cbpe_error"] = summary.reset_index().to_dict(orient="records")
    plain = [r for r in results["runs"] if r["world"] == "no shock"]  # type: ignore[attr-defined]
    cutoffs = sum(len(r["cutoffs"]) for r in plain)
    alarmed = sum(1 for r in plain for c in r["cutoffs"] if c["n_alerts"])
    print(f"false alarms (unshocked worlds): {alarmed} of {cutoffs} cutoffs over "
          f"{len(plain)} seeds")
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""The monitor on simulated worlds with a known cause: a delivery shock drifts the delivery
features first, an unshocked world raises no drift alert, and CBPE matches realised AUC when
the probabilities are calibrated. Plus the report's own arithmetic and the CLI's I/O."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from benchmarks.monitor import simulated_monitor, world_config
from features.simulate import simulate
from training import cbpe
from training.monitor import MonitorConfig, MonitorReport, monitor
from training.monitor_commands import build_frames, plot_report

DELIVERY = ("late_", "delivery_")


@pytest.fixture(scope="module")
def shocked() -> MonitorReport:
    return simulated_monitor(3000, seed=1, shock="delivery")


@pytest.fixture(scope="module")
def plain() -> MonitorReport:
    return simulated_monitor(3000, seed=1, shock=None)


def test_delivery_features_drift_first_within_one_cutoff_of_the_shock(shocked) -> None:
    first = next(c for c in shocked.cutoffs if c.cutoff == "2027-05-01")  # shock: 04-01
    assert first.drifted and all(f.startswith(DELIVERY) for f in first.drifted[:3])
    unexplained = first.drift[first.drift["expected"].eq("")]  # not the history's own age
    assert unexplained["feature"].iloc[0].startswith(DELIVERY)  # top by PSI as well
    assert any("late_" in a for a in first.alerts)
    before = next(c for c in shocked.cutoffs if c.cutoff == "2027-03-01")
    assert not before.drifted


def test_an_unshocked_world_raises_no_drift_alert(plain) -> None:
    assert [c.drifted for c in plain.cutoffs] == [[]] * len(plain.cutoffs)
    assert all(c.score_psi < 0.1 for c in plain.cutoffs)


def test_the_report_carries_estimate_and_realised_side_by_side(plain) -> None:
    table = plain.table()
    assert table["cutoff"].tolist() == ["2027-03-01", "2027-04-01", "2027-05-01", "2027-06-01"]
    assert table["labelled"].all()
    assert np.allclose(table["auc_error"], table["est_roc_auc"] - table["realised_roc_auc"])
    assert table["est_roc_auc"].between(0.6, 0.95).all()


def test_cbpe_matches_realised_auc_when_probabilities_are_calibrated() -> None:
    # The simulator's truth is calibrated by construction (up to its mean-path
    # approximation): its expected AUC matches the AUC its own labels realise. With about a
    # hundred churners a cutoff, one realised AUC moves by +-0.04, so the test bounds the
    # mean error over the six cutoffs tightly and each one loosely (benchmarks/monitor.py
    # measures the champion's error on 20,000-customer worlds).
    world = simulate(world_config(5000, seed=2, shock="delivery"))
    cancels = world.events.loc[world.events.event_type == "cancellation",
                               ["customer_id", "event_time"]]
    errors = []
    for cutoff, rows in world.truth_churn.groupby("cutoff"):
        end = cutoff + pd.Timedelta(days=30)
        gone = cancels[(cancels.event_time >= cutoff) & (cancels.event_time < end)]
        y = rows["customer_id"].isin(gone["customer_id"]).to_numpy()
        errors.append(cbpe.expected_auc(rows["p_churn"]) - roc_auc_score(y, rows["p_churn"]))
    assert abs(np.mean(errors)) < 0.02
    assert max(abs(e) for e in errors) < 0.06


class _Model:
    feature_names_ = ("x",)

    def predict_churn(self, rows: pd.DataFrame) -> np.ndarray:
        return 1 / (1 + np.exp(-rows["x"].to_numpy(dtype=float)))


def test_alerts_name_features_score_drift_and_performance_drops() -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(-3, 1, 4000)})
    cur = pd.DataFrame({"x": rng.normal(-1, 1, 4000)})
    y = np.zeros(4000)
    y[:200] = 1  # labels unrelated to the score: realised AUC about 0.5
    report = monitor(_Model(), ref, {"2025-05-01": cur}, {"2025-05-01": y},
                     reference_auc=0.8, config=MonitorConfig())
    alerts = " | ".join(report.alerts)
    assert "1 feature(s) drifted: x (PSI" in alerts
    assert "the score drifted" in alerts
    assert "realised AUC" in alerts
    record = report.table().iloc[0]
    assert record["realised_churn_rate"] == pytest.approx(0.05)
    assert record["est_churn_rate"] == pytest.approx(_Model().predict_churn(cur).mean())


def test_build_frames_takes_training_cutoffs_as_reference_and_newer_ones_as_current(
        tmp_path: Path) -> None:
    cut = pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-03-01"], utc=True)
    rows = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "cutoff": cut, "x": [1., 2, 3, 4]})
    rows.to_parquet(tmp_path / "features.parquet")
    rows.iloc[:2].assign(churned=[0, 1]).to_parquet(tmp_path / "labels.parquet")
    reference, current, labels = build_frames(tmp_path, ["2025-01-01"])
    assert reference["x"].tolist() == [1.0]
    assert list(current) == ["2025-02-01", "2025-03-01"]
    assert list(labels) == ["2025-02-01"]  # 2025-03-01 has not matured
    with pytest.raises(Exception, match="lacks"):
        build_frames(tmp_path, ["2024-12-01"])


def test_plot_is_written(plain, tmp_path: Path) -> None:
    assert plot_report(plain, tmp_path / "m.png").stat().st_size > 1000


def test_the_estimate_recalibrates_on_the_validation_rows_and_says_so() -> None:
    rng = np.random.default_rng(4)
    z = rng.normal(-3.4, 1.0, 70000)  # true log-odds: calibrated, about 4.5% churners
    true = 1 / (1 + np.exp(-z))
    squeezed_logit = 0.85 * (z - z.mean()) + z.mean()  # _Model's probability is too compressed
    frame = pd.DataFrame({"x": squeezed_logit, "cutoff": pd.Timestamp("2025-02-01", tz="UTC")})
    y = (rng.random(true.size) < true).astype(int)
    valid, now = frame.iloc[:60000], frame.iloc[60000:].reset_index(drop=True)
    plain = monitor(_Model(), valid, {"2025-03-01": now}, reference_auc=0.8)
    fixed = monitor(_Model(), valid, {"2025-03-01": now}, reference_auc=0.8,
                    calibration_rows=valid, calibration_labels=y[:60000])
    expected = cbpe.expected_auc(true[60000:])
    assert plain.table()["est_roc_auc"].iloc[0] < expected - 0.025
    assert fixed.table()["est_roc_auc"].iloc[0] == pytest.approx(expected, abs=0.01)
    doc = fixed.to_dict()["cbpe_calibration"]
    assert doc["source"] == "validation rows at 2025-02-01" and doc["n"] == 60000
    assert plain.to_dict()["cbpe_calibration"] == {"method": "the champion's own probabilities"}
    with pytest.raises(Exception, match="calibration_rows and calibration_labels together"):
        monitor(_Model(), valid, {"2025-03-01": now}, calibration_rows=valid)


def test_calibration_frames_are_the_validation_cutoffs_with_matured_labels() -> None:
    from training.monitor_commands import calibration_frames

    current = {"2025-02-01": pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}),
               "2025-03-01": pd.DataFrame({"x": [3.0]})}
    labels = {"2025-02-01": np.array([0, 1, 1, 0])}
    rows, y = calibration_frames(current, labels, ["2025-02-01"])
    assert rows["x"].tolist() == [1.0, 2.0, 3.0, 4.0] and y.tolist() == [0.0, 1.0, 1.0, 0.0]
    one_churner = {"2025-02-01": np.array([0, 1, 0, 0])}  # too few to fit: champion's own p
    assert calibration_frames(current, one_churner, ["2025-02-01"]) == (None, None)
    assert calibration_frames(current, labels, ["2025-03-01"]) == (None, None)  # not matured
    assert calibration_frames(current, labels, []) == (None, None)

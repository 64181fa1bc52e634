"""Known changes: a price rise the company announced is expected drift, not an alarm.

On the simulator's default calendar (company-wide price rises on 2024-04-01 and 2025-03-01)
the price features drift (the 2024 rise fading out of what the reference rows carried, the
2025 rise arriving) and the monitor alerts; with both rises declared as known changes, the
same drift is reported as expected and no feature alert is left. Drift of another
family, and drift outside the change's reach, still alert.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.monitor import train_champion, world_config, world_examples
from cxchurn.errors import ConfigError
from features.schema import CUTOFF, LABEL
from training.known_changes import KnownChange, explained_by, parse_known_change
from training.monitor import MonitorConfig, monitor

RISE = "price:2025-03-01"


def test_a_known_change_reaches_the_cutoffs_after_it_within_its_days() -> None:
    change = parse_known_change("price:2025-03-01:60")
    assert change == KnownChange("price", pd.Timestamp("2025-03-01", tz="UTC"), 60)
    assert not change.reaches("2025-03-01")  # features at a cutoff see events before it
    assert change.reaches("2025-03-02") and change.reaches("2025-04-30")
    assert not change.reaches("2025-05-01")


@pytest.mark.parametrize("text, message", [
    ("weather:2025-03-01", "family must be one of"),
    ("price", "FAMILY:YYYY-MM-DD"),
    ("price:someday", "not a date"),
    ("price:2025-03-01:x", "whole number"),
])
def test_a_bad_known_change_is_refused_naming_the_fix(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_known_change(text)


class _Model:
    feature_names_ = ("price_rises_180d", "late_deliveries_30d")

    def predict_churn(self, rows: pd.DataFrame) -> np.ndarray:
        return np.full(len(rows), 0.05)


def test_only_the_declared_familys_drift_is_expected() -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"price_rises_180d": rng.poisson(0.1, 3000).astype(float),
                        "late_deliveries_30d": rng.poisson(0.3, 3000).astype(float)})
    cur = ref.assign(price_rises_180d=ref["price_rises_180d"] + 1.0,
                     late_deliveries_30d=ref["late_deliveries_30d"] + 2.0)
    config = MonitorConfig(known_changes=(parse_known_change(RISE),))
    report = monitor(_Model(), ref, {"2025-04-01": cur, "2025-12-01": cur}, config=config)
    april, december = report.cutoffs
    assert april.drifted == ["late_deliveries_30d"]  # delivery is not what was declared
    assert april.expected_drift == ["price_rises_180d (known price change on 2025-03-01)"]
    assert "price_rises_180d" in december.drifted  # past the 180 days the rise can explain
    assert report.to_dict()["known_changes"] == ["known price change on 2025-03-01"]


@pytest.fixture(scope="module")
def default_calendar() -> tuple[object, pd.DataFrame, dict, dict]:
    examples = world_examples(world_config(3000, seed=1, year=2025))
    model, reference = train_champion(examples, "2025-01-01")
    later = sorted(c for c in examples[CUTOFF].unique()
                   if c > pd.Timestamp("2025-02-01", tz="UTC"))
    rows = {c.date().isoformat(): examples[examples[CUTOFF] == c].reset_index(drop=True)
            for c in later}
    labels = {c: r[LABEL].to_numpy() for c, r in rows.items()}
    return model, reference, rows, labels


def test_the_scheduled_price_rise_alerts_unless_declared(default_calendar) -> None:
    model, reference, rows, labels = default_calendar
    plain = monitor(model, reference, rows, labels, reference_auc=0.8)
    price = [f for c in plain.cutoffs for f in c.drifted if "price" in f]
    assert price, [c.drifted for c in plain.cutoffs]  # the rise is seen as drift
    # the company announced both rises: the 2024 one still sat in the reference rows
    rises = (parse_known_change("price:2024-04-01"), parse_known_change(RISE))
    declared = monitor(model, reference, rows, labels, reference_auc=0.8,
                       config=MonitorConfig(known_changes=rises))
    assert [c.drifted for c in declared.cutoffs] == [[]] * len(declared.cutoffs)
    assert any(c.expected_drift for c in declared.cutoffs)
    assert not any("drifted:" in a for a in declared.alerts)


def test_features_that_measure_the_history_itself_drift_as_expected_without_a_declaration(
        ) -> None:
    from training.known_changes import HISTORY_AGE

    assert explained_by(["days_since_first_order", "order_span_days", "late_deliveries_30d",
                         "tenure_days"], "2025-06-01", []) == [HISTORY_AGE, HISTORY_AGE, "", ""]

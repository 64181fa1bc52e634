"""Cutoff tables, eligibility and both label kinds, on tiny histories, to the value."""

from __future__ import annotations

import pandas as pd
import pytest

from cxchurn.errors import ConfigError
from features.default_specs import DEFAULT_SPECS
from features.labels import (
    LabelConfig,
    cutoff_dates,
    eligible_cutoffs,
    make_labels,
    parse_cutoffs,
)
from features.pipeline import build_examples, write_outputs

C1, C2 = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-02-01", tz="UTC")


def frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["customer_id", "event_time", "event_type"])
    out["event_time"] = pd.to_datetime(out["event_time"], utc=True, format="ISO8601").astype(
        "datetime64[us, UTC]")
    out["channel"] = "web"
    for col in ("amount", "score", "duration"):
        out[col] = float("nan")
    out["text"] = None
    return out


CUSTOMERS = pd.DataFrame({
    "customer_id": ["stay", "leave", "gone", "new", "quiet"],
    "signup_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2025-01-15",
                                   "2024-01-01"], utc=True).astype("datetime64[us, UTC]"),
})
EVENTS = frame([
    ("stay", "2024-12-20", "order"), ("stay", "2025-01-10", "order"),
    ("stay", "2025-02-10", "session"),
    ("leave", "2024-12-15", "order"), ("leave", "2025-01-30 23:59:59", "cancellation"),
    ("gone", "2024-11-01", "cancellation"), ("gone", "2024-10-01", "order"),
    ("new", "2025-01-20", "order"),
    ("quiet", "2024-12-01", "session"),
    # an event exactly at the cutoff + horizon end belongs to the NEXT window
    ("quiet", "2025-01-31", "session"),
])


def test_cutoff_dates_are_month_starts_in_utc() -> None:
    dates = cutoff_dates("2025-01-01", "2025-06-01")
    assert [str(d.date()) for d in dates] == [f"2025-0{m}-01" for m in range(1, 7)]
    assert all(str(d.tz) == "UTC" for d in dates)
    assert parse_cutoffs("2025-02-01, 2025-01-01") == [C1, C2]
    with pytest.raises(ConfigError, match="not an ISO date"):
        parse_cutoffs("2025-13-45")


def test_contractual_eligibility_and_labels() -> None:
    config = LabelConfig(kind="contractual", horizon_days=30)
    eligible = eligible_cutoffs(CUSTOMERS, EVENTS, [C1, C2], config)
    got = set(zip(eligible.customer_id, eligible.cutoff.dt.strftime("%Y-%m-%d"), strict=True))
    # gone: cancelled before both cutoffs; new: signed up after C1; leave: cancelled before C2
    assert got == {("stay", "2025-01-01"), ("stay", "2025-02-01"), ("leave", "2025-01-01"),
                   ("new", "2025-02-01"), ("quiet", "2025-01-01"), ("quiet", "2025-02-01")}
    labels = make_labels(EVENTS, eligible, config).set_index(["customer_id", "cutoff"])
    assert str(labels["churned"].dtype) == "int8"
    # leave cancels on 2025-01-30 23:59:59, inside [C1, C1 + 30 days)
    assert labels.loc[("leave", C1), "churned"] == 1
    assert labels["churned"].sum() == 1


def test_cancellation_exactly_at_the_cutoff_is_label_not_ineligibility() -> None:
    events = frame([("x", "2025-01-01", "cancellation")])
    customers = CUSTOMERS.iloc[:1].assign(customer_id="x")
    config = LabelConfig(kind="contractual", horizon_days=30)
    eligible = eligible_cutoffs(customers, events, [C1], config)
    assert eligible.customer_id.tolist() == ["x"]
    assert make_labels(events, eligible, config)["churned"].tolist() == [1]
    # and exactly at cutoff + horizon it is outside the horizon
    late = frame([("x", "2025-01-31", "cancellation")])
    assert make_labels(late, eligible, config)["churned"].tolist() == [0]


def test_non_contractual_eligibility_and_labels() -> None:
    config = LabelConfig(kind="non_contractual", horizon_days=30, active_within_days=45)
    eligible = eligible_cutoffs(CUSTOMERS, EVENTS, [C1, C2], config)
    got = set(zip(eligible.customer_id, eligible.cutoff.dt.strftime("%Y-%m-%d"), strict=True))
    # quiet: active 2024-12-01 (31 days before C1) -> eligible at C1; at C2 its last activity
    # is 2025-01-31 -> eligible. leave: order 2024-12-15 -> eligible at C1 only (cancelled).
    assert got == {("stay", "2025-01-01"), ("stay", "2025-02-01"), ("leave", "2025-01-01"),
                   ("new", "2025-02-01"), ("quiet", "2025-01-01"), ("quiet", "2025-02-01")}
    labels = make_labels(EVENTS, eligible, config)
    churned = {(r.customer_id, str(r.cutoff.date())): r.churned for r in labels.itertuples()}
    assert churned == {
        ("stay", "2025-01-01"): 0,   # order on 2025-01-10
        ("stay", "2025-02-01"): 0,   # session on 2025-02-10
        ("leave", "2025-01-01"): 1,  # a cancellation is not activity
        ("new", "2025-02-01"): 1,    # no activity in February
        ("quiet", "2025-01-01"): 1,  # 2025-01-31 = C1 + 30 days: outside the horizon
        ("quiet", "2025-02-01"): 1,
    }


def test_label_config_rejects_bad_values_and_unobserved_horizons() -> None:
    with pytest.raises(ConfigError, match="label kind must be one of"):
        LabelConfig(kind="soft")
    with pytest.raises(ConfigError, match="horizon_days must be a whole number"):
        LabelConfig(horizon_days=0)
    with pytest.raises(ConfigError, match="activity_event_types must be known"):
        LabelConfig(activity_event_types=("login",))
    config = LabelConfig(data_end=pd.Timestamp("2025-01-20", tz="UTC"))
    with pytest.raises(ConfigError, match=r"pass the end of the data"):
        eligible_cutoffs(CUSTOMERS, EVENTS, [C1], config)


def test_build_examples_and_write_outputs(tmp_path) -> None:
    config = LabelConfig(kind="contractual")
    features, labels = build_examples(CUSTOMERS, EVENTS, [C1, C2], config, DEFAULT_SPECS)
    assert len(features) == len(labels) == 6
    paths = write_outputs(features, labels, DEFAULT_SPECS, tmp_path, config)
    examples = pd.read_parquet(paths["examples"])
    assert len(examples) == 6 and "churned" in examples.columns
    assert examples["orders_total"].dtype == "float64"
    spec_doc = paths["spec"].read_text()
    assert '"version"' in spec_doc and '"nps_last"' in spec_doc

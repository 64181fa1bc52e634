"""The spec -> SQL compiler: one query, bound parameters, portable, invalid specs rejected."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import sqlglot

from cxchurn.errors import ConfigError
from features import schema
from features.compile import compile_features
from features.default_specs import DEFAULT_SPECS
from features.spec import (
    AggregateSpec,
    Filter,
    TrendSpec,
    dump_specs,
    load_specs,
    spec_version,
    validate_specs,
)

CUTOFFS = [pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-02-01", tz="UTC")]


def spec(**changes) -> AggregateSpec:
    base = AggregateSpec(name="orders_30d", description="orders in 30 days", family="windowed",
                         event_types=("order",), aggregation="count", window_days=30)
    return dataclasses.replace(base, **changes)


def test_default_set_is_one_statement_with_values_bound_as_parameters() -> None:
    query = compile_features(DEFAULT_SPECS, CUTOFFS, static_columns=["customer_id", "plan"])
    assert len(sqlglot.parse(query.sql, read="duckdb")) == 1
    for event_type in schema.EVENT_TYPES:
        assert f"'{event_type}'" not in query.sql  # values travel as parameters
    assert query.params["et_order"] == "order" and query.params["ch_web"] == "web"
    assert all(f"${name}" in query.sql for name in query.params)
    assert 60 <= len(DEFAULT_SPECS) <= 110
    assert query.columns[:4] == ("customer_id", "cutoff", "plan", "tenure_days")


def test_sql_transpiles_to_spark() -> None:
    query = compile_features(DEFAULT_SPECS, CUTOFFS)
    spark = sqlglot.transpile(query.sql, read="duckdb", write="spark")[0]
    assert "MAX_BY" in spark and "RLIKE" in spark


def test_customer_column_names_are_quoted_not_pasted() -> None:
    query = compile_features([spec()], CUTOFFS, static_columns=['x"; DROP TABLE t; --'])
    assert '"x""; DROP TABLE t; --"' in query.sql


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": "Orders 30"}, r"name must match"),
    ({"event_types": ("login",)}, r"'orders_30d': each event type must be one of .*'order'"),
    ({"aggregation": "median"}, r"'orders_30d': aggregation must be one of .*'count'"),
    ({"aggregation": "sum"}, r"column \(needed by aggregation 'sum'\) must be one of"),
    ({"aggregation": "sum", "column": "price"}, r"must be one of \['amount', 'score'"),
    ({"window_days": 0}, r"window_days must be a whole number of days"),
    ({"filter": Filter("amount", "LIKE", 1.0)}, r"filter operator must be one of"),
    ({"filter": Filter("amount", ">", float("nan"))}, r"filter value must be a finite number"),
    ({"channel": "fax"}, r"channel must be one of .*'web'"),
    ({"aggregation": "share"}, r"a 'share' needs a filter, channel or text_signal"),
    ({"monotone": 2}, r"monotone must be one of"),
    ({"family": "misc"}, r"family must be one of"),
    ({"aggregation": "decayed_sum"}, r"'orders_30d': decayed_sum needs half_life_days"),
    ({"aggregation": "decayed_sum", "half_life_days": 0.5}, r"days in 1\.\.3650; got 0\.5"),
    ({"half_life_days": 30.0}, r"\['half_life_days'\] belong to the decayed aggregations"),
    ({"aggregation": "decayed_sum", "half_life_days": 30.0, "cap": 6.0},
     r"cap/power shape a value column"),
    ({"aggregation": "decayed_mean", "half_life_days": 30.0},
     r"column \(needed by aggregation 'decayed_mean'\) must be one of"),
    ({"aggregation": "decayed_sum", "half_life_days": 30.0, "column": "duration", "power": 0},
     r"power must be a finite number above 0"),
])
def test_invalid_specs_are_rejected_with_clear_messages(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_specs([spec(**changes)])


def test_composites_must_reference_aggregates_in_the_set() -> None:
    trend = TrendSpec(name="t", description="trend", family="trend",
                      inputs=("orders_30d", "missing"), op="ratio")
    with pytest.raises(ConfigError, match="input 'missing' must be the name of an aggregate"):
        validate_specs([spec(), trend])
    with pytest.raises(ConfigError, match="defined twice"):
        validate_specs([spec(), spec()])


def test_specs_round_trip_through_files_and_version_is_stable(tmp_path) -> None:
    for suffix in ("json", "yaml"):
        path = dump_specs(DEFAULT_SPECS, tmp_path / f"specs.{suffix}")
        assert load_specs(path) == DEFAULT_SPECS
    assert spec_version(DEFAULT_SPECS) == spec_version(tuple(reversed(DEFAULT_SPECS)))
    assert spec_version(DEFAULT_SPECS) != spec_version(DEFAULT_SPECS[:-1])


def test_naive_or_missing_cutoffs_are_rejected() -> None:
    with pytest.raises(ConfigError, match="tz-aware UTC"):
        compile_features([spec()], [pd.Timestamp("2025-01-01")])
    with pytest.raises(ConfigError, match="no cutoffs"):
        compile_features([spec()], [])

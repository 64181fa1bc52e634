"""The dialect layer keeps numbers equal across engines (pure text checks, no Spark needed)."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("sqlglot", reason="sqlglot is not installed (pip install '.[spark]')")

from features.compile import compile_features
from features.default_specs import DEFAULT_SPECS
from features.labels import LabelConfig, eligibility_sql, labels_sql
from features.spark_sql import to_spark

CUTOFFS = [pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-02-01", tz="UTC")]


def test_epoch_keeps_microseconds_instead_of_whole_seconds() -> None:
    sql = to_spark("SELECT EPOCH(a) - EPOCH(b) AS d FROM t")
    assert "UNIX_TIMESTAMP" not in sql
    assert sql.count("UNIX_MICROS") == 2


def test_decimal_literals_become_doubles_and_integers_stay() -> None:
    sql = to_spark("SELECT x / 86400.0 AS a, x * 1.5e-07 AS b, y + 3 AS c FROM t")
    assert "CAST(86400.0 AS DOUBLE)" in sql and "CAST(1.5e-07 AS DOUBLE)" in sql
    assert "y + 3" in sql


def test_turkish_capital_dotted_i_lowers_like_duckdb() -> None:
    assert "LOWER(REPLACE(text, '\u0130', 'i'))" in to_spark("SELECT LOWER(text) FROM t")


def test_parameters_stay_bound_and_the_outer_sort_is_dropped() -> None:
    query = compile_features(DEFAULT_SPECS, CUTOFFS)
    sql = to_spark(query.sql)
    assert all(f":{name}" in sql for name in query.params)
    assert "$" not in sql and "ORDER BY A.CUSTOMER_ID" not in sql.upper().replace("`", "")
    assert "ORDER BY" in to_spark(query.sql, keep_order=True)


@pytest.mark.parametrize("kind", ["contractual", "non_contractual"])
def test_label_and_eligibility_sql_transpile(kind: str) -> None:
    config = LabelConfig(kind=kind)
    for sql, params in (eligibility_sql(config), labels_sql(config)):
        out = to_spark(sql)
        assert all(f":{name}" in out for name in params) and "$" not in out

"""The dialect layer: the compiler's DuckDB SQL, transpiled to Spark SQL (pure text -> text).

Why transpile and not a second compiler: every feature, label and eligibility rule is written
once (``features.compile``, ``features.labels``); Spark runs the same query. sqlglot does the
bulk (quoting, ``$name`` -> ``:name`` parameter markers, MAX_BY, REGEXP_MATCHES -> RLIKE). Three
places where the transpiled text would run but give *different numbers* are fixed here, on
the syntax tree, so that the parity test can demand equality to 1e-9:

* ``EPOCH(ts)``: sqlglot emits ``UNIX_TIMESTAMP(ts)``, whole seconds in Spark, while DuckDB
  keeps the microseconds. Rewritten to ``CAST(UNIX_MICROS(ts) AS DOUBLE) / 1e6``, which is the
  same double DuckDB computes.
* decimal literals (``86400.0``, ``0.5``): DECIMAL in both engines, but Spark's decimal
  arithmetic rounds to a fixed scale where DuckDB promotes to DOUBLE. Cast to DOUBLE.
* ``LOWER``: Java lower-cases the Turkish capital dotted I (U+0130) to "i" plus a combining
  dot, DuckDB to a plain "i", so "İptal" would miss the stem "iptal" on Spark only. The
  capital is replaced by "i" before lowering, which is exactly DuckDB's result.
* the outermost ``ORDER BY``: a global sort is a full shuffle on a cluster and a table
  written to Parquet has no order anyway. Dropped unless asked for.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from cxchurn.errors import ConfigError

MICROS_PER_SECOND = 1_000_000
DOTTED_CAPITAL_I = "\u0130"


def _epoch_seconds(ts: exp.Expression) -> exp.Expression:
    micros = exp.Anonymous(this="UNIX_MICROS", expressions=[ts])
    return exp.Div(this=exp.cast(micros, exp.DataType.Type.DOUBLE),
                   expression=exp.cast(exp.Literal.number(MICROS_PER_SECOND),
                                       exp.DataType.Type.DOUBLE))


def _is_decimal_literal(node: exp.Expression) -> bool:
    if not (isinstance(node, exp.Literal) and node.is_number):
        return False
    text = node.this.lower()
    return "." in text or "e" in text


def _portable(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Lower):
        dotted = exp.Anonymous(this="REPLACE", expressions=[
            node.this, exp.Literal.string(DOTTED_CAPITAL_I), exp.Literal.string("i")])
        return exp.Lower(this=dotted)
    if isinstance(node, exp.TimeToUnix):
        return _epoch_seconds(node.this)
    if _is_decimal_literal(node) and not isinstance(node.parent, exp.Cast):
        return exp.cast(node.copy(), exp.DataType.Type.DOUBLE)
    return node


def to_spark(sql: str, *, keep_order: bool = False) -> str:
    """Transpile one DuckDB statement of the compiler to Spark SQL with equal numeric results."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as err:
        raise ConfigError(f"the compiled feature SQL does not parse as DuckDB SQL ({err}); "
                          f"this is a bug in features/compile.py, not in your data.") from err
    if len(trees) != 1 or trees[0] is None:
        raise ConfigError(f"expected exactly one SQL statement to transpile; got {len(trees)}.")
    tree = trees[0].transform(_portable)
    if not keep_order:
        tree.set("order", None)
    return tree.sql(dialect="spark")

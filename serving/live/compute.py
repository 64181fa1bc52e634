"""Online features for a few customers: the specs evaluated in NumPy, checked against the
batch compiler on real customers before it serves.

``build_feature_table`` spends ~50-150 ms per call compiling, binding and optimising the
102-feature query, whatever the number of customers; even prepared once per cutoff, DuckDB
re-binds and re-optimises it on every execution (~30-50 ms). So a live update evaluates the
same specs with ``features.evaluate`` (the compiled query's arithmetic in NumPy, ~2 ms for one
customer) over the customers' history slices and stored events.

Why this stays one definition: at the first cutoff a build asks for, the compiled query (the
SAME ``features.compile.compile_features`` text and ``features.labels.eligibility_sql`` rule,
prepared in a DuckDB connection that holds the history) builds a sample of real customers,
and the NumPy form serves only if it gives the very same rows (to 1e-12); if not, the
compiled query serves from then on, slower, and the log names the columns that differ. Until
there is a customer with history to check on, the compiled query serves and the check waits.
Text signals are computed by DuckDB's own LOWER and REGEXP_MATCHES in both forms, and the
NumPy rows take the compiled result's Arrow types, so dtypes agree too. The proofs:
``tests/code/test_evaluate.py`` (random events, every kind of spec, random cutoffs) and
``tests/api/test_live_feed.py`` (random streams through the service's objects, compared with
a batch materialisation).

Why the bound values are written into the prepared text: DuckDB cannot bind parameters to
an ``EXECUTE`` sent through the Python API, so ``_inline`` renders each bound value as a
typed SQL literal. The values are the spec set's vocabulary, thresholds and text patterns
and the cutoff's window edges (typed ``datetime``), never text from a request; an unexpected
type is refused.

The history is read through ``serving.live.population``: the affected customers' events as
slices of an index sorted by customer, and the BG/NBD population's summaries kept between
updates at the same cutoff.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from features import pit, schema
from features.btyd_features import FitCache, add_btyd_features, btyd_specs, summary_sql
from features.compile import (
    CUSTOMERS_TABLE,
    CUTOFFS_TABLE,
    EVENTS_TABLE,
    SECONDS_PER_DAY,
    TENURE,
    compile_features,
)
from features.evaluate import (
    NAT_US,
    Events,
    eligible,
    epoch,
    evaluate_specs,
    micros,
    purchase_summaries,
)
from features.labels import CANCELLATION, LabelConfig, eligibility_sql
from features.spec import AggregateSpec, FeatureSpec
from serving.live.event_columns import EventColumns, micros_of
from serving.live.population import HistoryIndex, LoadPurchases, PopulationSummaries

log = logging.getLogger(__name__)

HISTORY = "cx_history"  # every customer's events before the store's cutoff
LIVE_PURCHASES = "cx_live_purchases"  # every customer's live purchases (the BG/NBD fit's)
POPULATION = "cx_population"  # history + live purchases: who a BG/NBD figure is fitted on
ALL_CUSTOMERS = "cx_all_customers"
DATES = "cx_dates"  # the eligibility SQL's table of cutoff instants
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
CHECK_CUSTOMERS = 64  # customers both forms build when a cutoff is prepared
CHECK_TOLERANCE = 1e-12  # relative and absolute: the two forms may add in another order


def _literal(value: Any) -> str:
    """A bound value as a typed SQL literal (see the module docstring for why)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError("a naive timestamp cannot be inlined; expected UTC")
        return f"CAST('{value.isoformat()}' AS TIMESTAMPTZ)"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise TypeError(f"a non-finite number cannot be inlined: {value!r}")
        return repr(float(value)) if isinstance(value, float) else str(int(value))
    if isinstance(value, str):
        if "\x00" in value:
            raise TypeError("a NUL character cannot be inlined")
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot inline a bound value of type {type(value).__name__}")


def _inline(sql: str, params: dict[str, Any]) -> str:
    return _PARAM.sub(lambda m: _literal(params[m.group(1)]), sql)


class LiveFeatures:
    """History as an index and as columns, the NumPy form, and the compiled query in one
    DuckDB connection (its check and fallback); see the module docstring.

    ``customers``: the accepted customers table (as materialise loaded it). ``history``: the
    accepted events before ``history_end`` (the store's cutoff): what the store already holds.
    Not thread-safe: the caller serialises ``build`` calls.
    """

    def __init__(self, customers: pd.DataFrame, history: pd.DataFrame,
                 history_end: pd.Timestamp, specs: Sequence[FeatureSpec],
                 label_kind: str = "contractual") -> None:
        self.specs = tuple(specs)
        self.label = LabelConfig(kind=label_kind)
        self.history_end = pd.Timestamp(history_end)
        self.con = pit.connect(threads=1)  # measured: steadier and no slower on tiny inputs
        self.customer_columns = list(customers.columns)
        before = history[pd.to_datetime(history["event_time"], utc=True) < self.history_end]
        self.con.register("hist_frame", before[list(schema.EVENT_COLUMNS)])
        # typed as the engine reads the events, sorted so that a customer's rows are a slice
        self.history = HistoryIndex(self.con.sql(
            "SELECT * FROM hist_frame ORDER BY customer_id, event_time").to_arrow_table())
        self.con.unregister("hist_frame")
        self.con.register(HISTORY, self.history.table)
        self.con.register("cust_frame", customers)
        self.con.execute(f"CREATE TABLE {ALL_CUSTOMERS} AS SELECT * FROM cust_frame")
        self.con.unregister("cust_frame")
        self.con.execute(f"CREATE TABLE {EVENTS_TABLE} AS SELECT * FROM {HISTORY} LIMIT 0")
        self.con.execute(f"CREATE TABLE {LIVE_PURCHASES} AS SELECT * FROM {HISTORY} LIMIT 0")
        self.con.execute(f"CREATE VIEW {POPULATION} AS SELECT * FROM {HISTORY} "
                         f"UNION ALL SELECT * FROM {LIVE_PURCHASES}")
        self.purchase_types = sorted({s.event_types[0] for s in btyd_specs(self.specs)})
        self.fits = FitCache()
        self.population = PopulationSummaries(self.con, self.history, POPULATION,
                                              LIVE_PURCHASES, self.purchase_types)
        self.con.execute(f"CREATE TABLE {CUSTOMERS_TABLE} AS SELECT * FROM {ALL_CUSTOMERS} "
                         "LIMIT 0")
        self.con.execute(f"CREATE TABLE {CUTOFFS_TABLE} (customer_id VARCHAR, "
                         "cutoff TIMESTAMPTZ)")
        self.con.execute(f"CREATE TABLE {DATES} (cutoff TIMESTAMPTZ)")
        self.con.execute("CREATE TABLE cx_ids (customer_id VARCHAR)")
        self._prepared: pd.Timestamp | None = None
        self._compiled_at: pd.Timestamp | None = None
        self._checked = False  # True once the forms were found to differ
        self._columns: tuple[str, ...] = ()
        # the NumPy form (features.evaluate): the same history as columns, the customers as
        # the engine types them, and the compiled result's Arrow types (set when compiled)
        self.columns = EventColumns(self.history, self.con, sorted(
            {s.text_signal for s in self.specs if isinstance(s, AggregateSpec) and s.text_signal}))
        self._customers = self.con.sql(f"SELECT * FROM {ALL_CUSTOMERS}").to_arrow_table(
        ).to_pandas().set_index(schema.CUSTOMER_ID, drop=False)
        self._signup_us = micros_of(self._customers["signup_date"])
        self._schema: pa.Schema | None = None  # the compiled query's result types
        self._bought: tuple[Events, list[str]] | None = None  # the last NumPy build's
        self.fast = False  # whether builds use the NumPy form (a check passed)

    # ------------------------------------------------------------------ prepare + check
    def _prepare(self, cutoff: pd.Timestamp) -> None:
        """Settle which form builds at ``cutoff``: the NumPy form once a check on real
        customers passed (the forms' arithmetic does not depend on the cutoff, and the
        property tests vary it), else the compiled query, checking again when it can."""
        if self._prepared == cutoff:
            return
        self._prepared = cutoff
        if self.fast:
            return
        self._compile_at(cutoff)
        verdict = self._forms_agree(cutoff)
        self.fast = bool(verdict)
        if verdict is False:
            self._checked = True  # a difference: the compiled query serves from now on

    def _compile_at(self, cutoff: pd.Timestamp) -> None:
        """The compiled query and eligibility rule prepared for ``cutoff`` (once per cutoff)."""
        if self._compiled_at == cutoff:
            return
        query = compile_features(self.specs, [cutoff], static_columns=self.customer_columns)
        eligible_sql, eligible_params = eligibility_sql(self.label)
        if self._compiled_at is not None:
            self.con.execute("DEALLOCATE PREPARE cx_features")
            self.con.execute("DEALLOCATE PREPARE cx_eligible")
        self.con.execute("PREPARE cx_features AS " + _inline(query.sql, query.params))
        self.con.execute("PREPARE cx_eligible AS " + _inline(eligible_sql, eligible_params))
        self._compiled_at, self._columns = cutoff, query.columns
        if self._schema is None:  # the result's types do not depend on the cutoff
            self.con.execute(f"DELETE FROM {CUTOFFS_TABLE}")
            self._schema = self.con.sql("EXECUTE cx_features").to_arrow_table().schema

    def _forms_agree(self, cutoff: pd.Timestamp) -> bool | None:
        """Build a sample of real customers both ways: whether every value agrees (None: no
        customer to check on yet, or already found to differ)."""
        if self._checked:
            return None
        ids = sorted(self.history.customers())
        ids = ids[::max(1, len(ids) // CHECK_CUSTOMERS)][:CHECK_CUSTOMERS]
        no_live = pd.DataFrame({c: pd.Series(dtype=object) for c in schema.EVENT_COLUMNS})
        reference, ref_out = self._compiled(ids, no_live, cutoff)
        if not len(reference):
            log.info("live features at %s: no customer to check the NumPy form on yet; the "
                     "compiled query serves", cutoff.date())
            return None
        numpy_rows, numpy_out = self._evaluated(ids, no_live, cutoff)
        differ = _differences(reference, numpy_rows) if ref_out == numpy_out else ["eligibility"]
        if differ:
            log.warning("live features at %s: the NumPy form differs from the compiled query "
                        "in %s; the compiled query serves (slower)", cutoff.date(),
                        ", ".join(differ[:5]))
            return False
        log.info("live features: the NumPy form equals the compiled query on %d customers at "
                 "%s; it serves", len(reference), cutoff.date())
        return True

    # ------------------------------------------------------------------ build
    def build(self, customer_ids: Sequence[str], live_events: pd.DataFrame,
              cutoff: pd.Timestamp, live_purchases: LoadPurchases | None = None
              ) -> tuple[pd.DataFrame, list[str]]:
        """(feature rows of the customers eligible at ``cutoff``, the ineligible ids).

        ``live_events``: every stored live event of these customers (contract columns).
        ``live_purchases`` reads the stored live events of ``purchase_types``
        (``serving.live.population.LoadPurchases``): the BG/NBD figures are fitted on all
        buyers, as a batch build over all events is.
        Rows are exactly what ``build_feature_table`` gives for the same customers, events
        and cutoff, in the same column order and dtypes.
        """
        cutoff = pd.Timestamp(cutoff).tz_convert("UTC").as_unit("us")
        self.population.earliest_new = None
        self.fits.kept.clear()
        self._prepare(cutoff)
        ids = sorted({str(c) for c in customer_ids})
        form = self._evaluated if self.fast else self._compiled
        frame, ineligible = form(ids, live_events, cutoff)
        if not len(frame):
            names = [*self._columns, *(s.name for s in btyd_specs(self.specs))]
            return pd.DataFrame(columns=names), ineligible
        if self.purchase_types:
            frame = self._with_btyd(frame, cutoff, live_purchases)
        return frame, ineligible

    def fit_kept(self, cutoff: pd.Timestamp) -> bool:
        """Whether the latest build consulted the BG/NBD fit of every purchase type at
        ``cutoff`` and kept each: rows kept at ``cutoff`` before it still hold the figures a
        batch build over the same events gives (False when a fit changed or was not asked
        for, e.g. every rebuilt customer had left)."""
        at = pd.Timestamp(cutoff).tz_convert("UTC").as_unit("us")
        kept = {t: k for (t, c), k in self.fits.kept.items() if c == at}
        return set(kept) == set(self.purchase_types) and all(kept.values())

    def _compiled(self, ids: list[str], live_events: pd.DataFrame, cutoff: pd.Timestamp
                  ) -> tuple[pd.DataFrame, list[str]]:
        """The rows by the prepared compiled query (and eligibility rule) in DuckDB."""
        self._compile_at(cutoff)
        con = self.con
        self._fill_ids(ids)
        self._fill_events(ids, live_events)
        con.execute(f"DELETE FROM {CUSTOMERS_TABLE}")
        con.execute(f"INSERT INTO {CUSTOMERS_TABLE} SELECT c.* FROM {ALL_CUSTOMERS} c "
                    "JOIN cx_ids USING (customer_id)")
        con.execute(f"DELETE FROM {DATES}")
        con.execute(f"INSERT INTO {DATES} VALUES (?)", [cutoff.to_pydatetime()])
        # one cutoff: the eligible customer ids are all the rule decides
        eligible_ids = {str(c) for c in con.sql("EXECUTE cx_eligible").to_arrow_table()
                        .column(schema.CUSTOMER_ID).to_pylist()}
        con.execute(f"DELETE FROM {CUTOFFS_TABLE}")
        con.execute(f"INSERT INTO {CUTOFFS_TABLE} SELECT customer_id, CAST(? AS TIMESTAMPTZ) "
                    "FROM cx_ids WHERE list_contains(?, customer_id)",
                    [cutoff.to_pydatetime(), sorted(eligible_ids)])
        ineligible = [c for c in ids if c not in eligible_ids]
        if not eligible_ids:
            return pd.DataFrame(columns=list(self._columns)), ineligible
        return _run_prepared(con, self._columns), ineligible

    def _fill_events(self, ids: list[str], live_events: pd.DataFrame) -> None:
        con = self.con
        con.execute(f"DELETE FROM {EVENTS_TABLE}")
        past = self.history.rows(ids)
        if past.num_rows:
            con.from_arrow(past).insert_into(EVENTS_TABLE)
        if len(live_events):
            con.from_arrow(pa.Table.from_pandas(live_events[list(schema.EVENT_COLUMNS)],
                                                preserve_index=False)).insert_into(EVENTS_TABLE)

    def _evaluated(self, ids: list[str], live_events: pd.DataFrame, cutoff: pd.Timestamp
                   ) -> tuple[pd.DataFrame, list[str]]:
        """The same rows by ``features.evaluate`` (no query), in the compiler's dtypes."""
        events = self.columns.events(ids, live_events)
        at = self._customers.index.get_indexer(ids)  # -1: not a customer, never eligible
        signup = np.where(at >= 0, self._signup_us[at], NAT_US)
        keep = eligible(signup, events, cutoff, self.label.kind,
                        self.label.activity_event_types, self.label.active_within_days,
                        CANCELLATION)
        ineligible = [c for c, k in zip(ids, keep, strict=True) if not k]
        chosen = np.flatnonzero(keep)
        if not len(chosen):
            return pd.DataFrame(columns=list(self._columns)), ineligible
        mine = events.only(chosen)
        values = evaluate_specs(self.specs, mine, len(chosen), cutoff)
        statics = self._customers.iloc[at[chosen]]
        columns: dict[str, Any] = {
            schema.CUSTOMER_ID: [ids[i] for i in chosen],
            schema.CUTOFF: pd.Series([cutoff] * len(chosen))}
        for column in self._columns[2:]:
            if column == TENURE:
                columns[column] = ((float(epoch(micros(cutoff))) - epoch(signup[chosen]))
                                   / SECONDS_PER_DAY)
            elif column in values:
                columns[column] = values[column]
            else:
                columns[column] = statics[column].to_numpy()
        self._bought = (mine, columns[schema.CUSTOMER_ID])
        return _as_query_result(columns, self._schema, self._columns), ineligible

    def _fill_ids(self, customer_ids: Sequence[str]) -> None:
        self.con.execute("DELETE FROM cx_ids")
        ids = pa.table({schema.CUSTOMER_ID: pa.array([str(c) for c in customer_ids],
                                                     pa.string())})
        self.con.from_arrow(ids).insert_into("cx_ids")

    def _with_btyd(self, frame: pd.DataFrame, cutoff: pd.Timestamp,
                   live_purchases: LoadPurchases | None) -> pd.DataFrame:
        """The BG/NBD columns, as ``build_feature_table`` adds them after its query."""
        con = self.con
        self.population.update(cutoff, live_purchases or _no_purchases)

        def own(event_type: str, lag_days: int) -> pd.DataFrame:
            if self.fast and lag_days == 0 and self._bought is not None:
                events, ids = self._bought
                summary = purchase_summaries(events, len(ids), cutoff, event_type)
                return pd.DataFrame({
                    schema.CUSTOMER_ID: [ids[i] for i in summary["position"]],
                    schema.CUTOFF: pd.Series([cutoff] * len(summary)),
                    **{c: summary[c].to_numpy() for c in ("x", "t_x", "age")}})
            return con.sql(summary_sql(lag_days=lag_days),
                           params={"btyd_type": event_type}).df()

        return add_btyd_features(frame, self.specs, own, self.population.summaries,
                                 self.fits, self.population.changed)


def _no_purchases(_after: int | None, _ids: Sequence[str] | None) -> pd.DataFrame:
    return pd.DataFrame({"seq": pd.Series(dtype="int64"),
                         **{c: pd.Series(dtype=object) for c in schema.EVENT_COLUMNS}})


def _run_prepared(con: duckdb.DuckDBPyConnection, columns: Sequence[str]) -> pd.DataFrame:
    """``pit.run`` for the prepared statement: same conversion, names and UTC cutoffs."""
    frame = con.sql("EXECUTE cx_features").to_arrow_table().to_pandas()
    frame = frame.rename(columns=dict(zip(frame.columns, columns, strict=True)))
    return pit.utc_cutoffs(frame)


def _as_query_result(columns: dict[str, Any], types: pa.Schema | None,
                     names: Sequence[str]) -> pd.DataFrame:
    """Columns typed as the compiled query's Arrow result and converted as ``_run_prepared``
    converts it, so both forms give the same pandas dtypes (NaN becomes null on the way)."""
    assert types is not None  # set when the cutoff was prepared
    arrays = [pa.array(columns[name], type=field.type, from_pandas=True)
              for name, field in zip(names, types, strict=True)]
    return pit.utc_cutoffs(pa.Table.from_arrays(arrays, names=list(names)).to_pandas())


def _differences(reference: pd.DataFrame, other: pd.DataFrame) -> list[str]:
    """Columns whose values differ beyond ``CHECK_TOLERANCE`` (or in which rows are there)."""
    if list(reference.columns) != list(other.columns) or len(reference) != len(other):
        return ["the rows or columns"]
    differ = []
    for column in reference.columns:
        a, b = reference[column], other[column]
        if a.dtype != b.dtype:
            differ.append(f"{column} (dtype {b.dtype}, not {a.dtype})")
        elif pd.api.types.is_float_dtype(a.dtype):
            if not np.allclose(a.to_numpy(), b.to_numpy(), rtol=CHECK_TOLERANCE,
                               atol=CHECK_TOLERANCE, equal_nan=True):
                differ.append(column)
        elif not (a.isna().equals(b.isna()) and a[a.notna()].equals(b[b.notna()])):
            differ.append(column)
    return differ


__all__ = ["LiveFeatures"]

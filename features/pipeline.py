"""Feature table and training examples: wiring of spec -> SQL -> DuckDB -> frames -> files.

``build_feature_table`` serves training, batch scoring and (with a one-row cutoff table)
online scoring alike: one definition of every feature, no train/serve skew.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import duckdb
import pandas as pd

from cxchurn.errors import DataContractError
from cxchurn.settings import DEFAULT_CONTACT_COLUMNS
from features import pit, schema
from features.btyd_features import add_btyd_features, summary_sql
from features.build_sources import SOURCES_KEY, BuildSources
from features.compile import CUSTOMERS_TABLE, CUTOFFS_TABLE, EVENTS_TABLE, compile_features
from features.default_specs import DEFAULT_SPECS
from features.labels import (
    LabelConfig,
    check_horizon,
    eligible_cutoffs,
    make_labels,
    split_by_data_end,
)
from features.spec import FeatureSpec, spec_version, specs_to_data

FEATURES_FILE = "features.parquet"
LABELS_FILE = "labels.parquet"
EXAMPLES_FILE = "examples.parquet"
SPEC_FILE = "feature_spec.json"


def _cutoff_frame(cutoffs: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in (schema.CUSTOMER_ID, schema.CUTOFF) if c not in cutoffs.columns]
    if missing:
        raise DataContractError(f"cutoff table lacks column(s) {missing}; expected columns "
                                f"['customer_id', 'cutoff'], got {list(cutoffs.columns)}.")
    frame = cutoffs[[schema.CUSTOMER_ID, schema.CUTOFF]].copy()
    frame[schema.CUTOFF] = pd.to_datetime(frame[schema.CUTOFF], utc=True).astype(
        "datetime64[us, UTC]")
    return frame


def build_feature_table(customers: pit.Source, events: pit.Source, cutoffs: pd.DataFrame,
                        specs: Sequence[FeatureSpec] = DEFAULT_SPECS,
                        con: duckdb.DuckDBPyConnection | None = None,
                        contact_names: Sequence[str] = DEFAULT_CONTACT_COLUMNS) -> pd.DataFrame:
    """Features for every (customer_id, cutoff) row of ``cutoffs``, in one SQL query.

    customers/events: frames or Parquet/CSV paths (read by DuckDB directly). Output: one row
    per distinct (customer_id, cutoff), customer columns passed through but contact details
    (``contact_names``: ``Settings.contact_columns``), ``tenure_days``, then one column per
    spec (float64, NaN = no data; ``nps_category`` is text).
    """
    con = con or pit.connect()
    customer_cols = pit.register(con, CUSTOMERS_TABLE, customers)
    pit.require(customer_cols, schema.CUSTOMER_COLUMNS, "customers")
    pit.require(pit.register(con, EVENTS_TABLE, events), schema.EVENT_REQUIRED, "events")
    frame = _cutoff_frame(cutoffs)
    pit.register(con, CUTOFFS_TABLE, frame)
    dates = list(pd.DatetimeIndex(frame[schema.CUTOFF].unique()))
    query = compile_features(specs, dates, static_columns=customer_cols,
                             contact_names=contact_names)
    table = pit.run(con, query)

    def summaries(event_type: str, lag_days: int) -> pd.DataFrame:
        return con.sql(summary_sql(lag_days=lag_days), params={"btyd_type": event_type}).df()

    return add_btyd_features(table, specs, summaries)


def build_examples(customers: pit.Source, events: pit.Source,
                   dates: Sequence[pd.Timestamp], label_config: LabelConfig | None = None,
                   specs: Sequence[FeatureSpec] = DEFAULT_SPECS,
                   con: duckdb.DuckDBPyConnection | None = None,
                   score_only: bool = False,
                   contact_names: Sequence[str] = DEFAULT_CONTACT_COLUMNS,
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(features, labels) for every eligible (customer, cutoff) at the given cutoff dates.

    A cutoff whose label window passes ``label_config.data_end`` is refused; with
    ``score_only`` it gets features but no label rows (so it is never in the examples).
    """
    config = label_config or LabelConfig()
    con = con or pit.connect()
    complete, late = split_by_data_end(dates, config)
    if late and not score_only:
        check_horizon(dates, config)
    open_config = replace(config, data_end=None) if late else config
    eligible = eligible_cutoffs(customers, events, dates, open_config, con=con)
    labelled = eligible[eligible[schema.CUTOFF].isin(pd.DatetimeIndex(complete))]
    labels = make_labels(events, labelled.reset_index(drop=True), config, con=con)
    features = build_feature_table(customers, events, eligible, specs, con=con,
                                   contact_names=contact_names)
    return features, labels


def write_outputs(features: pd.DataFrame, labels: pd.DataFrame, specs: Sequence[FeatureSpec],
                  out_dir: str | Path, label_config: LabelConfig | None = None,
                  sources: BuildSources | None = None,
                  ) -> dict[str, Path]:
    """Write features, labels, examples (features inner-joined with labels) and the spec.

    ``sources`` (the customers and events files read) is recorded in the spec file, so that
    training finds the event log again for the baselines that need it (BG/NBD).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = [schema.CUSTOMER_ID, schema.CUTOFF]
    examples = features.merge(labels[[*keys, schema.LABEL]], on=keys, how="inner")
    paths = {name: out / file for name, file in (
        ("features", FEATURES_FILE), ("labels", LABELS_FILE), ("examples", EXAMPLES_FILE),
        ("spec", SPEC_FILE))}
    features.to_parquet(paths["features"], index=False)
    labels.to_parquet(paths["labels"], index=False)
    examples.to_parquet(paths["examples"], index=False)
    doc = {"version": spec_version(specs), "specs": specs_to_data(specs),
           "monotone": {s.name: s.monotone for s in specs if s.monotone}}
    if label_config is not None:
        doc["label"] = {k: (str(v) if isinstance(v, pd.Timestamp) else v)
                        for k, v in asdict(label_config).items()}
    if sources is not None:
        doc[SOURCES_KEY] = sources.to_dict()
    paths["spec"].write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return paths

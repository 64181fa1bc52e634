"""Specs as data: spec -> dict / JSON / YAML -> spec is lossless, and old spec files still load."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cxchurn.errors import ConfigError
from features import schema
from features.spec import (
    AGGREGATIONS,
    DECAYED_AGGREGATIONS,
    FAMILIES,
    HISTORY_AGGREGATIONS,
    MAX_WINDOW_DAYS,
    MIN_HALF_LIFE_DAYS,
    MONOTONE,
    OPERATORS,
    TREND_OPS,
    VALUE_AGGREGATIONS,
    VALUE_COLUMNS,
    AggregateSpec,
    BtydSpec,
    FeatureSpec,
    Filter,
    NpsCategorySpec,
    TrendSpec,
    dump_specs,
    load_specs,
    spec_from_dict,
    spec_version,
    specs_to_data,
)
from features.spec_yaml import to_yaml
from features.text_signals import LEXICONS
from training.dataset import load_feature_spec, spec_version_of

SPEC_FILES = Path(__file__).parent / "spec_files"

names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
descriptions = st.text(min_size=1, max_size=40).filter(str.strip)
numbers = st.floats(allow_nan=False, allow_infinity=False)
filters = st.builds(Filter, st.sampled_from(VALUE_COLUMNS), st.sampled_from(OPERATORS), numbers)


def maybe(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | values


common = {"description": descriptions, "family": st.sampled_from(FAMILIES),
          "monotone": st.sampled_from(MONOTONE)}


@st.composite
def aggregate_specs(draw: st.DrawFn, name: st.SearchStrategy[str] = names) -> AggregateSpec:
    """Any valid aggregate: every aggregation, with the optional fields it allows."""
    agg = draw(st.sampled_from(AGGREGATIONS))
    # 'change' and the purchase-history statistics read one event type over all history
    change, decayed = agg in ("change", *HISTORY_AGGREGATIONS), agg in DECAYED_AGGREGATIONS
    columns = st.sampled_from(VALUE_COLUMNS)
    column = draw(columns if agg in VALUE_AGGREGATIONS else maybe(columns) if decayed
                  else st.none())
    match = {} if change else {
        "window_days": draw(maybe(st.integers(1, MAX_WINDOW_DAYS))),
        "filter": draw(maybe(filters)),
        "channel": draw(maybe(st.sampled_from(schema.CHANNELS))),
        "text_signal": draw(maybe(st.sampled_from(sorted(LEXICONS)))),
    }
    if agg == "share" and not (match["filter"] or match["channel"] or match["text_signal"]):
        match["channel"] = draw(st.sampled_from(schema.CHANNELS))
    decay = {} if not decayed else {
        "half_life_days": draw(st.floats(MIN_HALF_LIFE_DAYS, MAX_WINDOW_DAYS)),
        "cap": draw(maybe(numbers)) if column else None,
        "power": draw(maybe(st.floats(0, 1e6, exclude_min=True))) if column else None,
    }
    types = st.lists(st.sampled_from(sorted(schema.EVENT_TYPES)), min_size=1,
                     max_size=1 if change else 4, unique=True)
    return AggregateSpec(name=draw(name), event_types=tuple(draw(types)), aggregation=agg,
                         column=column, **match, **decay,
                         **{k: draw(v) for k, v in common.items()})


trend_specs = st.builds(TrendSpec, name=names, inputs=st.tuples(names, names),
                        op=st.sampled_from(TREND_OPS), **common)
nps_category_specs = st.builds(NpsCategorySpec, name=names, inputs=st.tuples(names), **common)
btyd_specs = st.one_of(
    st.builds(BtydSpec, name=names, output=st.just("p_alive"),
              event_types=st.tuples(st.sampled_from(sorted(schema.EVENT_TYPES))), **common),
    st.builds(BtydSpec, name=names, output=st.just("expected_purchases"),
              horizon_days=st.integers(1, MAX_WINDOW_DAYS), **common))
any_spec = st.one_of(aggregate_specs(), trend_specs, nps_category_specs, btyd_specs)


@st.composite
def spec_sets(draw: st.DrawFn) -> list[FeatureSpec]:
    """A valid set: aggregates, then trends and an NPS category reading them."""
    aggregate_names = st.from_regex(r"a[a-z0-9_]{0,12}", fullmatch=True)
    aggregates = draw(st.lists(aggregate_specs(aggregate_names), min_size=1, max_size=6,
                               unique_by=lambda s: s.name))
    nps_last = AggregateSpec(name="nps_last", description="last NPS", family="cx",
                             event_types=("survey_nps",), aggregation="last", column="score")
    windowed = [s.name for s in aggregates if s.window_days is not None]
    trends = []
    for i in range(draw(st.integers(0, 3))):
        ops = [op for op in TREND_OPS if windowed or op != "rate_ratio"]
        op = draw(st.sampled_from(ops))
        pool = st.sampled_from(windowed if op == "rate_ratio" else [s.name for s in aggregates])
        trends.append(TrendSpec(name=f"t_{i}", description="trend", family="trend",
                                inputs=(draw(pool), draw(pool)), op=op))
    category = NpsCategorySpec(name="nps_category", description="NPS category", family="cx",
                               inputs=("nps_last",))
    return [*aggregates, nps_last, *trends, category]


@settings(max_examples=300)
@given(any_spec)
def test_any_spec_survives_dict_json_and_yaml(spec: FeatureSpec) -> None:
    data = spec.to_dict()
    assert spec_from_dict(data) == spec
    assert spec_from_dict(json.loads(json.dumps(data))) == spec
    assert spec_from_dict(yaml.safe_load(to_yaml(data))) == spec
    assert spec_from_dict(data).to_dict() == data


@settings(max_examples=50, deadline=None)
@given(spec_sets())
def test_a_spec_set_survives_its_files_with_the_same_version(specs: list[FeatureSpec]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for suffix in ("json", "yaml"):
            loaded = load_specs(dump_specs(specs, Path(folder) / f"specs.{suffix}"))
            assert loaded == tuple(specs)
            assert spec_version(loaded) == spec_version(specs)


def test_yaml_keeps_line_separator_characters_and_turkish_letters() -> None:
    # PyYAML's own safe_dump(allow_unicode=True) reads "\x85" back as a space.
    for text in ("0\x85", "a\u2028b", "ş\u2029", "geç kalan teslimat"):
        assert yaml.safe_load(to_yaml({"description": text})) == {"description": text}
    assert "geç kalan" in to_yaml({"description": "geç kalan"})


def test_zero_and_false_like_values_are_kept() -> None:
    spec = AggregateSpec(name="late_damage", description="late deliveries, fading",
                         family="delivery", event_types=("delivery",), aggregation="decayed_sum",
                         column="duration", filter=Filter("duration", ">", 0.0),
                         half_life_days=30.0, cap=0.0)
    data = spec.to_dict()
    assert data["cap"] == 0.0 and data["filter"]["value"] == 0.0
    assert "monotone" not in data and "window_days" not in data  # defaults stay out
    assert spec_from_dict(data) == spec


@pytest.mark.parametrize("file", ["feature_spec_before_typed_kinds.json",
                                  "specs_before_typed_kinds.yaml"])
def test_spec_files_written_before_the_typed_kinds_still_load(file: str) -> None:
    # Written by the one-class FeatureSpec: a feature build's feature_spec.json (as logged
    # with the model) and a dump_specs YAML file.
    path = SPEC_FILES / file
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
    specs = load_specs(path)
    assert {type(s) for s in specs} == {AggregateSpec, TrendSpec, NpsCategorySpec}
    assert specs_to_data(specs) == doc["specs"]  # nothing lost, nothing added
    assert spec_version(specs) == doc["version"]  # a model logged then still matches


def test_a_logged_feature_spec_document_reads_back(tmp_path: Path) -> None:
    (tmp_path / "feature_spec.json").write_bytes(
        (SPEC_FILES / "feature_spec_before_typed_kinds.json").read_bytes())
    doc = load_feature_spec(tmp_path)
    assert spec_version_of(doc) == spec_version(load_specs(tmp_path / "feature_spec.json"))
    assert doc["monotone"]["late_delivery_damage"] == 1 and "label" in doc


def test_hand_written_data_may_omit_kind_and_write_nulls() -> None:
    spec = spec_from_dict({"name": "orders_7d", "description": "orders in 7 days",
                           "family": "windowed", "event_types": ["order"],
                           "aggregation": "count", "window_days": 7, "column": None,
                           "inputs": [], "op": None})
    assert isinstance(spec, AggregateSpec) and spec.window_days == 7


@pytest.mark.parametrize(("data", "message"), [
    ({"kind": "ratio"}, r"kind must be one of \['aggregate', 'trend', 'nps_category', 'btyd'\]"),
    ({"event_types": ["order"], "aggregation": "count", "inputs": ["a"]},
     r"inputs/op belong to 'trend' specs"),
    ({"kind": "trend", "inputs": ["a", "b"], "op": "ratio", "window_days": 30},
     r"\['window_days'\] do not apply to kind 'trend'"),
    ({"kind": "trend", "inputs": ["a"], "op": "ratio"}, r"kind 'trend' needs 2 input spec"),
    ({"kind": "nps_category"}, r"kind 'nps_category' needs 1 input spec name\(s\); got \[\]"),
    ({"kind": "trend", "inputs": ["a", "b"], "op": "sum"}, r"op must be one of \['ratio'"),
    ({"event_types": ["order"], "aggregation": "count", "filter": {"column": "amount"}},
     r"filter must be a mapping with column, op and value"),
    ({"event_types": ["order"], "aggregation": "count", "colour": "red"},
     r"unknown field\(s\) \['colour'\]"),
])
def test_bad_spec_data_is_rejected_with_clear_messages(data: dict, message: str) -> None:
    base = {"name": "x", "description": "a feature", "family": "cx"}
    with pytest.raises(ConfigError, match=message):
        spec_from_dict({**base, **data})

"""What the Experience tab draws, on a small simulated world: formats, cards, charts, cache."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxchurn.errors import ConfigError, NotFoundError
from features.kpis import kpi_table
from serving.retention import kpi_view
from serving.retention.kpi_data import (
    KpiCache,
    KpiParams,
    group_keys,
    kpi_files,
    latest_complete_month,
    select_segment,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from features.simulate import SimConfig, simulate, write_world

    folder = tmp_path_factory.mktemp("kpi_world")
    write_world(simulate(SimConfig(n_customers=400)), folder)
    return folder


@pytest.mark.parametrize("value, digits, lang, sign, want", [
    (1234.56, 1, "en", False, "1,234.6"), (1234.56, 1, "tr", False, "1.234,6"),
    (-0.4, 0, "en", False, "0"), (2.5, 2, "tr", True, "+2,50"), (float("nan"), 1, "en", False,
                                                                  "–"),
])
def test_numbers_follow_the_language(value: float, digits: int, lang: str, sign: bool,
                                     want: str) -> None:
    assert kpi_view.number(value, digits, lang, sign) == want


def test_shares_read_as_percent_in_each_language() -> None:
    assert kpi_view.kpi_text("csat", 0.7843, "en") == "78.4%"
    assert kpi_view.kpi_text("csat", 0.7843, "tr") == "%78,4"
    assert kpi_view.kpi_text("nps", 12.4, "tr") == "12"
    assert kpi_view.kpi_text("ces", None, "en") == "–"


def test_latest_complete_month_stops_before_a_part_month() -> None:
    months = pd.Series(pd.date_range("2025-01-01", "2025-04-01", freq="MS", tz="UTC"))
    assert latest_complete_month(months, pd.Timestamp("2025-04-01", tz="UTC")) == months[2]
    assert latest_complete_month(months, pd.Timestamp("2025-04-17", tz="UTC")) == months[2]
    assert latest_complete_month(months, pd.Timestamp("2025-05-01", tz="UTC")) == months[3]
    assert latest_complete_month(months, pd.Timestamp("2025-01-20", tz="UTC")) is None


def test_cards_compare_with_the_month_before_and_say_if_that_is_good(world: Path) -> None:
    files = kpi_files(world / "events.parquet")
    monthly = kpi_table(files.customers, files.events)
    month = latest_complete_month(monthly["month"], files.world_end)
    assert month == pd.Timestamp("2025-06-01", tz="UTC")
    cards = {c["kpi"]: c for c in kpi_view.cards(monthly, month, "en")}
    row, prev = monthly.iloc[-1], monthly.iloc[-2]
    assert row["month"] == month
    assert cards["churn_rate"]["n"] == f"{int(row['n_at_risk']):,}"
    delta = (row["churn_rate"] - prev["churn_rate"]) * 100
    assert cards["churn_rate"]["delta"] == kpi_view.number(delta, 2, "en", sign=True)
    assert cards["churn_rate"]["better"] == (delta < 0)  # less churn is good news
    assert cards["nps"]["interval"].count("–") == 1


def test_charts_grey_small_cells_and_keep_them(world: Path) -> None:
    files = kpi_files(world / "events.parquet")
    by_segment = kpi_table(files.customers, files.events, ("month", "segment"), min_n=40)
    heat = kpi_view.heatmap(by_segment, "segment", "nps", "en")
    cells = [c for r in heat["rows"] for c in r["cells"]]
    assert len(cells) == len(by_segment) and all(c["n_text"] != "" for c in cells)
    assert any(c["small"] for c in cells) and all(c["colour"] is None for c in cells
                                                   if c["small"])
    monthly = select_segment(by_segment, "consumer", "month")
    trend = kpi_view.trend(monthly, "nps", "en")
    assert len(trend["n_labels"]) == len(monthly) and trend["band"]
    assert [p["small"] for p in trend["points"]] == list(monthly["small_nps"][
        monthly["nps"].notna()])
    chart = kpi_view.composition(monthly, "en")
    assert len(chart["bars"]) == len(monthly)
    full = chart["bottom"] - min(p["y"] for b in chart["bars"] for p in b["parts"])
    assert all(abs(sum(p["h"] for p in b["parts"]) - full) < 0.01 for b in chart["bars"]
               if b["n"] != "0")  # stacked to 100%


def test_the_cache_computes_once_per_file_version(world: Path, tmp_path: Path) -> None:
    files = kpi_files(world / "events.parquet")
    cache = KpiCache(max_entries=2)
    params = KpiParams(min_n=20)
    _, b = cache.tables(files, [("month",), ("month", "segment")], params)
    assert cache.computations == 1
    again = cache.tables(files, [("month", "segment")], params)[0]
    assert again is b and cache.computations == 1
    cache.tables(files, [("month", "region")], params)  # a third table drops the oldest
    cache.tables(files, [("month",)], params)
    assert cache.computations == 3
    with pytest.raises(ConfigError, match="after end"):
        cache.tables(files, [("month",)], KpiParams(start="2025-01", end="2024-01"))
    with pytest.raises(NotFoundError, match="no events file"):
        kpi_files(tmp_path / "events.parquet")
    (tmp_path / "events.parquet").write_bytes(b"")
    with pytest.raises(NotFoundError, match="customers"):
        kpi_files(tmp_path / "events.parquet")


def test_a_segment_filter_is_a_slice_and_an_unknown_one_is_named() -> None:
    assert group_keys("month", None) == ("month",)
    assert group_keys("region", "smb") == ("month", "segment", "region")
    assert group_keys("segment", "smb") == ("month", "segment")
    table = pd.DataFrame({"month": [1, 1], "segment": ["a", "b"], "x": [1, 2]})
    assert select_segment(table, "b", "month").to_dict("list") == {"month": [1], "x": [2]}
    with pytest.raises(ConfigError, match=r"\['a', 'b'\]"):
        select_segment(table, "c", "month")

"""The shipped Online Retail mapping: raw invoice lines -> contract files, reconciled with the
adapter (same customers, signups, countries and refunded value)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxchurn.cli import app
from features.adapters import registry
from features.adapters.online_retail import FILE, adapt

MAPPING = Path(__file__).resolve().parents[2] / "features" / "mappings" / "online_retail.yaml"
DATA = registry.DEFAULT_DATA_ROOT / "online_retail"


def import_online_retail(data: Path, out: Path) -> dict:
    """Run the shipped mapping on the folder ``data``; the import report."""
    result = CliRunner().invoke(app, ["import", "--mapping", str(MAPPING), "--data", str(data),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "import_report.json").read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / FILE).exists(), reason=f"real data not found at {DATA}")
def test_online_retail_mapping_imports_raw_lines_and_reconciles_with_the_adapter(tmp_path):
    report = import_online_retail(DATA, tmp_path)
    orders, returns = (s for s in report["sources"] if s["table"] == "events")
    for source in (orders, returns):
        assert source["n_read"] == 541_909
        assert source["n_read"] == (source["n_accepted"] + source["n_quarantined"]
                                    + source["n_left_out"])
        assert source["n_quarantined"] == 0
    # every line with a customer is an order or a return line, exactly once
    assert orders["n_accepted"] + returns["n_accepted"] == 541_909 - 135_080
    assert returns["n_accepted"] == 8_905  # the 9,288 C-lines less those without a customer
    adapted = adapt(DATA)
    customers = pd.read_parquet(tmp_path / "customers.parquet")
    expected = adapted.customers
    assert len(customers) == 4_372  # the UCI figure
    # the adapter leaves out invoices worth <= 0, and with them one customer who had no other
    events = pd.read_parquet(tmp_path / "events.parquet")
    extra = set(customers["customer_id"]) - set(expected["customer_id"])
    assert len(extra) == 1 and set(expected["customer_id"]) <= set(customers["customer_id"])
    assert (events.loc[events["customer_id"].isin(extra), "amount"] <= 0).all()
    common = customers.set_index("customer_id").loc[expected["customer_id"]]
    assert (common["signup_date"].to_numpy() <= expected["signup_date"].to_numpy()).all()
    same_signup = (common["signup_date"].to_numpy() == expected["signup_date"].to_numpy())
    assert same_signup.mean() > 0.99
    assert (common["country"].to_numpy() == expected["country"].str.lower().to_numpy()).all()
    refunded = events.loc[events["event_type"] == "return", "amount"].sum()
    adapter_refunded = adapted.events.loc[adapted.events["event_type"] == "return", "amount"]
    assert refunded == pytest.approx(adapter_refunded.sum())

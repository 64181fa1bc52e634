"""The Online Retail adapter: invoice lines -> the events contract, label and cutoffs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features import contract
from features.adapters import registry
from features.adapters.base import purged_cutoffs
from features.adapters.online_retail import FILE, map_lines, read_lines
from features.default_specs import DEFAULT_SPECS
from features.pipeline import build_examples

DATA = registry.DEFAULT_DATA_ROOT / "online_retail"


def lines() -> pd.DataFrame:
    """A hand-made slice: two lines of one invoice, a cancellation, a line without customer,
    a zero-value invoice, and a second customer buying later."""
    rows = [
        ("536365", "6.0", "2010-12-01 08:26:00", "2.55", "17850", "United Kingdom"),
        ("536365", "2.0", "2010-12-01 08:26:00", "10.00", "17850", "United Kingdom"),
        ("C536379", "-1.0", "2010-12-05 09:41:00", "10.00", "17850", "United Kingdom"),
        ("536400", "3.0", "2010-12-06 10:00:00", "1.00", "", "United Kingdom"),
        ("536401", "1.0", "2010-12-07 10:00:00", "0.0", "12347", "Iceland"),
        ("536500", "4.0", "2011-01-10 12:00:00", "5.00", "12347", "Iceland"),
        ("536600", "1.0", "2011-05-20 12:00:00", "3.00", "17850", "United Kingdom"),
    ]
    return pd.DataFrame(rows, columns=["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice",
                                       "CustomerID", "Country"])


def test_invoices_become_orders_and_c_invoices_become_returns_with_positive_amounts():
    adapted = map_lines(lines())
    ev = adapted.events
    got = [(r.customer_id, r.event_type, round(r.amount, 2)) for r in ev.itertuples()]
    assert got == [("12347", "order", 20.0), ("17850", "order", 35.3),
                   ("17850", "return", 10.0), ("17850", "order", 3.0)]
    assert set(ev["channel"]) == {"web"}
    assert str(ev["event_time"].dtype) == "datetime64[us, UTC]"
    report = adapted.report
    assert report["lines_read"] == 7
    assert report["lines_without_customer"] == 1
    assert report["invoices_zero_or_negative_left_out"] == 1
    assert report["lines_read"] == report["lines_without_customer"] + report[
        "lines_unparseable"] + report["lines_mapped"]


def test_customers_sign_up_at_their_first_transaction_and_pass_the_data_contract():
    adapted = map_lines(lines())
    cust = adapted.customers.set_index("customer_id")
    assert cust.loc["17850", "signup_date"] == pd.Timestamp("2010-12-01 08:26", tz="UTC")
    assert cust.loc["12347", "country"] == "Iceland"
    checked_c = contract.check_customers(adapted.customers)
    checked_e = contract.check_events(adapted.events, checked_c.accepted)
    assert len(checked_c.rejected) == 0 and len(checked_e.rejected) == 0


def test_label_is_no_order_within_90_days_and_returns_are_not_activity():
    adapted = map_lines(lines())
    assert adapted.label.kind == "non_contractual"
    assert adapted.label.horizon_days == 90
    cutoff = pd.Timestamp("2011-02-01", tz="UTC")
    features, labels = build_examples(adapted.customers, adapted.events, [cutoff],
                                      adapted.label, DEFAULT_SPECS)
    got = dict(zip(labels["customer_id"], labels["churned"], strict=True))
    # 12347 ordered 2011-01-10 and never again; 17850's last order before the cutoff is
    # 2010-12-01 (over 60 days), the return of 2010-12-05 is not activity, next order in May.
    assert got == {"12347": 1, "17850": 1}
    row = features.set_index("customer_id").loc["17850"]
    assert row["returns_90d"] == 1
    assert row["orders_total"] == 1


def test_cutoffs_are_monthly_and_the_protocol_purges_overlapping_label_windows():
    months = list(pd.date_range("2011-01-01", "2011-09-01", freq="MS", tz="UTC"))
    chosen = purged_cutoffs(months, 90)
    assert [c.strftime("%m") for c in chosen] == ["01", "02", "03", "06", "09"]
    for earlier, later in zip(chosen[-3:-1], chosen[-2:], strict=True):
        assert earlier + pd.Timedelta(days=90) <= later


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / FILE).exists(), reason=f"real data not found at {DATA}")
def test_the_real_file_maps_with_every_line_accounted_for():
    raw = read_lines(DATA)
    head = raw.iloc[:20000]
    adapted = map_lines(head)
    r = adapted.report
    assert r["lines_read"] == 20000
    assert r["lines_mapped"] + r["lines_without_customer"] + r["lines_unparseable"] == 20000
    assert r["return_events"] > 0 and r["order_events"] > 0
    checked = contract.check_events(adapted.events,
                                    contract.check_customers(adapted.customers).accepted)
    assert len(checked.rejected) == 0
    # whole file: the UCI figures from PROVENANCE.txt
    full = map_lines(raw).report
    assert full["lines_read"] == 541909
    assert full["lines_without_customer"] == 135080


def test_the_cli_command_is_registered(tmp_path: Path):
    from typer.testing import CliRunner

    from cxchurn.cli import app

    out = CliRunner().invoke(app, ["features", "adapt", "online-retail", "--help"])
    assert out.exit_code == 0
    assert "--data" in out.output

"""`cxchurn import --suggest`: a mapping proposed from headers and values that runs as is."""

from __future__ import annotations

import pandas as pd
import yaml
from typer.testing import CliRunner

from cxchurn.cli import app
from features.suggest import date_format_of

ORDERS = ("MüşteriNo;Tarih;Tutar;Kanal;İşlem Türü\n"
          "00101;31.01.2025 14:30;1.234,56;Mağaza;Sipariş\n"
          "00102;15.02.2025 09:00;12,5;web;İade\n"
          "00103;19.02.2025 10:00;5;mağaza;sipariş\n"
          "00101;02.03.2025 10:00;7,25;telefon;xyz\n")


def test_day_first_month_first_and_ambiguous_dates():
    assert date_format_of(pd.Series(["31.01.2025", "01.02.2025"]))[0] == "%d.%m.%Y"
    assert date_format_of(pd.Series(["01/31/2025 10:00"]))[0] == "%m/%d/%Y %H:%M"
    fmt, note = date_format_of(pd.Series(["01.02.2025", "03.04.2025"]))
    assert fmt == "%d.%m.%Y" and note.startswith("CHECK")
    assert date_format_of(pd.Series(["2025-01-31"]))[0] is None


def test_suggested_mapping_for_a_turkish_export_runs_as_is(tmp_path):
    (tmp_path / "siparisler.csv").write_bytes(ORDERS.encode("cp1254"))
    (tmp_path / "destek_talepleri.csv").write_text(
        "customer_id,created_at,hours\n00101,2025-01-03,4\n00102,2025-01-04,2.5\n")
    mapping = tmp_path / "mapping.yaml"
    runner = CliRunner()
    result = runner.invoke(app, ["import", "--suggest", str(tmp_path / "siparisler.csv"),
                                 str(tmp_path / "destek_talepleri.csv"), "--out", str(mapping)])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    orders, tickets = doc["events"]
    assert (orders["encoding"], orders["sep"], orders["decimal"]) == ("cp1254", ";", ",")
    assert orders["date_format"] == "%d.%m.%Y %H:%M"
    assert orders["columns"] == {"customer_id": "MüşteriNo", "event_time": "Tarih",
                                 "amount": "Tutar", "event_type": "İşlem Türü",
                                 "channel": "Kanal"}
    assert orders["values"]["event_type"] == {"Sipariş": "order", "İade": "return"}
    assert orders["values"]["channel"]["Mağaza"] == "store"
    assert tickets["constants"] == {"event_type": "support_ticket", "channel": "web"}
    assert doc["customers"] == {"from_events": True}
    assert "# \"xyz\": ?" in mapping.read_text(encoding="utf-8")
    result = runner.invoke(app, ["import", "--mapping", str(mapping), "--out",
                                 str(tmp_path / "out"), "--max-quarantined", "0.5"])
    assert result.exit_code == 0, result.output
    assert "events[0] (siparisler.csv): read 4 = accepted 3 + quarantined 1" in result.output

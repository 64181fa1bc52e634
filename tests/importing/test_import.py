"""`cxchurn import`: users' own exports through a mapping file, with nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxchurn import cli
from cxchurn.cli import app
from cxchurn.errors import ConfigError
from features.mapping import load_mapping

CUSTOMERS = ("MüşteriNo;KayıtTarihi;Segment;Şehir;Fiyat\n"
             "00101;05.01.2024;BİREYSEL;İstanbul;12,5\n"
             "00102;20.02.2024;bireysel;istanbul;1.234,56\n"
             "00103;13.03.2024;Kurumsal;ISPARTA;7\n")
ORDERS = ("MüşteriNo;Tarih;Tutar;Kanal\n"
          "00101;31.01.2025 14:30;1.234,56;Mağaza\n"
          "00102;15.02.2025 09:00;12,5;web\n"
          "00103;99.99.2025 10:00;5;mağaza\n"       # bad date -> quarantined
          "00999;01.03.2025 10:00;5;web\n"          # unknown customer -> quarantined
          "00101;02.03.2025 10:00;7,25;telefon\n")  # unmapped channel -> quarantined
MAPPING = """
defaults: {encoding: cp1254, sep: ";", decimal: ",", date_format: "%d.%m.%Y %H:%M",
           timezone: Europe/Istanbul}
customers:
  - path: musteriler.csv
    date_format: "%d.%m.%Y"
    columns: {customer_id: MüşteriNo, signup_date: KayıtTarihi, segment: Segment,
              city: Şehir, price: Fiyat}
events:
  - path: siparisler.csv
    columns: {customer_id: MüşteriNo, event_time: Tarih, amount: Tutar, channel: Kanal}
    constants: {event_type: order}
    values:
      channel: {MAĞAZA: store, Web: web}
"""


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def run_exit(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Run as the console script does: user errors -> message on stderr and exit code 2."""
    monkeypatch.setattr("sys.argv", ["cxchurn", *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        cli.run(app)
    return int(exit_info.value.code or 0), capsys.readouterr().err


def write_turkish(folder: Path, mapping: str = MAPPING) -> Path:
    (folder / "musteriler.csv").write_bytes(CUSTOMERS.encode("cp1254"))
    (folder / "siparisler.csv").write_bytes(ORDERS.encode("cp1254"))
    path = folder / "mapping.yaml"
    path.write_text(mapping, encoding="utf-8")
    return path


def test_turkish_cp1254_semicolon_decimal_comma_day_first_export_imports(tmp_path):
    mapping = write_turkish(tmp_path)
    out = tmp_path / "out"
    result = run("import", "--mapping", mapping, "--out", out, "--max-quarantined", "0.7")
    assert result.exit_code == 0, result.output
    cust = pd.read_parquet(out / "customers.parquet").set_index("customer_id")
    assert list(cust.index) == ["00101", "00102", "00103"]  # leading zeros kept
    assert cust.loc["00101", "signup_date"] == pd.Timestamp("2024-01-04 21:00", tz="UTC")
    assert cust["segment"].tolist() == ["bireysel", "bireysel", "kurumsal"]
    assert cust["city"].tolist() == ["istanbul", "istanbul", "isparta"]
    assert cust["price"].tolist() == [12.5, 1234.56, 7.0]
    assert "'BİREYSEL' / 'bireysel' read as one level 'bireysel'" in result.output
    events = pd.read_parquet(out / "events.parquet")
    assert events["amount"].tolist() == [1234.56, 12.5]
    assert events["channel"].tolist() == ["store", "web"]
    # 14:30 in Istanbul (UTC+3) is 11:30 UTC
    assert events["event_time"].iloc[0] == pd.Timestamp("2025-01-31 11:30", tz="UTC")
    report = json.loads((out / "import_report.json").read_text(encoding="utf-8"))
    for source in report["sources"]:  # nothing lost
        assert source["n_read"] == (source["n_accepted"] + source["n_quarantined"]
                                    + source["n_left_out"])
    orders = next(s for s in report["sources"] if s["name"] == "siparisler.csv")
    assert (orders["n_read"], orders["n_accepted"], orders["n_quarantined"]) == (5, 2, 3)
    assert "encoding cp1254" in orders["how_read"]
    assert report["category_merges"]["segment"] == {"bireysel": ["BİREYSEL", "bireysel"]}
    quarantine = pd.read_csv(out / "quarantine" / "events.quarantine.csv", dtype=str)
    got = dict(zip(quarantine["_row"], quarantine["_reason"].str.split(";").str[0],
                   strict=True))
    assert got == {"3": "unparseable event_time", "4": "unknown customer: customer_id is not "
                   "among the accepted customers", "5": "unknown channel"}
    assert set(quarantine["_source"]) == {"siparisler.csv"}
    assert quarantine.loc[quarantine["_row"] == "5", "channel"].item() == "telefon"


def test_past_the_quarantine_limit_exits_2_with_reasons_and_writes_no_tables(
        tmp_path, monkeypatch, capsys):
    mapping = write_turkish(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "events.parquet").write_text("stale")
    code, message = run_exit(monkeypatch, capsys, "import", "--mapping", mapping, "--out", out)
    assert code == 2
    assert "3 of 5 rows" in message and "siparisler.csv" in message
    assert "unknown channel" in message
    assert not (out / "events.parquet").exists()
    assert (out / "quarantine" / "events.quarantine.csv").exists()
    assert (out / "import_report.json").exists()


def test_split_event_files_merge_into_one_stream_with_turkish_event_names(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "cust,when,total\nA1,2025-01-05,10.5\nA2,2025-01-06,3\n", encoding="utf-8")
    (tmp_path / "tickets.csv").write_text(
        "cust,opened,kind,hours\nA1,2025-01-07T10:00:00+03:00,Şikayet,4\n"
        "A2,2025-01-08,destek talebi,2.5\nA2,2025-01-09,bilinmeyen,1\n", encoding="utf-8")
    frame = pd.DataFrame({"cust": ["A1", "A2"], "date": ["2025-02-01", "2025-02-02"],
                          "nps": ["9", "3"]})
    frame.to_excel(tmp_path / "surveys.xlsx", sheet_name="Anket", index=False)
    (tmp_path / "m.yaml").write_text("""
customers: {from_events: true}
events:
  - path: orders.csv
    columns: {customer_id: cust, event_time: when, amount: total}
    constants: {event_type: order, channel: web}
  - path: tickets.csv
    columns: {customer_id: cust, event_time: opened, event_type: kind, duration: hours}
    constants: {channel: call_centre}
    values:
      event_type: {ŞİKAYET: complaint, Destek Talebi: support_ticket}
  - path: surveys.xlsx
    sheet: Anket
    columns: {customer_id: cust, event_time: date, score: nps}
    constants: {event_type: survey_nps, channel: email}
""", encoding="utf-8")
    out = tmp_path / "out"
    result = run("import", "--mapping", tmp_path / "m.yaml", "--out", out,
                 "--max-quarantined", "0.5")
    assert result.exit_code == 0, result.output
    events = pd.read_parquet(out / "events.parquet")
    assert sorted(events["event_type"]) == ["complaint", "order", "order", "support_ticket",
                                            "survey_nps", "survey_nps"]
    complaint = events[events["event_type"] == "complaint"].iloc[0]
    assert complaint["event_time"] == pd.Timestamp("2025-01-07 07:00", tz="UTC")
    assert complaint["duration"] == 4.0
    cust = pd.read_parquet(out / "customers.parquet")
    assert cust["signup_date"].tolist() == [pd.Timestamp("2025-01-05", tz="UTC"),
                                            pd.Timestamp("2025-01-06", tz="UTC")]
    report = json.loads((out / "import_report.json").read_text(encoding="utf-8"))
    tickets = next(s for s in report["sources"] if s["name"] == "tickets.csv")
    assert (tickets["n_read"], tickets["n_accepted"], tickets["n_quarantined"]) == (3, 2, 1)
    assert report["tables"]["events"] == {"accepted": 6, "quarantined": 1}


@pytest.mark.parametrize(("text", "match"), [
    ("events: [{path: a.csv, columns: {customer_id: c, event_time: t}, "
     "constants: {event_type: order, channel: shop}}]\ncustomers: {from_events: true}",
     r"events\[0\]\.constants\.channel: 'shop' is not a contract channel; use one of: web"),
    ("events: [{path: a.csv, columns: {customer_id: c, event_time: t}, "
     "constants: {event_type: order}}]\ncustomers: {from_events: true}",
     r"events\[0\]: no source for the events column 'channel'"),
    ("events: [{path: a.csv, seperator: ';'}]\ncustomers: {from_events: true}",
     r"events\[0\]\.seperator: unknown key"),
    ("events: [{path: a.csv, timezone: Mars/Base, columns: {customer_id: c, event_time: t}, "
     "constants: {event_type: order, channel: web}}]\ncustomers: {from_events: true}",
     r"events\[0\]\.timezone: unknown time zone"),
])
def test_mapping_errors_name_the_yaml_key(tmp_path, text, match):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_mapping(path)


def test_a_mapped_column_missing_from_the_file_names_file_key_and_close_match(
        tmp_path, monkeypatch, capsys):
    mapping = write_turkish(tmp_path, MAPPING.replace("amount: Tutar", "amount: Tutarr"))
    code, err = run_exit(monkeypatch, capsys, "import", "--mapping", mapping, "--out",
                         tmp_path / "out")
    assert code == 2
    assert ("events source 'siparisler.csv' (events[0] in the mapping) has no column 'Tutarr' "
            "(did you mean 'Tutar'?)") in err

"""Reading users' exports: sniffed encoding, separator and decimal mark; errors that say how."""

from __future__ import annotations

import pandas as pd
import pytest

from cxchurn.errors import DataContractError
from features.readers import ReadOptions, read_source

TURKISH = ("MüşteriNo;Tarih;Tutar;İşlem\n00123;31.01.2025;1.234,56;sipariş\n"
           "00124;15.02.2025;12,5;mağaza\n")


def test_cp1254_semicolon_decimal_comma_is_sniffed_and_ids_keep_leading_zeros(tmp_path):
    path = tmp_path / "siparisler.csv"
    path.write_bytes(TURKISH.encode("cp1254"))
    got = read_source(path)
    assert (got.encoding, got.sep, got.decimal) == ("cp1254", ";", ",")
    assert set(got.sniffed) == {"encoding", "sep", "decimal"}
    assert list(got.frame.columns) == ["MüşteriNo", "Tarih", "Tutar", "İşlem"]
    assert list(got.frame["MüşteriNo"]) == ["00123", "00124"]
    assert list(got.frame["İşlem"]) == ["sipariş", "mağaza"]


def test_stated_utf8_on_a_cp1254_file_names_the_byte_and_the_fix(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(TURKISH.encode("cp1254"))
    with pytest.raises(DataContractError, match=r"could not decode events.csv as UTF-8 \(byte "
                       r"0x[0-9a-f]{2} at offset \d+\); it looks like cp1254 .*encoding: cp1254"):
        read_source(path, ReadOptions(encoding="utf-8"))


def test_wrong_separator_says_which_key_to_set(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("A;B;C\n1;2;3\n", encoding="utf-8")
    with pytest.raises(DataContractError, match="set sep: in the mapping"):
        read_source(path, ReadOptions(sep=","))


def test_utf8_bom_tab_and_excel_and_parquet(tmp_path):
    tsv = tmp_path / "a.tsv"
    tsv.write_bytes("id\tamount\n007\t1,234.50\n".encode("utf-8-sig"))
    got = read_source(tsv)
    assert (got.encoding, got.sep, got.decimal) == ("utf-8-sig", "\t", ".")
    assert got.frame.iloc[0].tolist() == ["007", "1,234.50"]
    frame = pd.DataFrame({"id": ["007", "008"], "n": [1.5, None]})
    frame.to_excel(tmp_path / "b.xlsx", sheet_name="Veri", index=False)
    xl = read_source(tmp_path / "b.xlsx", ReadOptions(sheet="Veri"))
    assert xl.frame["id"].tolist() == ["007", "008"] and xl.frame["n"].iloc[0] == "1.5"
    assert pd.isna(xl.frame["n"].iloc[1])
    with pytest.raises(DataContractError, match="sheet"):
        read_source(tmp_path / "b.xlsx", ReadOptions(sheet="Nope"))
    frame.to_parquet(tmp_path / "c.parquet")
    pq = read_source(tmp_path / "c.parquet")
    assert pq.frame["n"].iloc[0] == "1.5" and pd.isna(pq.frame["n"].iloc[1])

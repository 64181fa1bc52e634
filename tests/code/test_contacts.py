"""Contact details are recognised by name, kept out of features and models, and searched in
any case and spelling."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxchurn.errors import ConfigError
from cxchurn.settings import DEFAULT_CONTACT_COLUMNS, Settings
from features.contacts import contact_columns, contact_roles, shown_columns
from features.normalize import search_key
from serving.retention.worklist import read_contacts
from training.dataset import feature_columns


def test_contact_columns_are_found_by_name_in_english_and_turkish() -> None:
    columns = ["customer_id", "Ad Soyad", "Cep-Telefonu", "E-Posta", "tercih_edilen_kanal",
               "segment", "plan", "region"]
    assert contact_columns(columns) == ["Ad Soyad", "Cep-Telefonu", "E-Posta"]
    assert contact_roles(columns, shown_columns(DEFAULT_CONTACT_COLUMNS)) == {
        "name": ["Ad Soyad"], "phone": ["Cep-Telefonu"], "email": ["E-Posta"],
        "channel": ["tercih_edilen_kanal"]}
    assert contact_roles(["first_name", "last_name", "mobile"]) == {
        "name": ["first_name", "last_name"], "phone": ["mobile"]}
    assert contact_columns(["segment", "Kunde"], names=("kunde",)) == ["Kunde"]


def test_settings_name_the_contact_columns_and_the_contacted_window() -> None:
    settings = Settings.from_env({"CXCHURN_CONTACT_COLUMNS": "Kunde, Telefonnummer",
                                  "CXCHURN_CONTACTED_DAYS": "30"})
    assert settings.contact_columns == ("kunde", "telefonnummer")
    assert settings.contacted_days == 30
    assert "phone" in Settings.from_env({}).contact_columns
    assert Settings.from_env({}).contacted_days == 14
    for bad, word in (({"CXCHURN_CONTACT_COLUMNS": " , "}, "CXCHURN_CONTACT_COLUMNS"),
                      ({"CXCHURN_CONTACTED_DAYS": "2.5"}, "CXCHURN_CONTACTED_DAYS"),
                      ({"CXCHURN_CONTACTED_DAYS": "-1"}, "CXCHURN_CONTACTED_DAYS")):
        with pytest.raises(ConfigError, match=word):
            Settings.from_env(bad)


def test_contact_columns_never_become_features(default_world) -> None:
    from features.pipeline import build_feature_table

    customers = default_world.customers.head(50).copy()
    customers["name"] = "Ayşe Yılmaz"
    customers["Phone Number"] = "+90 532 000 0000"
    customers["email"] = [f"c{i}@example.com" for i in range(len(customers))]
    cutoffs = pd.DataFrame({"customer_id": customers["customer_id"],
                            "cutoff": pd.Timestamp("2025-01-01", tz="UTC")})
    table = build_feature_table(customers, default_world.events, cutoffs)
    assert not {"name", "Phone Number", "email"} & set(table.columns)
    assert "segment" in table.columns  # other customer columns still pass through
    examples = table.assign(name="x", churned=0)  # a table built elsewhere
    assert "name" not in feature_columns(examples)
    assert "segment" in feature_columns(examples)


@pytest.mark.parametrize("typed, stored", [
    ("ayse isik", "AYŞE IŞIK"), ("AYSE", "Ayşe Işık"), ("işık", "ISIK"),
    ("istanbul", "İSTANBUL"), ("  Çağrı   Öz ", "cagri oz"), ("c00012", "C00012"),
])
def test_search_key_meets_any_case_and_turkish_spelling(typed: str, stored: str) -> None:
    assert search_key(typed).strip() in search_key(stored)


def test_contacts_are_read_as_written_from_parquet_and_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "segment": ["smb", "consumer"],
                          "first_name": ["Şükrü", "Ayşe"], "last_name": ["IŞIKLAR", None],
                          "telefon": ["+90 1", ""], "email": ["a@x.tr", "b@x.tr"]})
    frame.to_parquet(tmp_path / "customers.parquet", index=False)
    frame.to_csv(tmp_path / "customers.csv", index=False)
    for name in ("customers.parquet", "customers.csv"):
        book = read_contacts(tmp_path / name, Settings.from_env({}).contact_columns)
        assert book.of("C1") == {"name": "Şükrü IŞIKLAR", "phone": "+90 1", "email": "a@x.tr"}
        assert book.of("C2") == {"name": "Ayşe", "email": "b@x.tr"}
        assert book.search_text(["C1"]) == {"C1": "c1 sukru isiklar"}
    assert read_contacts(tmp_path / "missing.csv", ("name",)).by_id == {}


def test_snapshot_tables_leave_contact_columns_out_unless_asked() -> None:
    from training.infer_types import infer_column

    email = pd.Series(["a@x.tr", "b@x.tr", "a@x.tr", "c@x.tr"])
    plan = infer_column("E-mail", email)
    assert plan.kind == "dropped" and "--categorical E-mail" in plan.reason
    assert infer_column("E-mail", email, forced="categorical").kind == "categorical"
    assert infer_column("channel_mix", email).kind != "dropped"


def test_a_configured_list_decides_what_stays_out_of_features(default_world) -> None:
    from features.pipeline import build_feature_table

    customers = default_world.customers.head(20).copy()
    cutoffs = pd.DataFrame({"customer_id": customers["customer_id"],
                            "cutoff": pd.Timestamp("2025-01-01", tz="UTC")})
    default = build_feature_table(customers.assign(name="Ayşe"), default_world.events, cutoffs)
    assert "name" not in default.columns  # personal data, by default
    assert "preferred_channel" in default.columns  # shown on the page, yet a fair feature
    names = Settings.from_env(
        {"CXCHURN_CONTACT_COLUMNS": "name,phone,preferred_channel"}).contact_columns
    dropped = build_feature_table(customers, default_world.events, cutoffs, contact_names=names)
    assert "preferred_channel" not in dropped.columns
    assert "preferred_channel" in feature_columns(default.assign(churned=0))
    assert "preferred_channel" not in feature_columns(default.assign(churned=0), names)

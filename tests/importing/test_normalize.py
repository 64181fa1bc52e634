"""Category values read as one level however they were typed, Turkish i's included."""

from __future__ import annotations

import pandas as pd

from features.normalize import fold_category, normalise_categories


def test_turkish_dotted_and_dotless_i_fold_to_one_level():
    assert fold_category("BİREYSEL") == fold_category("bireysel") == "bireysel"
    assert fold_category("İstanbul") == fold_category(" istanbul ") == "istanbul"
    assert "İstanbul".lower() != "istanbul"  # why the rule exists
    assert fold_category("ISPARTA") == fold_category("Isparta") == "isparta"
    assert fold_category("ISPARTA", "tr") == fold_category("Isparta", "tr") == "ısparta"
    assert fold_category("IĞDIR") == fold_category("Iğdır") == "ığdır"


def test_nfc_and_inner_whitespace():
    decomposed = "Mag\u0306aza  Kadıko\u0308y"  # g + combining breve, o + combining diaeresis
    assert fold_category(decomposed) == fold_category("mağaza kadıköy") == "mağaza kadıköy"


def test_merges_are_reported_once_per_level_and_missing_stays_missing():
    values = pd.Series(["BİREYSEL", "bireysel", "Kurumsal", None, "bireysel", "İstanbul"])
    out, merges = normalise_categories(values)
    assert out.tolist()[:3] == ["bireysel", "bireysel", "kurumsal"] and pd.isna(out.iloc[3])
    assert merges == {"bireysel": ["BİREYSEL", "bireysel"]}

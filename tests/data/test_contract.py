"""Data contract: bad files fail loudly, bad rows are quarantined with a reason, never lost.

Every row-level test checks three things a user relies on: the quarantine file names the row
(1-based, header excluded), the column and the reason; the strict error says the same with a
fix; and the counts reconcile (read = accepted + quarantined).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cxchurn.errors import DataContractError
from features import contract, schema
from features.load import (
    LoadResult,
    load_actions,
    load_customers,
    load_events,
    load_tables,
)
from features.load_commands import validate_command

CUSTOMERS_CSV = """customer_id,signup_date,plan,monthly_price,region
C1,2024-01-01,basic,10.5,NA
C2,2024-02-01,pro,20.0,EU
C3,2024-03-01T12:00:00+03:00,pro,,EU
"""
EVENT_HEADER = "customer_id,event_time,event_type,channel,amount,score,duration,text\n"
GOOD_EVENT = "C1,2024-05-01T10:00:00Z,order,web,12.5,,,\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def customers(tmp_path: Path) -> LoadResult:
    return load_customers(write(tmp_path / "customers.csv", CUSTOMERS_CSV))


def quarantined(result: LoadResult) -> pd.DataFrame:
    """The quarantine file as a user would open it (values as text)."""
    assert result.quarantine_path is not None
    return pd.read_csv(result.quarantine_path, dtype=str, keep_default_na=False)


def assert_reconciled(result: LoadResult, accepted: int, rejected: int) -> None:
    assert (result.n_read, result.n_accepted, result.n_quarantined) == (
        accepted + rejected, accepted, rejected,
    )
    assert len(result.frame) == accepted
    assert f"read {accepted + rejected:,} = accepted {accepted:,} + quarantined {rejected:,}" in (
        result.summary()
    )


def load_bad_event(
    tmp_path: Path, customers: LoadResult, line: str
) -> tuple[LoadResult, pd.DataFrame]:
    """Load a file with one good event then ``line``; the bad row is data row 2."""
    path = write(tmp_path / "events.csv", EVENT_HEADER + GOOD_EVENT + line + "\n")
    result = load_events(path, customers, quarantine_dir=tmp_path / "q")
    assert_reconciled(result, accepted=1, rejected=1)
    q = quarantined(result)
    assert q["_row"].tolist() == ["2"]
    return result, q


def strict_error(tmp_path: Path, customers: LoadResult, line: str) -> str:
    path = write(tmp_path / "events_strict.csv", EVENT_HEADER + GOOD_EVENT + line + "\n")
    with pytest.raises(DataContractError) as info:
        load_events(path, customers, strict=True)
    return str(info.value)


# --- structural problems -----------------------------------------------------------------


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match=r"customers file '.*nope\.csv' does not exist"):
        load_customers(tmp_path / "nope.csv")


def test_unknown_suffix_lists_supported_formats(tmp_path: Path) -> None:
    path = write(tmp_path / "customers.json", CUSTOMERS_CSV)
    with pytest.raises(DataContractError, match=r"customers\.json.*unsupported suffix.*\.csv"):
        load_customers(path)


def test_an_excel_file_is_pointed_at_the_importer(tmp_path: Path) -> None:
    path = write(tmp_path / "customers.xlsx", CUSTOMERS_CSV)
    with pytest.raises(DataContractError, match=r"customers\.xlsx.*cxchurn import"):
        load_customers(path)


def test_unreadable_parquet_says_so(tmp_path: Path) -> None:
    path = tmp_path / "customers.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(DataContractError, match=r"could not be read as parquet"):
        load_customers(path)


def test_empty_file_asks_for_a_header(tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match=r"is empty; expected a header row"):
        load_customers(write(tmp_path / "customers.csv", ""))


def test_missing_event_time_column_names_file_column_and_fix(
    tmp_path: Path, customers: LoadResult
) -> None:
    path = write(tmp_path / "x.csv", "customer_id,timestamp,event_type,channel\n")
    with pytest.raises(
        DataContractError,
        match=r"events file 'x\.csv' has no column 'event_time' \(found: customer_id, timestamp, "
              r"event_type, channel\)\. Rename the column that holds the time of the touchpoint",
    ):
        load_events(path, customers)


def test_a_semicolon_export_is_sent_to_the_importer(tmp_path: Path) -> None:
    # a Turkish spreadsheet export: semicolons, because the decimal mark is a comma
    path = write(tmp_path / "musteriler.csv", "customer_id;signup_date;monthly_price\n"
                 "C1;01.02.2024;12,5\n")
    with pytest.raises(DataContractError, match=r"has no column 'customer_id' \(found: "
                       r"customer_id;signup_date;monthly_price\).*looks separated by ';', not "
                       r"commas: read the file with `cxchurn import`"):
        load_customers(path)


def test_missing_signup_date_suggests_close_name(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "customer_id,signup_dt\nC1,2024-01-01\n")
    with pytest.raises(DataContractError,
                       match=r"no column 'signup_date'.*did you mean 'signup_dt'"):
        load_customers(path)


def test_unknown_event_column_is_structural(tmp_path: Path, customers: LoadResult) -> None:
    path = write(tmp_path / "e.csv", EVENT_HEADER.strip() + ",device\n")
    with pytest.raises(DataContractError, match=r"unknown column\(s\) 'device'.*Allowed columns"):
        load_events(path, customers)


def test_unknown_action_column_is_structural(tmp_path: Path, customers: LoadResult) -> None:
    path = write(tmp_path / "a.csv", "customer_id,action_time,action_type,agent\n")
    with pytest.raises(DataContractError, match=r"actions file 'a\.csv' has unknown column"):
        load_actions(path, customers)


# --- customers -----------------------------------------------------------------------------


def test_extra_customer_columns_pass_through(customers: LoadResult) -> None:
    frame = customers.frame
    assert list(frame.columns) == ["customer_id", "signup_date", "plan", "monthly_price", "region"]
    assert frame["plan"].tolist() == ["basic", "pro", "pro"]
    # "NA" is a region, not missing; like every category it is read case-folded
    assert frame["region"].tolist() == ["na", "eu", "eu"]
    assert frame["monthly_price"].dtype == "float64"
    assert str(frame["customer_id"].dtype) == "str"
    assert str(frame["signup_date"].dtype) == "datetime64[us, UTC]"


def test_offsets_are_converted_and_naive_taken_as_utc(customers: LoadResult) -> None:
    signup = customers.frame.set_index("customer_id")["signup_date"]
    assert signup["C1"] == pd.Timestamp("2024-01-01", tz="UTC")
    assert signup["C3"] == pd.Timestamp("2024-03-01T09:00:00", tz="UTC")


def test_duplicate_customer_keeps_first_and_names_it(tmp_path: Path) -> None:
    text = CUSTOMERS_CSV + "C1,2025-01-01,gold,99,EU\n"
    result = load_customers(write(tmp_path / "c.csv", text), quarantine_dir=tmp_path / "q")
    assert_reconciled(result, accepted=3, rejected=1)
    q = quarantined(result)
    assert q[["_row", "_column", "_reason", "plan"]].values.tolist() == [
        ["4", "customer_id", "duplicate customer_id; first seen at row 1", "gold"],
    ]
    kept = result.frame.set_index("customer_id").loc["C1"]
    assert kept["plan"] == "basic"
    with pytest.raises(DataContractError, match=r"row 4, column 'customer_id': duplicate "
                                                r"customer_id; first seen at row 1"):
        load_customers(tmp_path / "c.csv", strict=True)


def test_blank_customer_id_in_customers(tmp_path: Path) -> None:
    text = CUSTOMERS_CSV + "  ,2024-01-01,pro,1,EU\n"
    result = load_customers(write(tmp_path / "c.csv", text), quarantine_dir=tmp_path / "q")
    assert_reconciled(result, accepted=3, rejected=1)
    assert quarantined(result)[["_row", "_column", "_reason"]].values.tolist() == [
        ["4", "customer_id", "blank customer_id"],
    ]


def test_unparseable_signup_date(tmp_path: Path) -> None:
    text = CUSTOMERS_CSV + "C4,01/02/2024,pro,1,EU\n"
    result = load_customers(write(tmp_path / "c.csv", text), quarantine_dir=tmp_path / "q")
    assert_reconciled(result, accepted=3, rejected=1)
    q = quarantined(result)
    assert q.loc[0, "signup_date"] == "01/02/2024"  # original value as written
    assert (q.loc[0, "_column"], q.loc[0, "_row"]) == ("signup_date", "4")
    assert q.loc[0, "_reason"].startswith("unparseable signup_date; expected ISO 8601")
    with pytest.raises(DataContractError, match=r"row 4, column 'signup_date'.*ISO 8601.*UTC"):
        load_customers(tmp_path / "c.csv", strict=True)


def test_blank_line_keeps_row_numbers_true_to_the_file(tmp_path: Path) -> None:
    text = "customer_id,signup_date\nC1,2024-01-01\n\nC2,2024-01-02\nC3,someday\n"
    result = load_customers(write(tmp_path / "c.csv", text), quarantine_dir=tmp_path / "q")
    assert_reconciled(result, accepted=2, rejected=2)
    assert quarantined(result)[["_row", "_column"]].values.tolist() == [
        ["2", "customer_id"], ["4", "signup_date"],
    ]


# --- events: one test per bad-input case ---------------------------------------------------


def test_unknown_event_type_lists_allowed_types(tmp_path: Path, customers: LoadResult) -> None:
    line = "C1,2024-05-01,Order,web,1,,,"
    _, q = load_bad_event(tmp_path, customers, line)
    assert q.loc[0, "_column"] == "event_type"
    assert q.loc[0, "_reason"] == "unknown event_type; allowed: " + ", ".join(schema.EVENT_TYPES)
    message = strict_error(tmp_path, customers, line)
    assert re.search(r"events file 'events_strict\.csv', row 2, column 'event_type': unknown "
                     r"event_type; allowed: order, delivery, .*cancellation \(got 'Order'\)",
                     message)


def test_unknown_channel_lists_allowed_channels(tmp_path: Path, customers: LoadResult) -> None:
    line = "C1,2024-05-01,order,fax,1,,,"
    _, q = load_bad_event(tmp_path, customers, line)
    assert (q.loc[0, "_column"], q.loc[0, "_reason"]) == (
        "channel", "unknown channel; allowed: " + ", ".join(schema.CHANNELS),
    )
    assert "row 2, column 'channel'" in strict_error(tmp_path, customers, line)


@pytest.mark.parametrize("stamp", ["yesterday", "05/01/2024", "2024-13-01", "2024-05-01 25:00"])
def test_unparseable_event_time_names_iso_8601(
    tmp_path: Path, customers: LoadResult, stamp: str
) -> None:
    line = f"C1,{stamp},order,web,1,,,"
    _, q = load_bad_event(tmp_path, customers, line)
    assert (q.loc[0, "_column"], q.loc[0, "event_time"]) == ("event_time", stamp)
    assert "expected ISO 8601" in q.loc[0, "_reason"]
    assert re.search(r"row 2, column 'event_time': unparseable event_time; expected ISO 8601.*"
                     r"naive timestamps are taken as UTC",
                     strict_error(tmp_path, customers, line))


def test_blank_event_time(tmp_path: Path, customers: LoadResult) -> None:
    _, q = load_bad_event(tmp_path, customers, "C1,,order,web,1,,,")
    assert (q.loc[0, "_column"], q.loc[0, "_reason"]) == ("event_time", "blank event_time")


@pytest.mark.parametrize(
    ("survey", "score"),
    [("survey_nps", "11"), ("survey_nps", "-1"), ("survey_csat", "0"), ("survey_csat", "5.5"),
     ("survey_ces", "8"), ("survey_ces", "0")],
)
def test_score_outside_its_scale(
    tmp_path: Path, customers: LoadResult, survey: str, score: str
) -> None:
    low, high = schema.SCORE_SCALES[survey]
    line = f"C1,2024-05-01,{survey},app,,{score},,"
    _, q = load_bad_event(tmp_path, customers, line)
    assert (q.loc[0, "_column"], q.loc[0, "score"]) == ("score", score)
    assert q.loc[0, "_reason"] == f"score outside the {survey} scale {low:g}-{high:g}"
    assert f"column 'score': score outside the {survey} scale" in strict_error(
        tmp_path, customers, line)


@pytest.mark.parametrize("survey", list(schema.SCORE_SCALES))
def test_survey_without_score(tmp_path: Path, customers: LoadResult, survey: str) -> None:
    _, q = load_bad_event(tmp_path, customers, f"C1,2024-05-01,{survey},app,,,,")
    assert (q.loc[0, "_column"], q.loc[0, "_reason"]) == ("score", f"{survey} without a score")


def test_scale_boundaries_are_accepted(tmp_path: Path, customers: LoadResult) -> None:
    lines = [
        f"C1,2024-05-01,{survey},app,,{bound:g},,"
        for survey, bounds in schema.SCORE_SCALES.items() for bound in bounds
    ]
    path = write(tmp_path / "e.csv", EVENT_HEADER + "\n".join(lines) + "\n")
    result = load_events(path, customers)
    assert_reconciled(result, accepted=6, rejected=0)


def test_event_of_unknown_customer(tmp_path: Path, customers: LoadResult) -> None:
    line = "C9,2024-05-01,order,web,1,,,"
    _, q = load_bad_event(tmp_path, customers, line)
    assert (q.loc[0, "_column"], q.loc[0, "_reason"]) == (
        "customer_id", "unknown customer: customer_id is not among the accepted customers",
    )
    message = strict_error(tmp_path, customers, line)
    assert "row 2, column 'customer_id': unknown customer" in message
    assert "C9" not in message  # ids are not echoed into logs


def test_events_of_a_quarantined_customer_are_quarantined_too(tmp_path: Path) -> None:
    cust = load_customers(write(tmp_path / "c.csv", "customer_id,signup_date\nC1,2024-01-01\n"
                                                    "C2,not a date\n"))
    path = write(tmp_path / "e.csv", EVENT_HEADER + "C2,2024-05-01,order,web,1,,,\n")
    result = load_events(path, cust, quarantine_dir=tmp_path / "q")
    assert_reconciled(result, accepted=0, rejected=1)
    assert quarantined(result).loc[0, "_reason"].startswith("unknown customer")


def test_blank_customer_id_in_events(tmp_path: Path, customers: LoadResult) -> None:
    _, q = load_bad_event(tmp_path, customers, ",2024-05-01,order,web,1,,,")
    assert (q.loc[0, "_column"], q.loc[0, "_reason"]) == ("customer_id", "blank customer_id")


@pytest.mark.parametrize(
    ("column", "line"),
    [("amount", "C1,2024-05-01,order,web,12,50,,,"),  # unquoted decimal comma shifts columns
     ("amount", "C1,2024-05-01,order,web,1.2.3,,,"),
     ("score", "C1,2024-05-01,survey_nps,app,,nine,,"),
     ("duration", "C1,2024-05-01,delivery,web,,,two days,"),
     ("amount", "C1,2024-05-01,order,web,inf,,,")],
)
def test_non_numeric_values(
    tmp_path: Path, customers: LoadResult, column: str, line: str
) -> None:
    if line.count(",") > 7:
        # an extra field is a CSV-level problem: pandas cannot place it, so it is structural
        path = write(tmp_path / "e.csv", EVENT_HEADER + line + "\n")
        with pytest.raises(DataContractError, match=r"more fields per row than header"):
            load_events(path, customers)
        path = write(tmp_path / "e.csv", EVENT_HEADER + GOOD_EVENT + line + "\n")
        with pytest.raises(DataContractError, match=r"could not be read as csv.*line 3, saw 9"):
            load_events(path, customers)
        return
    _, q = load_bad_event(tmp_path, customers, line)
    assert (q.loc[0, "_column"], q.loc[0, "_reason"]) == (
        column, f"non-numeric {column}: expected a finite number or blank",
    )
    assert f"column '{column}': non-numeric" in strict_error(tmp_path, customers, line)


def test_event_before_signup(tmp_path: Path, customers: LoadResult) -> None:
    # C3 signed up 2024-03-01T09:00Z; an event one minute earlier (written in +03:00) is bad
    line = "C3,2024-03-01T11:59:00+03:00,order,web,1,,,"
    _, q = load_bad_event(tmp_path, customers, line)
    assert (q.loc[0, "_column"], q.loc[0, "_reason"]) == ("event_time", "event before signup")
    assert "row 2, column 'event_time': event before signup" in strict_error(
        tmp_path, customers, line)


def test_customers_kept_for_lookups_give_the_same_verdicts_as_the_table(
        customers: LoadResult) -> None:
    """A service keeps the accepted customers indexed between requests; the rules must not
    notice: unknown, blank and before-signup rows fail alike and the rest pass alike."""
    raw = pd.DataFrame({
        "customer_id": ["C1", "C9", " ", "C3", "C3", "C2"],
        "event_time": ["2024-05-01", "2024-05-01", "2024-05-01", "2024-03-01T11:59:00+03:00",
                       "2024-03-01T09:00:00Z", "2024-06-01"],
        "event_type": "order", "channel": "web"}, dtype=object)
    table = customers.frame
    by_frame = contract.check_events(raw, table)
    kept = contract.KnownCustomers.of(table)
    by_index = contract.check_events(raw, kept)
    pd.testing.assert_frame_equal(by_frame.accepted, by_index.accepted)
    pd.testing.assert_frame_equal(by_frame.rejected, by_index.rejected)
    assert list(by_index.rejected["_reason"]) == [
        "unknown customer: customer_id is not among the accepted customers",
        "blank customer_id", "event before signup"]
    assert list(by_index.accepted["customer_id"]) == ["C1", "C3", "C2"]
    assert contract.check_events(raw, kept).accepted.equals(by_index.accepted)  # reusable


def test_event_at_signup_is_accepted(tmp_path: Path, customers: LoadResult) -> None:
    path = write(tmp_path / "e.csv", EVENT_HEADER + "C3,2024-03-01T09:00:00Z,order,web,1,,,\n")
    assert_reconciled(load_events(path, customers), accepted=1, rejected=0)


def test_each_bad_row_gets_its_first_reason(tmp_path: Path, customers: LoadResult) -> None:
    # unknown customer, bad time, unknown type, unknown channel, bad amount: the id wins
    _, q = load_bad_event(tmp_path, customers, "C9,soon,Order,fax,x,,,")
    assert q.loc[0, "_column"] == "customer_id"
    _, q = load_bad_event(tmp_path, customers, "C1,2024-05-01,Order,fax,x,,,")
    assert q.loc[0, "_column"] == "event_type"


def test_strict_stops_at_the_first_bad_row_in_file_order(
    tmp_path: Path, customers: LoadResult
) -> None:
    text = EVENT_HEADER + GOOD_EVENT + "C1,2024-05-01,order,fax,1,,,\n" + "C9,bad,x,y,,,,\n"
    path = write(tmp_path / "e.csv", text)
    with pytest.raises(DataContractError, match=r"row 2, column 'channel'"):
        load_events(path, customers, strict=True)


def test_optional_event_columns_may_be_absent(tmp_path: Path, customers: LoadResult) -> None:
    path = write(tmp_path / "e.csv", "customer_id,event_time,event_type,channel\n"
                                     "C1,2024-05-01,email_open,email\n")
    result = load_events(path, customers)
    assert list(result.frame.columns) == list(schema.EVENT_COLUMNS)
    assert result.frame[["amount", "score", "duration"]].isna().all().all()
    assert result.frame["text"].isna().all()


def test_ids_and_vocabulary_are_stripped_but_text_is_not(
    tmp_path: Path, customers: LoadResult
) -> None:
    line = ' C1 , 2024-05-01 , feedback , web ,,,,"  ok "\n'
    path = write(tmp_path / "e.csv", EVENT_HEADER + line)
    row = load_events(path, customers).frame.iloc[0]
    assert (row["customer_id"], row["event_type"], row["channel"], row["text"]) == (
        "C1", "feedback", "web", "  ok ",
    )


# --- actions -------------------------------------------------------------------------------


def test_actions_of_unknown_customers_and_bad_cost(tmp_path: Path, customers: LoadResult) -> None:
    text = ("customer_id,action_time,action_type,cost,outcome\n"
            "C1,2024-06-01,loyalty_offer,5,retained\n"
            "C9,2024-06-01,loyalty_offer,5,\n"
            "C2,2024-06-01,callback,cheap,\n"
            "C2,2024-06-01,,1,\n")
    result = load_actions(write(tmp_path / "a.csv", text), customers, tmp_path / "q")
    assert_reconciled(result, accepted=1, rejected=3)
    assert quarantined(result)[["_row", "_column"]].values.tolist() == [
        ["2", "customer_id"], ["3", "cost"], ["4", "action_type"],
    ]
    assert result.frame["outcome"].tolist() == ["retained"]
    with pytest.raises(DataContractError, match=r"actions file 'a\.csv', row 2, column "
                                                r"'customer_id': unknown customer"):
        load_actions(tmp_path / "a.csv", customers, strict=True)


def test_load_tables_without_actions_gives_typed_empty_actions(tmp_path: Path) -> None:
    cpath = write(tmp_path / "c.csv", CUSTOMERS_CSV)
    epath = write(tmp_path / "e.csv", EVENT_HEADER + GOOD_EVENT)
    tables = load_tables(cpath, epath, quarantine_dir=tmp_path / "q")
    assert tables.actions.empty
    assert list(tables.actions.columns) == list(schema.ACTION_COLUMNS)
    assert str(tables.actions["action_time"].dtype) == "datetime64[us, UTC]"
    assert [r.table for r in tables.results] == ["customers", "events"]
    assert (tmp_path / "q" / "events.quarantine.csv").exists()


# --- clean data, round trips, reconciliation -----------------------------------------------


def world_like(n_customers: int = 300, n_events: int = 3000, seed: int = 7) -> tuple[
    pd.DataFrame, pd.DataFrame, pd.DataFrame
]:
    """Typed tables shaped like the simulator's output, all valid."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:05d}" for i in range(n_customers)])
    signup = pd.Timestamp("2023-07-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 300, n_customers), unit="D")
    customers = pd.DataFrame({
        "customer_id": pd.Series(ids, dtype="str"),
        "signup_date": signup.astype("datetime64[us, UTC]"),
        "plan": pd.Series(rng.choice(["basic", "pro"], n_customers), dtype="str"),
        "segment": pd.Series(rng.choice(["consumer", "smb"], n_customers), dtype="str"),
        "monthly_price": rng.uniform(5, 50, n_customers).round(2),
    })
    who = rng.integers(0, n_customers, n_events)
    types = rng.choice(list(schema.EVENT_TYPES), n_events)
    when = signup[who] + pd.to_timedelta(rng.integers(0, 400 * 86400, n_events), unit="s")
    score = np.full(n_events, np.nan)
    for survey, (low, high) in schema.SCORE_SCALES.items():
        hit = types == survey
        score[hit] = rng.integers(int(low), int(high) + 1, hit.sum())
    text = np.where(types == "feedback", "kargo geç geldi, çok kötü", None)
    events = pd.DataFrame({
        "customer_id": pd.Series(ids[who], dtype="str"),
        "event_time": pd.Series(when, dtype="datetime64[us, UTC]"),
        "event_type": pd.Series(types, dtype="str"),
        "channel": pd.Series(rng.choice(schema.CHANNELS, n_events), dtype="str"),
        "amount": np.where(types == "order", rng.uniform(1, 200, n_events).round(2), np.nan),
        "score": score,
        "duration": np.where(types == "delivery", rng.integers(-2, 5, n_events), np.nan),
        "text": pd.Series(text, dtype="str"),
    })
    actions = pd.DataFrame({
        "customer_id": pd.Series(ids[:20], dtype="str"),
        "action_time": pd.Series(pd.Timestamp("2025-01-15", tz="UTC"), index=range(20))
        .astype("datetime64[us, UTC]"),
        "action_type": pd.Series(["loyalty_offer"] * 20, dtype="str"),
        "cost": np.full(20, 5.0),
        "outcome": pd.Series([None] * 20, dtype="str"),
    })
    return customers, events, actions


def save(frame: pd.DataFrame, path: Path) -> Path:
    if path.name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_clean_world_like_files_load_with_nothing_quarantined(
    tmp_path: Path, suffix: str
) -> None:
    frames = world_like()
    names = ("customers", "events", "actions")
    files = [save(f, tmp_path / f"{n}{suffix}") for f, n in zip(frames, names, strict=True)]
    tables = load_tables(*files, quarantine_dir=tmp_path / "q")
    assert [r.n_quarantined for r in tables.results] == [0, 0, 0]
    pd.testing.assert_frame_equal(tables.customers, frames[0])
    pd.testing.assert_frame_equal(tables.events, frames[1])
    pd.testing.assert_frame_equal(tables.actions, frames[2])


def test_csv_and_parquet_round_trips_give_identical_frames(tmp_path: Path) -> None:
    frames = world_like(n_customers=50, n_events=400, seed=3)
    loaded = {}
    for suffix in (".csv", ".parquet"):
        cust = load_customers(save(frames[0], tmp_path / f"c{suffix}"))
        events = load_events(save(frames[1], tmp_path / f"e{suffix}"), cust)
        actions = load_actions(save(frames[2], tmp_path / f"a{suffix}"), cust)
        loaded[suffix] = (cust.frame, events.frame, actions.frame)
    for from_csv, from_parquet in zip(loaded[".csv"], loaded[".parquet"], strict=True):
        pd.testing.assert_frame_equal(from_csv, from_parquet)


def test_parquet_with_naive_times_and_integer_ids(tmp_path: Path) -> None:
    raw = pd.DataFrame({"customer_id": [1, 2], "signup_date": pd.to_datetime(
        ["2024-01-01 10:00", "2024-01-02 00:00"])})
    result = load_customers(save(raw, tmp_path / "c.parquet"))
    assert result.frame["customer_id"].tolist() == ["1", "2"]
    assert result.frame["signup_date"].iloc[0] == pd.Timestamp("2024-01-01 10:00", tz="UTC")
    assert str(result.frame["signup_date"].dtype) == "datetime64[us, UTC]"


def test_clean_load_rewrites_a_stale_quarantine_file(tmp_path: Path) -> None:
    qdir = tmp_path / "q"
    bad = write(tmp_path / "c.csv", CUSTOMERS_CSV + ",2024-01-01,,,\n")
    assert load_customers(bad, qdir).n_quarantined == 1
    good = write(tmp_path / "c.csv", CUSTOMERS_CSV)
    result = load_customers(good, qdir)
    assert result.n_quarantined == 0
    assert quarantined(result).empty


def test_reconcile_refuses_counts_that_do_not_add_up() -> None:
    frame = pd.DataFrame({"customer_id": ["C1"]})
    broken = contract.Checked("events", frame, frame.iloc[:0], n_read=2)
    with pytest.raises(RuntimeError, match=r"read 2, accepted 1, quarantined 0"):
        contract.reconcile(broken)


def test_summary_line_holds_counts_not_customer_data(tmp_path: Path) -> None:
    text = CUSTOMERS_CSV + "C1,2025-01-01,gold,99,EU\n"
    result = load_customers(write(tmp_path / "c.csv", text), quarantine_dir=tmp_path / "q")
    line = result.summary()
    assert "\n" not in line
    assert not re.search(r"C\d", line.replace("c.csv", ""))
    assert line.startswith("customers (c.csv): read 4 = accepted 3 + quarantined 1 -> ")


# --- CLI -----------------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("validate")(validate_command)
    app.command("noop")(lambda: None)  # keep 'validate' a subcommand, as in the real CLI
    return app


def test_validate_command_prints_reconciliation_and_reasons(tmp_path: Path) -> None:
    cpath = write(tmp_path / "c.csv", CUSTOMERS_CSV)
    epath = write(tmp_path / "e.csv", EVENT_HEADER + GOOD_EVENT + "C1,2024-05-01,order,fax,,,,\n")
    # 1 of 2 events bad (50%) passes only under a raised --max-quarantined (default 1%)
    out = CliRunner().invoke(cli(), ["validate", "--customers", str(cpath), "--events",
                                     str(epath), "--quarantine-dir", str(tmp_path / "q"),
                                     "--max-quarantined", "0.5"])
    assert out.exit_code == 0, out.output
    assert "customers (c.csv): read 3 = accepted 3 + quarantined 0" in out.output
    assert "events (e.csv): read 2 = accepted 1 + quarantined 1" in out.output
    assert re.search(r"1  channel: unknown channel", out.output)
    assert (tmp_path / "q" / "events.quarantine.csv").exists()


def test_validate_command_strict_raises_contract_error(tmp_path: Path) -> None:
    cpath = write(tmp_path / "c.csv", CUSTOMERS_CSV)
    epath = write(tmp_path / "e.csv", EVENT_HEADER + "C1,2024-05-01,order,fax,,,,\n")
    out = CliRunner().invoke(cli(), ["validate", "--customers", str(cpath), "--events",
                                     str(epath), "--strict", "--quarantine-dir",
                                     str(tmp_path / "q")])
    assert isinstance(out.exception, DataContractError)
    assert "row 1, column 'channel'" in str(out.exception)


def test_parquet_bad_rows_keep_their_position_and_values(
    tmp_path: Path, customers: LoadResult
) -> None:
    _, events, _ = world_like(n_customers=5, n_events=5)
    events["customer_id"] = "C1"
    events["event_time"] = pd.Timestamp("2024-06-01", tz="UTC")
    events["event_type"] = "order"
    events["score"] = np.nan
    events.loc[2, "channel"] = "fax"
    result = load_events(save(events, tmp_path / "e.parquet"), customers, tmp_path / "q")
    assert_reconciled(result, accepted=4, rejected=1)
    assert quarantined(result)[["_row", "channel", "_column"]].values.tolist() == [
        ["3", "fax", "channel"],
    ]


def test_excel_style_csv_with_bom_and_crlf_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbfcustomer_id,signup_date\r\nC1,2024-01-01\r\n")
    result = load_customers(path)
    assert result.frame["customer_id"].tolist() == ["C1"]

"""Bring-your-own-data: the build knows where the data stops, and a quarantine has consequences.

Small files written by the tests; each test asserts what a user needs: the right rows, the
right error (file, row, column, fix) with a non-zero exit, nothing lost.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxchurn import cli
from cxchurn.cli import app
from cxchurn.errors import ConfigError, DataContractError

N_CUSTOMERS = 40


def write_log(folder: Path, *, last_day: str = "2024-06-28", day_first: bool = False,
              bad_rows: int = 0) -> tuple[Path, Path]:
    """A purchase-only log: weekly orders from January until each customer stops."""
    rng = np.random.default_rng(3)
    customers = pd.DataFrame({"customer_id": [f"K{i:03d}" for i in range(N_CUSTOMERS)],
                              "signup_date": "2023-12-01"})
    rows = []
    days = pd.date_range("2024-01-02", last_day, freq="7D")
    for i, cid in enumerate(customers["customer_id"]):
        stop = days[rng.integers(4, len(days))] if i % 3 else days[-1]
        rows += [(cid, d, "order", "web", 10.0 + i) for d in days if d <= stop]
    rows.append(("K000", pd.Timestamp(last_day), "order", "web", 5.0))
    events = pd.DataFrame(rows, columns=["customer_id", "event_time", "event_type", "channel",
                                         "amount"])
    fmt = "%d.%m.%Y" if day_first else "%Y-%m-%d"
    events["event_time"] = events["event_time"].dt.strftime(fmt)
    if bad_rows:
        events.loc[events.index[:bad_rows], "event_time"] = "31.01.2024"
    cpath, epath = folder / "customers.csv", folder / "events.csv"
    customers.to_csv(cpath, index=False)
    events.to_csv(epath, index=False)
    return cpath, epath


def build(tmp_path: Path, *extra: str, horizon: str = "30"):
    cpath, epath = write_log(tmp_path)
    args = ["features", "build", "--customers", str(cpath), "--events", str(epath),
            "--start", "2024-02-01", "--end", "2024-06-01", "--horizon-days", horizon,
            "--label", "non_contractual", "--out", str(tmp_path / "out"), *extra]
    return CliRunner().invoke(app, args)


# ----------------------------------------------------------------------------- data end


def test_cutoffs_whose_label_window_passes_the_last_event_are_refused(tmp_path: Path) -> None:
    result = build(tmp_path)
    assert isinstance(result.exception, ConfigError), result.output
    text = str(result.exception)
    assert "2024-06-01" in text and "pass the end of the data (2024-06-28" in text
    assert "the last cutoff with a complete label window is 2024-05-01" in text
    assert "--score-only" in text
    assert not (tmp_path / "out" / "examples.parquet").exists()


def test_the_cli_exits_non_zero_with_the_message_not_a_traceback(tmp_path: Path, capsys,
                                                                 monkeypatch) -> None:
    cpath, epath = write_log(tmp_path)
    monkeypatch.setattr(sys, "argv", [
        "cxchurn", "features", "build", "--customers", str(cpath), "--events", str(epath),
        "--cutoffs", "2024-05-01,2024-06-01", "--label", "non_contractual",
        "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as exit_info:
        cli.run(app)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: 1 cutoff(s) 2024-06-01" in err and "Traceback" not in err


def test_score_only_builds_features_for_late_cutoffs_but_never_labels(tmp_path: Path) -> None:
    result = build(tmp_path, "--score-only")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    features = pd.read_parquet(out / "features.parquet")
    labels = pd.read_parquet(out / "labels.parquet")
    examples = pd.read_parquet(out / "examples.parquet")
    june = pd.Timestamp("2024-06-01", tz="UTC")
    assert (features["cutoff"] == june).sum() > 0
    assert not (labels["cutoff"] == june).any() and not (examples["cutoff"] == june).any()
    assert sorted(examples["cutoff"].dt.month.unique()) == [2, 3, 4, 5]
    assert len(examples) == len(features[features["cutoff"] < june])


def test_data_end_option_moves_the_boundary(tmp_path: Path) -> None:
    result = build(tmp_path, "--data-end", "2024-05-15")
    assert isinstance(result.exception, ConfigError)
    assert "the last cutoff with a complete label window is 2024-04-01" in str(result.exception)
    ok = build(tmp_path, "--data-end", "2024-07-01")
    assert ok.exit_code == 0, ok.output
    examples = pd.read_parquet(tmp_path / "out" / "examples.parquet")
    assert examples["cutoff"].dt.month.max() == 6


def test_a_bad_data_end_is_a_config_error(tmp_path: Path) -> None:
    result = build(tmp_path, "--data-end", "soon")
    assert isinstance(result.exception, ConfigError)
    assert "--data-end 'soon' is not an ISO date" in str(result.exception)


# ----------------------------------------------------------------------------- quarantine


def validate(tmp_path: Path, cpath: Path, epath: Path, *extra: str):
    return CliRunner().invoke(app, ["features", "validate", "--customers", str(cpath),
                                    "--events", str(epath), "--quarantine-dir",
                                    str(tmp_path / "q"), *extra])


def test_day_first_event_times_stop_validate_with_the_fix(tmp_path: Path) -> None:
    cpath, epath = write_log(tmp_path, day_first=True)
    n = len(pd.read_csv(epath))
    result = validate(tmp_path, cpath, epath)
    assert isinstance(result.exception, DataContractError), result.output
    text = str(result.exception)
    assert f"all {n:,} rows of the events file 'events.csv' were quarantined" in text
    assert "event_time: unparseable event_time" in text and "(rows 1, 2, 3, 4, 5" in text
    assert "values shaped like 99.99.9999" in text
    assert "day- or month-first dates" in text and "--date-format '%d.%m.%Y'" in text
    assert "K0" not in text  # row numbers and column names, never customer ids
    quarantined = pd.read_csv(tmp_path / "q" / "events.quarantine.csv")
    assert len(quarantined) == n  # nothing lost: every row is in the quarantine file


def test_a_stated_date_format_reads_day_first_files_in_full(tmp_path: Path) -> None:
    cpath, epath = write_log(tmp_path, day_first=True)
    n = len(pd.read_csv(epath))
    result = validate(tmp_path, cpath, epath, "--date-format", "%d.%m.%Y")
    assert result.exit_code == 0, result.output
    assert f"read {n:,} = accepted {n:,} + quarantined 0" in result.output
    built = CliRunner().invoke(app, [
        "features", "build", "--customers", str(cpath), "--events", str(epath),
        "--cutoffs", "2024-03-01,2024-04-01", "--date-format", "%d.%m.%Y",
        "--out", str(tmp_path / "out")])
    assert built.exit_code == 0, built.output
    assert len(pd.read_parquet(tmp_path / "out" / "examples.parquet")) > 0


def test_day_first_event_times_stop_the_build_before_it_says_no_cutoffs(tmp_path: Path) -> None:
    cpath, epath = write_log(tmp_path, day_first=True)
    result = CliRunner().invoke(app, [
        "features", "build", "--customers", str(cpath), "--events", str(epath),
        "--cutoffs", "2024-03-01", "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, DataContractError)
    assert "rows of the events file 'events.csv' were quarantined" in str(result.exception)


def test_every_signup_date_bad_names_the_customers_file(tmp_path: Path) -> None:
    cpath, epath = write_log(tmp_path)
    customers = pd.read_csv(cpath)
    customers["signup_date"] = "01/12/2023"
    customers.to_csv(cpath, index=False)
    text = str(validate(tmp_path, cpath, epath).exception)
    assert text.startswith(f"all {N_CUSTOMERS} rows of the customers file 'customers.csv'")
    assert "signup_date: unparseable signup_date" in text


def test_a_few_bad_rows_under_the_limit_pass_with_the_quarantine_file(tmp_path: Path) -> None:
    cpath, epath = write_log(tmp_path)
    events = pd.read_csv(epath)
    n = len(events)
    bad = max(1, int(n * 0.005))
    cpath, epath = write_log(tmp_path, bad_rows=bad)
    assert bad / n <= 0.01
    result = validate(tmp_path, cpath, epath)
    assert result.exit_code == 0, result.output
    assert f"read {n:,} = accepted {n - bad:,} + quarantined {bad:,}" in result.output
    assert "unparseable event_time" in result.output
    assert len(pd.read_csv(tmp_path / "q" / "events.quarantine.csv")) == bad
    # the same file with a stricter limit stops, naming the share and the option
    strict = validate(tmp_path, cpath, epath, "--max-quarantined", "0")
    assert isinstance(strict.exception, DataContractError)
    assert "more than --max-quarantined 0.0%" in str(strict.exception)

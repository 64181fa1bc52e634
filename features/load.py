"""Read customers, events and actions from CSV or Parquet and hold them to the data contract.

Thin I/O around the pure rules in ``features/contract.py``: find the format from the suffix,
check the header before reading millions of rows, read, validate, write the rejected rows to
``<quarantine_dir>/<table>.quarantine.csv`` and log a one-line reconciliation per table
(counts and paths only, never customer data).

CSV is read with every contract column as text, so that the contract (not the CSV reader)
decides what a bad value is and the quarantine file shows the value exactly as written. Extra
customer columns are left to pandas' type inference so that a CSV and a Parquet copy of the
same table load to the same frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxchurn import paths
from cxchurn.errors import DataContractError
from features import contract
from features.contract import ACTIONS, CUSTOMERS, EVENTS
from features.normalize import fold_text_columns, merge_lines
from features.readers import PARQUET_SUFFIXES, file_kind
from features.schema import CUSTOMER_COLUMNS

log = logging.getLogger(__name__)


# Contract columns read as text from CSV (extra customer columns are type-inferred).
_TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    CUSTOMERS: ("customer_id", "signup_date"),
    EVENTS: ("customer_id", "event_time", "event_type", "channel", "amount", "score",
             "duration", "text"),
    ACTIONS: ("customer_id", "action_time", "action_type", "cost", "outcome"),
}


@dataclass(frozen=True)
class LoadResult:
    """One loaded table: the accepted frame, the rejected rows and the reconciled counts."""

    frame: pd.DataFrame
    table: str
    path: Path
    n_read: int
    n_accepted: int
    n_quarantined: int
    quarantine_path: Path | None
    rejected: pd.DataFrame = field(repr=False)
    # customers: column -> {folded level: the spellings merged into it}
    merges: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and the CLI: counts and file names only, no customer data."""
        where = f" -> {self.quarantine_path}" if self.quarantine_path and self.n_quarantined else ""
        folded = (f"; category spellings merged in {sorted(self.merges)}" if self.merges
                  else "")
        return (
            f"{self.table} ({self.path.name}): read {self.n_read:,} = accepted "
            f"{self.n_accepted:,} + quarantined {self.n_quarantined:,}{where}{folded}"
        )

    def reasons(self) -> pd.Series:
        """Quarantined rows per (column, reason), most frequent first; for reports and the CLI.

        Reasons are grouped on the text before ';' so 'duplicate ...; first seen at row N'
        counts as one reason.
        """
        if self.rejected.empty:
            return pd.Series(dtype="int64")
        key = self.rejected[contract.COLUMN] + ": " + (
            self.rejected[contract.REASON].str.split(";", n=1).str[0]
        )
        return key.value_counts()


@dataclass(frozen=True)
class Tables:
    """The three validated tables and how each load went."""

    customers: pd.DataFrame
    events: pd.DataFrame
    actions: pd.DataFrame
    results: tuple[LoadResult, ...]

    def summary(self) -> str:
        return "\n".join(r.summary() for r in self.results)


# ---------------------------------------------------------------------------------------------
# reading


def _format(path: Path, table: str) -> str:
    """CSV or Parquet by suffix (the one suffix rule is ``readers.file_kind``)."""
    try:
        kind = file_kind(path)
    except DataContractError as err:
        raise DataContractError(f"{table} file: {err}") from None
    if kind == "excel" or not path.name.lower().endswith((".csv", ".csv.gz", *PARQUET_SUFFIXES)):
        raise DataContractError(
            f"{table} file '{path}' is not a comma-separated CSV or Parquet file, which is "
            "what the contract loader reads. Run `cxchurn import` on it (reads Excel, tabs, "
            "semicolons, cp1254, decimal commas), or save it as CSV.")
    return kind


def _unreadable(path: Path, table: str, fmt: str, err: Exception) -> DataContractError:
    return DataContractError(
        f"{table} file '{path}' could not be read as {fmt} ({type(err).__name__}: {err}). "
        f"Check that it is a valid {fmt} file with a header row (CSV: comma-separated, UTF-8)."
    )


_CSV_OPTIONS = {
    # "NA", "null", "N/A" ... are kept as written (a region may be called NA); only an empty
    # cell is missing. Blank lines are kept as rows so row numbers match the file.
    "keep_default_na": False,
    "na_values": [""],
    "skip_blank_lines": False,
}


def read_header(path: Path, table: str) -> list[str]:
    """Column names only: lets a structural problem fail before a 10M-row read."""
    fmt = _format(path, table)
    if not path.is_file():
        raise DataContractError(
            f"{table} file '{path}' does not exist. Check the path (relative paths start from "
            f"'{Path.cwd()}')."
        )
    try:
        if fmt == "csv":
            return [str(c) for c in pd.read_csv(path, nrows=0).columns]
        return list(pq.read_schema(path).names)
    except pd.errors.EmptyDataError as err:
        raise DataContractError(
            f"{table} file '{path}' is empty; expected a header row with at least "
            f"{', '.join(contract.REQUIRED_COLUMNS[table])}."
        ) from err
    except (ValueError, OSError, UnicodeDecodeError, pa.ArrowException) as err:
        raise _unreadable(path, table, fmt, err) from err


def read_raw(path: Path, table: str) -> pd.DataFrame:
    """Read a table as written, after checking that its header meets the contract."""
    path = Path(path)
    columns = read_header(path, table)
    contract.require_columns(columns, table, path.name)
    fmt = _format(path, table)
    try:
        if fmt == "csv":
            dtype = {c: "str" for c in _TEXT_COLUMNS[table] if c in columns}
            frame = pd.read_csv(path, dtype=dtype, **_CSV_OPTIONS)
            if not isinstance(frame.index, pd.RangeIndex):
                # pandas turns leading fields into an index when every row has more fields
                # than the header: the columns would silently shift.
                raise DataContractError(
                    f"{table} file '{path}' has more fields per row than header columns "
                    f"({len(columns)}). Quote values that contain commas (e.g. \"12,50\") or "
                    "write decimals with a dot."
                )
            return frame
        return pd.read_parquet(path)
    except (ValueError, OSError, UnicodeDecodeError, pa.ArrowException) as err:
        raise _unreadable(path, table, fmt, err) from err


# ---------------------------------------------------------------------------------------------
# loading = read + check + quarantine


def write_quarantine(rejected: pd.DataFrame, table: str, quarantine_dir: Path) -> Path:
    """Write the rejected rows (header only if none, so a stale file never lingers)."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    out = quarantine_dir / f"{table}.quarantine.csv"
    rejected.to_csv(out, index=False)
    return out


def _finish(
    checked: contract.Checked, path: Path, quarantine_dir: Path | None
) -> LoadResult:
    out = (
        write_quarantine(checked.rejected, checked.table, Path(quarantine_dir))
        if quarantine_dir is not None else None
    )
    result = LoadResult(
        frame=checked.accepted,
        table=checked.table,
        path=path,
        n_read=checked.n_read,
        n_accepted=len(checked.accepted),
        n_quarantined=len(checked.rejected),
        quarantine_path=out,
        rejected=checked.rejected,
    )
    contract.reconcile(checked)
    log.info(result.summary())
    return result


def _customer_frame(customers: pd.DataFrame | LoadResult) -> pd.DataFrame:
    return customers.frame if isinstance(customers, LoadResult) else customers


def load_customers(
    path: Path | str, quarantine_dir: Path | None = None, strict: bool = False,
    date_format: str | None = None,
) -> LoadResult:
    """Load and validate customers; rejected rows go to ``customers.quarantine.csv``."""
    path = Path(path)
    raw = read_raw(path, CUSTOMERS)
    checked = contract.check_customers(raw, path.name, strict=strict,
                                       date_format=date_format)
    result = _finish(checked, path, quarantine_dir)
    # Static attributes are categories: folded here as at the API (features.normalize).
    frame, merges = fold_text_columns(result.frame, CUSTOMER_COLUMNS)
    for line in merge_lines(merges):
        log.info("customers: merged category spellings %s", line)
    return replace(result, frame=frame, merges=merges)


def _load_against_customers(
    table: str, path: Path | str, customers: pd.DataFrame | LoadResult,
    quarantine_dir: Path | None, strict: bool, date_format: str | None,
) -> LoadResult:
    """Read and check a table whose rows must name an ACCEPTED customer (events, actions)."""
    path = Path(path)
    check = contract.check_events if table == EVENTS else contract.check_actions
    checked = check(read_raw(path, table), _customer_frame(customers), path.name, strict=strict,
                    date_format=date_format)
    return _finish(checked, path, quarantine_dir)


def load_events(
    path: Path | str,
    customers: pd.DataFrame | LoadResult,
    quarantine_dir: Path | None = None,
    strict: bool = False,
    date_format: str | None = None,
) -> LoadResult:
    """Load and validate events against the ACCEPTED customers (a frame or a LoadResult)."""
    return _load_against_customers(EVENTS, path, customers, quarantine_dir, strict, date_format)


def load_actions(
    path: Path | str,
    customers: pd.DataFrame | LoadResult,
    quarantine_dir: Path | None = None,
    strict: bool = False,
    date_format: str | None = None,
) -> LoadResult:
    """Load and validate retention actions against the ACCEPTED customers."""
    return _load_against_customers(ACTIONS, path, customers, quarantine_dir, strict, date_format)


def load_tables(
    customers_path: Path | str,
    events_path: Path | str,
    actions_path: Path | str | None = None,
    quarantine_dir: Path | None = None,
    strict: bool = False,
    date_format: str | None = None,
) -> Tables:
    """Load all three tables in dependency order (events and actions need the customers).

    ``quarantine_dir`` defaults to ``<CXCHURN_HOME>/quarantine``, resolved when called. Without
    an actions file the actions table is empty but typed. ``date_format`` (strptime codes,
    e.g. ``%d.%m.%Y``) reads every time column of the three files; default ISO 8601.
    """
    qdir = Path(quarantine_dir) if quarantine_dir is not None else paths.home() / "quarantine"
    cust = load_customers(customers_path, qdir, strict, date_format)
    events = load_events(events_path, cust, qdir, strict, date_format)
    results = [cust, events]
    if actions_path is not None:
        actions = load_actions(actions_path, cust, qdir, strict, date_format)
        results.append(actions)
        actions_frame = actions.frame
    else:
        actions_frame = contract.empty_actions()
    return Tables(cust.frame, events.frame, actions_frame, tuple(results))


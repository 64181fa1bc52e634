"""Read one source file of a user's export as text, with stated or sniffed options.

Real exports come as CSV in any encoding, separator and decimal mark, as Excel workbooks or
as Parquet. ``read_source`` reads every column as text (``dtype=str``) so ids keep their
leading zeros and the contract, not the reader, decides what a bad value is. Options the
mapping leaves out are sniffed and reported back (``SourceRead``), so the user sees what was
assumed and can pin it in the mapping:

* encoding: UTF-8 (strictly; ``utf-8-sig`` when the file starts with a byte-order mark), else
  cp1254 (Turkish Windows) when the bytes of its Turkish letters appear, else cp1252
  (Western Windows), else latin-1 (which decodes anything);
* separator: ``csv.Sniffer`` over a sample among ``, ; TAB |``, else the candidate that
  splits the header line most;
* decimal mark: ``,`` when numbers look like ``1.234,56`` or ``12,5`` (and not like
  ``1,234.56``); it is applied to numeric columns by the mapping, never to ids.

Errors name the file and the fix (the mapping key to set).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cxchurn.errors import DataContractError

SEPARATORS = (",", ";", "\t", "|")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
PARQUET_SUFFIXES = (".parquet", ".pq")
SAMPLE_CHARS = 64_000

# Bytes that are Turkish letters in cp1254 (Ğ İ Ş ğ ı ş) and rare letters elsewhere.
_TURKISH_BYTES = frozenset(b"\xd0\xdd\xde\xf0\xfd\xfe")
_DECIMAL_COMMA = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_DECIMAL_DOT = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)\.\d+$")
_CSV_OPTIONS = {
    # "NA", "null" ... are kept as written (a region may be called NA); only an empty cell is
    # missing. Blank lines are kept as rows so row numbers match the file.
    "keep_default_na": False,
    "na_values": [""],
    "skip_blank_lines": False,
}


@dataclass(frozen=True)
class ReadOptions:
    """What the mapping states for one source; ``None`` means sniff."""

    encoding: str | None = None
    sep: str | None = None
    decimal: str | None = None
    sheet: str | int | None = None


@dataclass(frozen=True)
class SourceRead:
    """A source read as text, and the options that were used (stated or sniffed)."""

    frame: pd.DataFrame
    path: Path
    kind: str  # csv, excel or parquet
    encoding: str | None
    sep: str | None
    decimal: str
    sheet: str | int | None
    sniffed: tuple[str, ...]  # names of the options that were sniffed, not stated

    def describe(self) -> str:
        parts = [self.kind]
        if self.kind == "csv":
            parts += [f"encoding {self.encoding}", f"separator {self.sep!r}"]
        if self.kind == "excel":
            parts.append(f"sheet {self.sheet!r}")
        parts.append(f"decimal {self.decimal!r}")
        note = f" (sniffed: {', '.join(self.sniffed)})" if self.sniffed else ""
        return ", ".join(parts) + note


def file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(EXCEL_SUFFIXES):
        return "excel"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    raise DataContractError(
        f"'{path.name}' has an unsupported suffix; expected one of "
        f"{', '.join(CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES)}. Export it as CSV, "
        "Excel or Parquet."
    )


# ---------------------------------------------------------------------------------------------
# encoding


def _raw_bytes(path: Path) -> bytes:
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            return handle.read()
    return path.read_bytes()


def sniff_encoding(data: bytes) -> str:
    """utf-8(-sig) when the bytes decode strictly, else cp1254 / cp1252 / latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    high = set(data) if len(data) < 4_000_000 else set(data[:4_000_000])
    candidates = ("cp1254", "cp1252") if high & _TURKISH_BYTES else ("cp1252", "cp1254")
    for encoding in candidates:
        try:
            data.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _decode(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except LookupError as err:
        raise DataContractError(
            f"'{path.name}': unknown encoding {encoding!r}; set encoding to one of utf-8, "
            "utf-8-sig, cp1254 (Turkish Windows), cp1252 (Western Windows), latin-1"
        ) from err
    except UnicodeDecodeError as err:
        guess = sniff_encoding(data)
        looks = {"cp1254": "cp1254 (Turkish Windows)", "cp1252": "cp1252 (Western Windows)"}
        raise DataContractError(
            f"could not decode {path.name} as {encoding.upper()} (byte 0x{data[err.start]:02x} "
            f"at offset {err.start}); it looks like {looks.get(guess, guess)}: set encoding: "
            f"{guess} in the mapping"
        ) from err


# ---------------------------------------------------------------------------------------------
# separator and decimal mark


def sniff_separator(sample: str) -> str:
    """csv.Sniffer over the sample among , ; TAB |; else the one splitting the header most."""
    lines = sample.splitlines()
    trimmed = "\n".join(lines[:50])
    try:
        found = csv.Sniffer().sniff(trimmed, delimiters="".join(SEPARATORS)).delimiter
        if found in SEPARATORS:
            return found
    except csv.Error:
        pass
    header = lines[0] if lines else ""
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ","


def sniff_decimal(frame: pd.DataFrame, sep: str | None = None) -> str:
    """',' when numeric-looking cells are written 1.234,56 or 12,5; else '.'."""
    comma = dot = 0
    for column in frame.columns:
        values = frame[column].dropna().astype(str).str.strip().head(500)
        comma += int(values.str.match(_DECIMAL_COMMA).sum())
        dot += int(values.str.match(_DECIMAL_DOT).sum())
    if comma > dot:
        return ","
    if comma and sep == ";" and comma == dot:
        return ","
    return "."


# ---------------------------------------------------------------------------------------------
# reading


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text; missing stays missing (Parquet and Excel come typed)."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        text = values.astype("str").where(values.notna())
        out[str(column)] = text
    return pd.DataFrame(out, index=frame.index)


def _read_csv(path: Path, options: ReadOptions, sniffed: list[str]) -> SourceRead:
    data = _raw_bytes(path)
    encoding = options.encoding
    if encoding is None:
        encoding = sniff_encoding(data)
        sniffed.append("encoding")
    text = _decode(data, encoding, path)
    if not text.strip():
        raise DataContractError(f"'{path.name}' is empty; expected a header row and data rows")
    sep = options.sep
    if sep is None:
        sep = sniff_separator(text[:SAMPLE_CHARS])
        sniffed.append("sep")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, **_CSV_OPTIONS)
    except (ValueError, pd.errors.ParserError) as err:
        raise DataContractError(
            f"could not read {path.name} as CSV with separator {sep!r} ({err}); set sep: in the "
            "mapping (one of ',', ';', '\\t', '|') or quote values that contain it"
        ) from err
    if not isinstance(frame.index, pd.RangeIndex):
        raise DataContractError(
            f"'{path.name}' has more fields per row than header columns with separator {sep!r}: "
            "values probably contain the separator (e.g. decimal commas with sep ','); set sep: "
            "';' in the mapping or quote those values"
        )
    if len(frame.columns) == 1 and any(s in str(frame.columns[0]) for s in SEPARATORS):
        raise DataContractError(
            f"'{path.name}' read as one column {str(frame.columns[0])!r} with separator "
            f"{sep!r}; set sep: in the mapping to the character between the column names"
        )
    return _finish(frame, path, "csv", encoding, sep, options, sniffed)


def _finish(frame: pd.DataFrame, path: Path, kind: str, encoding: str | None, sep: str | None,
            options: ReadOptions, sniffed: list[str]) -> SourceRead:
    frame.columns = [str(c).strip() for c in frame.columns]
    decimal = options.decimal
    if decimal is None:
        decimal = sniff_decimal(frame, sep)
        sniffed.append("decimal")
    return SourceRead(frame.reset_index(drop=True), path, kind, encoding, sep, decimal,
                      options.sheet, tuple(sniffed))


def read_source(path: Path | str, options: ReadOptions | None = None) -> SourceRead:
    """Read one CSV, Excel or Parquet file with every column as text."""
    path = Path(path)
    options = options or ReadOptions()
    kind = file_kind(path)
    if not path.is_file():
        raise DataContractError(f"'{path}' does not exist; check the path in the mapping "
                                "(relative paths start from the mapping file's folder)")
    sniffed: list[str] = []
    if kind == "csv":
        return _read_csv(path, options, sniffed)
    try:
        if kind == "excel":
            sheet = options.sheet if options.sheet is not None else 0
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False,
                                  na_values=[""])
        else:
            frame = _text_frame(pd.read_parquet(path))
    except (ValueError, OSError, KeyError) as err:
        fix = ("check the sheet: name in the mapping" if kind == "excel"
               else "check that it is a valid Parquet file")
        raise DataContractError(f"could not read {path.name} as {kind} ({err}); {fix}") from err
    return _finish(frame, path, kind, None, None, options, sniffed)


__all__ = ["ReadOptions", "SourceRead", "file_kind", "read_source", "sniff_decimal",
           "sniff_encoding", "sniff_separator"]

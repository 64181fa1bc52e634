"""The import mapping: how a company's own files become the contract's tables, as YAML.

A mapping names, per table (``customers``, ``events``, ``actions``), one or several source
files and says for each: how to read it (``encoding``, ``sep``, ``decimal``, ``sheet``), how
its times are written (``date_format``, ``dayfirst``, ``timezone``), which of its columns is
which contract column (``columns``), values that are the same on every row (``constants``,
e.g. every row of orders.csv is an ``order`` on ``web``), how its spellings map to the
contract's vocabulary (``values``, any language: ``{sipariş: order, mağaza: store}``), a
product of columns (``derive: {amount: "Quantity * UnitPrice"}``) and rows to leave out
(``filter``, counted). ``defaults`` sets read options for every source; ``locale: tr`` makes
category folding Turkish for every value (see ``features/normalize.py``). When there is no
customers file, ``customers: {from_events: true}`` takes each customer's first event as the
signup date. ``docs/import.md`` shows a whole mapping.

Parsing is strict: an unknown key, a value outside the vocabulary or a required column with
no source stops with a message naming the YAML key (``events[1].constants.channel``) and the
fix. Applying a mapping is ``features/importer.py``.
"""

from __future__ import annotations

import codecs
import re
import zoneinfo
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cxchurn.errors import ConfigError
from features import schema
from features.normalize import fold_category

TABLES = ("customers", "events", "actions")
READ_KEYS = ("encoding", "sep", "decimal", "sheet", "date_format", "dayfirst", "timezone")
SOURCE_KEYS = ("path", *READ_KEYS, "columns", "constants", "values", "derive", "filter")
TOP_KEYS = ("version", "locale", "defaults", *TABLES, "categories")
TIME_COLUMNS = {"customers": "signup_date", "events": "event_time", "actions": "action_time"}
NUMBER_COLUMNS = ("amount", "score", "duration", "cost")
VOCABULARY: dict[str, tuple[str, ...]] = {
    "event_type": tuple(schema.EVENT_TYPES), "channel": schema.CHANNELS,
}
CONDITIONS = ("not_blank", "starts_with", "not_starts_with", "in", "not_in")
_ALLOWED_COLUMNS = {"events": schema.EVENT_COLUMNS, "actions": schema.ACTION_COLUMNS}
_REQUIRED = {"customers": schema.CUSTOMER_COLUMNS, "events": schema.EVENT_REQUIRED,
             "actions": schema.ACTION_REQUIRED}
_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?$")
_SEP_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


@dataclass(frozen=True)
class Condition:
    """Keep a row only when its source ``column`` meets the test (tests are ANDed)."""

    column: str
    test: str  # one of CONDITIONS
    argument: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """One source file of one table and how its rows become contract rows."""

    table: str
    key: str  # where it sits in the YAML, e.g. events[1]
    path: Path
    encoding: str | None = None
    sep: str | None = None
    decimal: str | None = None
    sheet: str | int | None = None
    date_format: str | None = None
    dayfirst: bool = False
    timezone: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # contract column -> source column
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # folded spelling -> value
    derive: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> factors
    filter: tuple[Condition, ...] = ()

    def source_columns(self) -> list[str]:
        """Every source column the mapping refers to (checked against the file's header)."""
        used = list(self.columns.values()) + [c.column for c in self.filter]
        used += [f for factors in self.derive.values() for f in factors if not _NUMBER.match(f)]
        return list(dict.fromkeys(used))


@dataclass(frozen=True)
class Mapping:
    path: Path
    events: tuple[Source, ...]
    customers: tuple[Source, ...] = ()
    actions: tuple[Source, ...] = ()
    customers_from_events: bool = False
    customer_attributes: dict[str, str] = field(default_factory=dict)  # from event sources
    locale: str | None = None
    categories: tuple[str, ...] | None = None  # None: every text attribute of customers


# ---------------------------------------------------------------------------------------------
# parsing with messages that name the key


def _fail(where: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"mapping {where}: {problem}; {fix}")


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, MappingABC):
        raise _fail(where, f"expected a mapping of key: value, got {type(value).__name__}",
                    "indent the entries under the key (see docs/import.md)")
    return {str(k): v for k, v in value.items()}


def _keys(raw: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        raise _fail(f"{where}.{unknown[0]}", "unknown key", f"allowed keys: {', '.join(allowed)}")


def _text(value: Any, where: str) -> str:
    if isinstance(value, (dict, list)) or value is None or str(value).strip() == "":
        raise _fail(where, f"expected a text value, got {value!r}", "write a single value")
    return str(value).strip()


def _read_options(raw: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "encoding" in raw:
        out["encoding"] = _text(raw["encoding"], f"{where}.encoding")
        try:
            codecs.lookup(out["encoding"])
        except LookupError as err:
            raise _fail(f"{where}.encoding", f"unknown encoding {out['encoding']!r}",
                        "use utf-8, utf-8-sig, cp1254 (Turkish Windows), cp1252 or latin-1"
                        ) from err
    if "sep" in raw:
        sep = str(raw["sep"])
        sep = _SEP_NAMES.get(sep.lower(), sep)
        if len(sep) != 1:
            raise _fail(f"{where}.sep", f"expected one character, got {raw['sep']!r}",
                        "write e.g. ';' or tab")
        out["sep"] = sep
    if "decimal" in raw:
        if str(raw["decimal"]) not in (".", ","):
            raise _fail(f"{where}.decimal", f"expected '.' or ',', got {raw['decimal']!r}",
                        "write decimal: ',' for 12,5")
        out["decimal"] = str(raw["decimal"])
    if "sheet" in raw:
        out["sheet"] = raw["sheet"] if isinstance(raw["sheet"], int) else str(raw["sheet"])
    if "date_format" in raw:
        out["date_format"] = _text(raw["date_format"], f"{where}.date_format")
        if "%" not in out["date_format"]:
            raise _fail(f"{where}.date_format", f"{out['date_format']!r} has no strptime codes",
                        "write e.g. '%d.%m.%Y %H:%M' (day.month.year hour:minute)")
    if "dayfirst" in raw:
        if not isinstance(raw["dayfirst"], bool):
            raise _fail(f"{where}.dayfirst", f"expected true or false, got {raw['dayfirst']!r}",
                        "write dayfirst: true for 31.01.2025")
        out["dayfirst"] = raw["dayfirst"]
    if "timezone" in raw:
        out["timezone"] = _text(raw["timezone"], f"{where}.timezone")
        try:
            zoneinfo.ZoneInfo(out["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise _fail(f"{where}.timezone", f"unknown time zone {out['timezone']!r}",
                        "use an IANA name such as Europe/Istanbul or UTC") from err
    return out


def _check_vocabulary(column: str, value: str, where: str) -> None:
    allowed = VOCABULARY.get(column)
    if allowed is not None and value not in allowed:
        raise _fail(where, f"{value!r} is not a contract {column}",
                    f"use one of: {', '.join(allowed)}")


def _source(raw_value: Any, table: str, key: str, base: Path, defaults: dict[str, Any]
            ) -> Source:
    raw = _dict(raw_value, key)
    _keys(raw, SOURCE_KEYS, key)
    if "path" not in raw:
        raise _fail(f"{key}.path", "missing", "give the file, relative to the mapping file")
    options = {**defaults, **_read_options(raw, key)}
    allowed = _ALLOWED_COLUMNS.get(table)
    columns = {k: _text(v, f"{key}.columns.{k}")
               for k, v in _dict(raw.get("columns", {}), f"{key}.columns").items()}
    constants = {k: _text(v, f"{key}.constants.{k}")
                 for k, v in _dict(raw.get("constants", {}), f"{key}.constants").items()}
    derive = {}
    for column, expression in _dict(raw.get("derive", {}), f"{key}.derive").items():
        factors = tuple(f.strip() for f in _text(expression, f"{key}.derive.{column}").split("*"))
        if column not in NUMBER_COLUMNS or not all(factors):
            raise _fail(f"{key}.derive.{column}", "derive makes a number column as a product",
                        f"write e.g. amount: \"Quantity * UnitPrice\" (columns: "
                        f"{', '.join(NUMBER_COLUMNS)}; only * is supported)")
        derive[column] = factors
    for name, given in (("columns", columns), ("constants", constants), ("derive", derive)):
        bad = [c for c in given if allowed is not None and c not in allowed]
        if bad:
            raise _fail(f"{key}.{name}.{bad[0]}", f"'{bad[0]}' is not a {table} column",
                        f"use one of: {', '.join(allowed or ())}")
    for column, value in constants.items():
        _check_vocabulary(column, value, f"{key}.constants.{column}")
    values = {}
    for column, spellings in _dict(raw.get("values", {}), f"{key}.values").items():
        table_map = {}
        for spelling, target in _dict(spellings, f"{key}.values.{column}").items():
            target_text = _text(target, f"{key}.values.{column}.{spelling}")
            _check_vocabulary(column, target_text, f"{key}.values.{column}.{spelling}")
            table_map[fold_category(spelling)] = target_text
        values[column] = table_map
    for column in _REQUIRED[table]:
        if column not in columns and column not in constants and column not in derive:
            raise _fail(key, f"no source for the {table} column '{column}'",
                        f"add columns: {{{column}: <your column>}} or constants: "
                        f"{{{column}: <value>}}")
    filters = []
    for column, tests in _dict(raw.get("filter", {}), f"{key}.filter").items():
        for test, argument in _dict(tests, f"{key}.filter.{column}").items():
            if test not in CONDITIONS:
                raise _fail(f"{key}.filter.{column}.{test}", "unknown test",
                            f"use one of: {', '.join(CONDITIONS)}")
            args = tuple(str(a) for a in argument) if isinstance(argument, list) else (
                () if test == "not_blank" else (str(argument),))
            filters.append(Condition(column, test, args))
    path = Path(_text(raw["path"], f"{key}.path"))
    return Source(table=table, key=key, path=path if path.is_absolute() else base / path,
                  columns=columns, constants=constants, values=values, derive=derive,
                  filter=tuple(filters), **options)


def _sources(raw: Any, table: str, base: Path, defaults: dict[str, Any]) -> tuple[Source, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise _fail(table, "no sources", "list at least one file under it")
    return tuple(_source(item, table, f"{table}[{i}]", base, defaults)
                 for i, item in enumerate(items))


def parse_mapping(raw_value: Any, path: Path, data_dir: Path | None = None) -> Mapping:
    """A validated ``Mapping`` from parsed YAML; relative source paths start from
    ``data_dir`` (default: the mapping file's folder)."""
    raw = _dict(raw_value, "(top level)")
    _keys(raw, TOP_KEYS, "(top level)")
    base = data_dir if data_dir is not None else path.parent
    _keys(_dict(raw.get("defaults", {}), "defaults"), READ_KEYS, "defaults")
    defaults = _read_options(_dict(raw.get("defaults", {}), "defaults"), "defaults")
    if "events" not in raw:
        raise _fail("events", "missing", "list the file(s) holding the customers' events")
    locale = str(raw["locale"]).lower() if raw.get("locale") else None
    customers: tuple[Source, ...] = ()
    from_events = False
    attributes: dict[str, str] = {}
    cust = raw.get("customers")
    if isinstance(cust, MappingABC) and "from_events" in cust:
        spec = _dict(cust, "customers")
        _keys(spec, ("from_events", "attributes"), "customers")
        from_events = spec["from_events"] is True
        if not from_events:
            raise _fail("customers.from_events", "expected true", "or list customer files")
        attributes = {k: _text(v, f"customers.attributes.{k}") for k, v in
                      _dict(spec.get("attributes", {}), "customers.attributes").items()}
    elif cust is not None:
        customers = _sources(cust, "customers", base, defaults)
    else:
        raise _fail("customers", "missing", "list the customers file(s), or write customers: "
                    "{from_events: true} to take each customer's first event as signup")
    categories = raw.get("categories")
    return Mapping(
        path=path, events=_sources(raw["events"], "events", base, defaults),
        customers=customers,
        actions=_sources(raw["actions"], "actions", base, defaults) if raw.get("actions") else (),
        customers_from_events=from_events, customer_attributes=attributes, locale=locale,
        categories=tuple(str(c) for c in categories) if isinstance(categories, list) else None,
    )


def load_mapping(path: Path | str, data_dir: Path | None = None) -> Mapping:
    """Read and validate a mapping YAML file (``data_dir``: see ``parse_mapping``)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"mapping file '{path}' does not exist; write one with "
                          "`cxchurn import --suggest FILE... --out mapping.yaml`")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"mapping file '{path}' is not valid YAML ({err})") from err
    return parse_mapping(raw, path, data_dir)


__all__ = ["Condition", "Mapping", "Source", "load_mapping", "parse_mapping"]

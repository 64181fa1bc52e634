"""``cxchurn import --suggest``: propose a mapping from the files' headers and values.

For each file: sniff how to read it (``features/readers.py``), guess which table it is (by its
name and columns) and which column plays which role, by name (in English, Turkish, German,
Spanish...) and by values: an id has many distinct values, a time parses as dates, an amount
as numbers, an event type or channel has few distinct text values. Day-first or month-first
dates are told apart when a day above 12 appears; otherwise the guess is marked to check.
The result is commented YAML for the user to read and edit; nothing is trusted unseen.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features import schema
from features.importer import numbers_text
from features.normalize import fold_category
from features.readers import SourceRead, read_source

SAMPLE_ROWS = 5000
_DMY = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})(?:[ T](\d{1,2}:\d{2})(:\d{2})?)?$")

# role -> name fragments (folded to ASCII), strongest first
_NAMES: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer", "musteri", "client", "kunde", "cliente", "member", "abone",
                    "uye", "account", "hesap", "user", "kullanici"),
    "signup_date": ("signup", "sign_up", "regist", "kayit", "created", "join", "since",
                    "uyelik", "acilis", "start", "baslangic", "anmeld", "alta"),
    "event_time": ("date", "time", "tarih", "zaman", "datum", "fecha", "zeit", "when"),
    "amount": ("amount", "total", "tutar", "toplam", "revenue", "value", "price", "fiyat",
               "ucret", "betrag", "importe", "sum", "tl", "eur", "usd"),
    "score": ("score", "puan", "nps", "csat", "ces", "rating", "note", "bewert"),
    "duration": ("duration", "sure", "minute", "hour", "saat", "dakika", "delay", "gecikme"),
    "event_type": ("type", "event", "tur", "tip", "islem", "kind", "kategori", "category",
                   "art"),
    "channel": ("channel", "kanal", "source", "kaynak", "platform", "medium", "via"),
    "text": ("comment", "text", "feedback", "yorum", "aciklama", "note", "mesaj", "message",
             "kommentar"),
}
_TABLE_NAMES = {"customers": ("customer", "musteri", "client", "kunde", "uye", "abone"),
                "actions": ("action", "offer", "campaign", "kampanya", "teklif", "treatment",
                            "aksiyon")}
# contract value -> fragments of spellings (folded to ASCII) that suggest it
_EVENT_WORDS = {
    "order": ("order", "siparis", "purchase", "satis", "bestell", "pedido", "invoice", "fatura"),
    "return": ("return", "iade", "refund", "retour", "devolu"),
    "support_ticket": ("ticket", "destek", "talep", "support", "anfrage"),
    "complaint": ("complaint", "sikayet", "beschwerde", "queja"),
    "survey_nps": ("nps", "survey", "anket", "umfrage", "encuesta"),
    "survey_csat": ("csat", "memnuniyet", "satisf"),
    "delivery": ("deliver", "teslimat", "kargo", "shipping", "liefer", "envio"),
    "session": ("session", "oturum", "visit", "ziyaret", "login", "giris"),
    "feedback": ("feedback", "yorum", "geri bildirim", "review"),
    "cancellation": ("cancel", "iptal", "kundig", "churn", "abonelik sonu"),
    "payment_failed": ("payment fail", "odeme hata", "failed", "basarisiz"),
    "email_open": ("email open", "mail open", "eposta ac"),
}
_CHANNEL_WORDS = {
    "web": ("web", "online", "site", "internet"),
    "app": ("app", "mobil", "uygulama"),
    "store": ("store", "magaza", "sube", "shop", "laden", "tienda", "branch"),
    "call_centre": ("call", "phone", "telefon", "cagri", "hotline"),
    "email": ("email", "e-posta", "eposta", "mail"),
    "chat": ("chat", "canli", "whatsapp", "messenger"),
}


def ascii_fold(text: str) -> str:
    """Folded and stripped of accents, for matching names: 'Müşteri No' -> 'musteri no'."""
    folded = fold_category(text).replace("ı", "i")
    return "".join(c for c in unicodedata.normalize("NFKD", folded)
                   if not unicodedata.combining(c))


def _hint(name: str, role: str) -> int:
    """How strongly a column name suggests a role (0 = not at all)."""
    words = _NAMES[role]
    folded = ascii_fold(name)
    return next((len(words) - i for i, w in enumerate(words) if w in folded), 0)


def _word(value: str, table: dict[str, tuple[str, ...]]) -> str | None:
    folded = ascii_fold(value)
    if folded in table:
        return folded
    return next((target for target, words in table.items() if any(w in folded for w in words)),
                None)


def date_format_of(values: pd.Series) -> tuple[str | None, str]:
    """A strptime format for day/month dates in ``values`` and a note; (None, '') if ISO."""
    text = values.dropna().astype(str).str.strip().head(2000)
    if text.empty or pd.to_datetime(text, format="ISO8601", errors="coerce").notna().mean() > .8:
        return None, ""
    matches = [m for m in map(_DMY.match, text) if m]
    if len(matches) < 0.8 * len(text):
        return None, ""
    first = max(int(m.group(1)) for m in matches)
    second = max(int(m.group(3)) for m in matches)
    sep, year = matches[0].group(2), "%Y" if len(matches[0].group(4)) == 4 else "%y"
    timed = [m for m in matches if m.group(5)]
    clock = ""
    if len(timed) > len(matches) / 2:
        clock = " %H:%M:%S" if timed[0].group(6) else " %H:%M"
    day_first = f"%d{sep}%m{sep}{year}{clock}"
    if first > 12:
        return day_first, "day first: a day above 12 appears first"
    if second > 12:
        return f"%m{sep}%d{sep}{year}{clock}", "month first: a day above 12 appears second"
    return day_first, "CHECK: no day above 12 in the sample, day-first assumed"


@dataclass
class Guess:
    """What one file looks like and what it is probably for."""

    read: SourceRead
    table: str
    columns: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)


def _is_dates(values: pd.Series) -> bool:
    text = values.dropna().astype(str).str.strip().head(2000)
    if text.empty:
        return False
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce").notna().mean()
    return bool(iso > .8 or text.str.match(_DMY).mean() > .8)


def _is_numbers(values: pd.Series, decimal: str) -> bool:
    text = numbers_text(values.dropna().head(2000), decimal)
    return not text.empty and bool(pd.to_numeric(text, errors="coerce").notna().mean() > .9)


def _pick(frame: pd.DataFrame, role: str, ok: list[str], need_hint: bool = True) -> str | None:
    scored = sorted(((_hint(c, role), i, c) for i, c in enumerate(ok)), key=lambda t: (-t[0], t[1]))
    if not scored or (need_hint and scored[0][0] == 0):
        return None
    return scored[0][2]


def guess_file(path: Path) -> Guess:
    """Sniff one file and guess its table and column roles."""
    read = read_source(path)
    frame = read.frame.head(SAMPLE_ROWS)
    name = ascii_fold(path.name)
    named = _word(path.stem, _EVENT_WORDS)  # orders.csv, destek_talepleri.csv ...
    table = "events" if named else next(
        (t for t, words in _TABLE_NAMES.items() if any(w in name for w in words)), "events")
    cols = list(frame.columns)
    dates = [c for c in cols if _is_dates(frame[c])]
    numbers = [c for c in cols if c not in dates and _is_numbers(frame[c], read.decimal)]
    distinct = {c: frame[c].nunique() for c in cols}
    n = max(len(frame), 1)
    ids = [c for c in cols if c not in dates and distinct[c] > 1]
    guess = Guess(read, table)
    cid = _pick(frame, "customer_id", ids) or next(
        (c for c in ids if re.search(r"(^|[^a-z])(id|no|kod|code|nr)([^a-z]|$)", ascii_fold(c))),
        None)
    if cid:
        guess.columns["customer_id"] = cid
        guess.notes["customer_id"] = f"{distinct[cid]:,} distinct in {len(frame):,} rows"
    if (table == "events" and not named and cid and distinct[cid] == n
            and _pick(frame, "signup_date", dates)):
        guess.table = table = "customers"  # one row per id and a signup-like date
    time_role = {"customers": "signup_date", "events": "event_time",
                 "actions": "action_time"}[table]
    when = _pick(frame, "signup_date" if table == "customers" else "event_time", dates,
                 need_hint=False)
    if when:
        guess.columns[time_role] = when
        guess.date_format, note = date_format_of(frame[when])
        guess.notes[time_role] = note or "ISO 8601"
    if table == "customers":  # the other columns pass through as static attributes
        for c in cols:
            if c not in guess.columns.values():
                guess.columns[re.sub(r"\W+", "_", ascii_fold(c)).strip("_") or c] = c
    if table != "events":
        return guess
    for role in ("amount", "score", "duration"):
        chosen = _pick(frame, role, [c for c in numbers if c not in guess.columns.values()])
        if chosen:
            guess.columns[role] = chosen
    texts = [c for c in cols if c not in dates and c not in numbers
             and c not in guess.columns.values()]
    few = [c for c in texts if 0 < distinct[c] <= 30 and (n < 50 or distinct[c] <= n / 5)]
    for role, words in (("event_type", _EVENT_WORDS), ("channel", _CHANNEL_WORDS)):
        chosen = _pick(frame, role, [c for c in few if c not in guess.columns.values()])
        if chosen:
            guess.columns[role] = chosen
            spellings = sorted(map(str, frame[chosen].dropna().unique()))
            by_level = {fold_category(s): s for s in reversed(spellings)}  # one per level
            guess.values[role] = {s: _word(s, words) for s in sorted(by_level.values())}
        else:
            constant = _word(path.stem, words) or ("web" if role == "channel" else "order")
            guess.constants[role] = constant
    chosen = _pick(frame, "text", [c for c in texts if c not in guess.columns.values()])
    if chosen:
        guess.columns["text"] = chosen
    return guess


# ---------------------------------------------------------------------------------------------
# writing commented YAML


def _q(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _source_lines(guess: Guess, base: Path) -> list[str]:
    read = guess.read
    try:
        where = os.path.relpath(read.path.resolve(), base.resolve())
    except ValueError:
        where = str(read.path.resolve())
    lines = [f"  - path: {_q(where)}"]
    if read.kind == "csv":
        how = "sniffed" if "encoding" in read.sniffed else "stated"
        lines.append(f"    encoding: {read.encoding}        # {how}")
        lines.append(f"    sep: {_q(read.sep)}")
    if read.kind == "excel":
        lines.append("    sheet: 0                 # sheet name or position")
    lines.append(f"    decimal: {_q(read.decimal)}")
    if guess.date_format:
        time_note = next((v for k, v in guess.notes.items() if k.endswith(("_time", "_date"))), "")
        lines.append(f"    date_format: {_q(guess.date_format)}   # {time_note}")
    lines.append("    # timezone: Europe/Istanbul   # zone of times written without an offset; "
                 "default UTC")
    lines.append("    columns:                  # contract column: your column")
    for column, source in guess.columns.items():
        note = guess.notes.get(column)
        if note and not column.endswith(("_time", "_date")):
            lines.append(f"      {column}: {_q(source)}   # {note}")
        else:
            lines.append(f"      {column}: {_q(source)}")
    if guess.constants:
        lines.append("    constants:                # the same on every row (guessed from the "
                     "file name: check)")
        lines += [f"      {k}: {v}" for k, v in guess.constants.items()]
    if guess.values:
        lines.append("    values:                   # your spelling: contract value")
    for column, spellings in guess.values.items():
        allowed = ", ".join(schema.EVENT_TYPES if column == "event_type" else schema.CHANNELS)
        lines.append(f"      {column}:                # allowed: {allowed}")
        for spelling, target in spellings.items():
            if target:
                lines.append(f"        {_q(spelling)}: {target}")
            else:
                lines.append(f"        # {_q(spelling)}: ?   # no guess: map it, or its rows "
                             "are quarantined")
    return lines


def suggest_mapping(paths: list[Path], out: Path | None = None) -> str:
    """Commented YAML proposing a mapping for ``paths`` (paths relative to ``out``'s folder)."""
    base = (out.parent if out is not None else Path.cwd())
    guesses = [guess_file(Path(p)) for p in paths]
    lines = ["# cxchurn import mapping, suggested from the files' headers and values.",
             "# Read every line, fix what is wrong, then run:",
             "#   cxchurn import --mapping <this file> --out <folder>",
             "# Keys: docs/import.md. Rows that cannot be mapped are quarantined, never dropped.",
             "version: 1",
             "# locale: tr                  # Turkish case folding for every category value"]
    for table in ("customers", "events", "actions"):
        mine = [g for g in guesses if g.table == table]
        if not mine and table == "customers":
            lines += ["customers:                    # no customers file given:",
                      "  from_events: true           # signup = each customer's first event"]
            continue
        if not mine:
            continue
        lines.append(f"{table}:")
        for guess in mine:
            lines += _source_lines(guess, base)
            if table == "actions" and "action_type" not in guess.columns:
                lines.append("    # constants: {action_type: loyalty_offer}   # name the action")
    return "\n".join(lines) + "\n"


__all__ = ["Guess", "ascii_fold", "date_format_of", "guess_file", "suggest_mapping"]

"""Lexicons for the simple text-feedback signals, English and Turkish, as data.

Why stems and a regular expression: feedback arrives in both languages and Turkish is
agglutinative ("gecikti", "gecikme", "gecikmeli" share the stem "gecik"), so a word matches
when it STARTS with a stem. The pattern is bound as a SQL parameter (never pasted into SQL)
and uses ``\\p{L}`` rather than ``\\b`` because RE2 (DuckDB) and Java (Spark) treat ``\\b`` as
ASCII-only, which would miss words starting with "ş" or "ç". Texts are lower-cased in SQL
before matching; the stems are lower case.
"""

from __future__ import annotations

import re
from typing import Final

LEXICONS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "negative": {
        "en": ("late", "delay", "slow", "never arrived", "broken", "damaged", "wrong",
               "rude", "terrible", "awful", "worst", "bad", "disappoint", "angry", "annoy",
               "useless", "refund", "cancel", "complain", "problem", "issue", "expensive",
               "overpriced", "waste", "frustrat", "unhappy", "poor", "horrible"),
        "tr": ("geç", "gecik", "yavaş", "bozuk", "hasarlı", "yanlış", "kaba", "berbat",
               "kötü", "rezalet", "hayal kırıklığı", "sinir", "iade", "iptal", "şikayet",
               "şikâyet", "sorun", "pahalı", "memnun değil", "mutsuz", "ulaşmadı", "gelmedi",
               "beklettiler", "saçma"),
    },
    "positive": {
        "en": ("great", "excellent", "fast", "quick", "love", "thank", "happy", "perfect",
               "amazing", "good", "helpful", "recommend", "satisf", "friendly", "easy"),
        "tr": ("harika", "mükemmel", "hızlı", "teşekkür", "memnun", "süper", "güzel",
               "iyi", "tavsiye", "yardımcı", "kolay", "başarılı", "sevdim"),
    },
}


def stems(signal: str) -> tuple[str, ...]:
    """All stems of one signal, every language, longest first (so longer phrases win)."""
    words = {w.lower() for lang in LEXICONS[signal].values() for w in lang}
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def pattern(signal: str) -> str:
    """A regular expression (RE2 and Java compatible) matching any stem at a word start."""
    alternatives = "|".join(re.escape(w).replace("\\ ", " ") for w in stems(signal))
    return f"(^|[^\\p{{L}}])({alternatives})"


def matches_sql(pattern_ref: str) -> str:
    """SQL that is TRUE when the event's ``text`` matches the pattern bound as ``pattern_ref``
    (FALSE without text): one expression for the compiled query and the live path's flags."""
    return f"COALESCE(REGEXP_MATCHES(LOWER(text), {pattern_ref}), FALSE)"

"""Turkish descriptions of features, built from the spec's structure rather than kept by hand.

The English description is written in each feature spec; a Turkish one per feature would be
a second hand-kept list that drifts when specs change. Instead the Turkish text is composed
from what the spec declares (event types, aggregation, window, filter, channel, text signal),
so any new or tuned spec gets a Turkish description for free; a decayed feature reads as what
it sums up ("son dönemdeki geç kalan teslimat yoğunluğu"), never as its half-life or shape.
Only the vocabulary (event types, value columns, channels, categorical values) is listed here
(labels of customer attributes outside the specs are in the message catalogue,
``serving.messages``), and a test checks every event type and channel of
``features/schema.py`` has a word.

Turkish suffixes depend on the word they attach to, so the templates put variable words only
in positions that need no suffix ("son 90 günde geç kalan teslimat sayısı").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from features import schema
from features.spec import (
    AggregateSpec,
    BtydSpec,
    FeatureSpec,
    Filter,
    NpsCategorySpec,
    TrendSpec,
)

EVENT_NOUNS: Final[Mapping[str, str]] = {
    "order": "sipariş",
    "delivery": "teslimat",
    "return": "iade",
    "support_ticket": "destek talebi",
    "ticket_reopened": "yeniden açılan destek talebi",
    "complaint": "resmi şikâyet",
    "survey_nps": "NPS yanıtı",
    "survey_csat": "CSAT yanıtı",
    "survey_ces": "müşteri efor puanı yanıtı",
    "session": "web veya uygulama oturumu",
    "email_open": "açılan pazarlama e-postası",
    "price_change": "fiyat değişikliği",
    "payment_failed": "başarısız ödeme",
    "feedback": "yazılı geri bildirim",
    "cancellation": "iptal",
}
ACTIVITY_NOUN: Final = "etkinlik"

# What a value column means for an event type (see features/schema.py EVENT_TYPES).
VALUE_NOUNS: Final[Mapping[tuple[str, str], str]] = {
    ("order", "amount"): "sipariş tutarı",
    ("return", "amount"): "iade edilen tutar",
    ("delivery", "duration"): "teslimat gecikmesi (gün)",
    ("support_ticket", "duration"): "destek talebi çözüm süresi (saat)",
    ("session", "duration"): "oturum süresi (dakika)",
    ("price_change", "amount"): "aylık fiyat değişikliği",
    ("payment_failed", "amount"): "ödenmeyen tutar",
    ("survey_nps", "score"): "NPS puanı",
    ("survey_csat", "score"): "CSAT puanı",
    ("survey_ces", "score"): "müşteri efor puanı",
}
COLUMN_NOUNS: Final[Mapping[str, str]] = {"amount": "tutar", "score": "puan", "duration": "süre"}
# The same columns in a filter condition: a short noun and the unit after the number.
FILTER_NOUNS: Final[Mapping[tuple[str, str], tuple[str, str]]] = {
    ("delivery", "duration"): ("gecikme", " gün"),
    ("support_ticket", "duration"): ("çözüm süresi", " saat"),
    ("session", "duration"): ("süre", " dakika"),
}

# Conditions that read better as one adjective than as "(column > value)".
FILTER_ADJECTIVES: Final[Mapping[tuple[str, Filter], str]] = {
    ("delivery", Filter("duration", ">", 0.0)): "geç kalan",
    ("price_change", Filter("amount", ">", 0.0)): "artış yönündeki",
    ("price_change", Filter("amount", "<", 0.0)): "indirim yönündeki",
}
OPERATOR_SIGNS: Final[Mapping[str, str]] = {
    ">": ">", ">=": "≥", "<": "<", "<=": "≤", "=": "=", "!=": "≠"}

CHANNELS: Final[Mapping[str, str]] = {
    "web": "web", "app": "mobil uygulama", "store": "mağaza", "call_centre": "çağrı merkezi",
    "email": "e-posta", "chat": "canlı sohbet",
}
TEXT_SIGNALS: Final[Mapping[str, str]] = {
    "negative": "olumsuz kelimeler içeren", "positive": "olumlu kelimeler içeren"}

# Categorical feature values (nps_category and static attributes); other values (e.g. city
# names) are shown as they are.
VALUES: Final[Mapping[str, str]] = {
    "detractor": "kötüleyen", "passive": "pasif", "promoter": "destekleyen",
    "basic": "temel", "standard": "standart", "premium": "premium",
    "consumer": "bireysel", "family": "aile", "business": "kurumsal",
    "monthly": "aylık", "annual": "yıllık", **CHANNELS,
}

TREND_OPS: Final[Mapping[str, str]] = {
    "ratio": "{a} / {b}",
    "rate_ratio": "{a} / {b} (günlük hıza göre)",
    "difference": "{a} eksi {b}",
}


def _number(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def _event_noun(spec: AggregateSpec) -> str:
    types = spec.event_types
    if len(types) == 1:
        return EVENT_NOUNS.get(types[0], types[0].replace("_", " "))
    if set(types) == set(schema.ACTIVITY_EVENT_TYPES):
        return ACTIVITY_NOUN
    return " veya ".join(EVENT_NOUNS.get(t, t.replace("_", " ")) for t in types)


def _value_noun(spec: AggregateSpec, column: str) -> str:
    if len(spec.event_types) == 1:
        found = VALUE_NOUNS.get((spec.event_types[0], column))
        if found is not None:
            return found
    return f"{_event_noun(spec)} {COLUMN_NOUNS.get(column, column)}"


def _condition(spec: AggregateSpec) -> tuple[str, str]:
    """(adjective before the noun, parenthetical after it) for the filter and text signal."""
    adjectives, notes = [], []
    if spec.text_signal is not None:
        adjectives.append(TEXT_SIGNALS.get(spec.text_signal, spec.text_signal))
    f = spec.filter
    if f is not None:
        event = spec.event_types[0] if len(spec.event_types) == 1 else ""
        adjective = FILTER_ADJECTIVES.get((event, Filter(f.column, f.op, float(f.value))))
        if adjective is not None:
            adjectives.append(adjective)
        else:
            column, unit = FILTER_NOUNS.get((event, f.column),
                                            (COLUMN_NOUNS.get(f.column, f.column), ""))
            notes.append(f"{column} {OPERATOR_SIGNS.get(f.op, f.op)} {_number(f.value)}{unit}")
    return " ".join(adjectives), (f" ({', '.join(notes)})" if notes else "")


def _window(spec: AggregateSpec) -> str:
    return f"son {spec.window_days} günde " if spec.window_days is not None else ""


def _aggregate(spec: AggregateSpec) -> str:
    adjective, note = _condition(spec)
    noun = f"{adjective} {_event_noun(spec)}".strip()
    window, agg = _window(spec), spec.aggregation
    value = _value_noun(spec, spec.column) if spec.column else ""
    if agg == "count":
        return f"{window or 'şimdiye kadarki '}{noun} sayısı{note}"
    if agg == "days_since_last":
        return f"son {noun} üzerinden geçen gün sayısı{note}"
    if agg == "share":
        if spec.channel is not None:
            return (f"{window}{CHANNELS.get(spec.channel, spec.channel)} kanalının "
                    f"{_event_noun(spec)} içindeki payı")
        return f"{window}{noun} oranı{note}"
    if agg == "change":
        return f"en son {value} ile bir önceki arasındaki fark"
    if agg == "last":
        return f"en son {value}{note}"
    if agg in ("sum", "mean", "min", "max"):
        word = {"sum": "toplam", "mean": "ortalama", "min": "en düşük", "max": "en yüksek"}[agg]
        scope = f" ({adjective} {_event_noun(spec)})" if adjective else ""
        return f"{window or 'şimdiye kadarki '}{word} {value}{scope}{note}"
    if agg in HISTORY_TR:
        return HISTORY_TR[agg].format(noun=noun)
    # decayed: what the feature sums up, never how (the agent reads the raw facts instead)
    if agg == "decayed_mean":
        return f"son dönemdeki ortalama {value}{note}"
    return f"son dönemdeki {noun}{note} yoğunluğu"


# The purchase-history (BTYD) statistics, with the event noun ("sipariş") filled in.
HISTORY_TR: Final[Mapping[str, str]] = {
    "repeat_count": "şimdiye kadarki tekrar {noun} sayısı",
    "days_since_first": "ilk {noun} üzerinden geçen gün sayısı",
    "active_span": "ilk ve son {noun} arasında geçen gün sayısı",
    "gap_mean": "iki {noun} arasında geçen ortalama gün sayısı",
    "gap_cv": "{noun} aralıklarının düzensizliği",
}


def describe_tr(spec: FeatureSpec, by_name: Mapping[str, FeatureSpec]) -> str:
    """What the feature measures, in Turkish, composed from the spec's fields."""
    if isinstance(spec, BtydSpec):
        noun = EVENT_NOUNS.get(spec.event_types[0], spec.event_types[0])
        if spec.output == "p_alive":
            return f"satın alma geçmişine göre müşterinin hâlâ {noun} verme olasılığı"
        return (f"satın alma geçmişine göre önümüzdeki {spec.horizon_days} günde beklenen "
                f"{noun} sayısı")
    if isinstance(spec, TrendSpec):
        a, b = (describe_tr(by_name[i], by_name) for i in spec.inputs)
        return TREND_OPS.get(spec.op or "", "{a} / {b}").format(a=a, b=b)
    if isinstance(spec, NpsCategorySpec):
        source = describe_tr(by_name[spec.inputs[0]], by_name)
        return f"kötüleyen, pasif ya da destekleyen (kaynak: {source})"
    return _aggregate(spec)


def value_tr(value: str) -> str:
    """A categorical value in Turkish where it is a known word, else unchanged."""
    return VALUES.get(value, value)


def event_noun_tr(spec: AggregateSpec) -> str:
    """What the spec counts, with its condition: "geç kalan teslimat"."""
    adjective, note = _condition(spec)
    return f"{adjective} {_event_noun(spec)}".strip() + note


def value_noun_tr(spec: AggregateSpec) -> str:
    """What the spec's value column measures: "NPS puanı", "sipariş tutarı"."""
    return _value_noun(spec, spec.column) if spec.column else _event_noun(spec)

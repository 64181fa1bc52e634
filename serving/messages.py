"""Every English and Turkish string the retention page, its exports and the reasons show.

One catalogue, so a translator edits one file and a test checks that every entry has both
languages. ``MESSAGES[section][key][lang]``; code reads an entry with ``text`` or a section
with ``section``, and the page's templates get ``for_lang(lang)`` as ``msg``
(``{{ msg.ui.title }}``, ``{{ msg.band.get(b, b) }}``). Jinja escapes the values when it renders
them, so an entry is plain text, never HTML.

The Turkish descriptions of features are composed from the feature specs
(``serving.reasons.turkish`` keeps that vocabulary), not listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

LANGUAGES: Final = ("en", "tr")
DEFAULT_LANG: Final = "en"

Entries = Mapping[str, Mapping[str, str]]

MESSAGES: Final[Mapping[str, Entries]] = {
    # Page chrome, filters, the plan summary, the customer view and the sign-in form.
    "ui": {
        "title": {"en": "Customers at risk", "tr": "Risk altındaki müşteriler"},
        "filters": {"en": "Filters", "tr": "Filtreler"},
        "all": {"en": "All", "tr": "Tümü"},
        "min_value": {"en": "Minimum value", "tr": "En düşük değer"},
        "show": {"en": "Rows", "tr": "Satır"},
        "apply": {"en": "Apply", "tr": "Uygula"},
        "reset": {"en": "Reset", "tr": "Sıfırla"},
        "export_csv": {"en": "Export CSV", "tr": "CSV indir"},
        "export_xlsx": {"en": "Export Excel", "tr": "Excel indir"},
        "showing": {"en": "Showing {n} of {total} customers",
                    "tr": "{total} müşteriden {n} gösteriliyor"},
        "model": {"en": "Model", "tr": "Model"},
        "snapshot": {"en": "Data as of", "tr": "Veri tarihi"},
        "planned": {"en": "planned spend", "tr": "planlanan harcama"},
        "saves": {"en": "expected saves", "tr": "beklenen kurtarılan"},
        "with_action": {"en": "customers with an action", "tr": "aksiyon önerilen müşteri"},
        "budget_of": {"en": "of a {budget} budget", "tr": "{budget} bütçeden"},
        "no_budget": {"en": "no budget limit", "tr": "bütçe sınırı yok"},
        "aim_value": {"en": "aim: most value saved", "tr": "hedef: en çok değer"},
        "aim_customers": {"en": "aim: most customers saved", "tr": "hedef: en çok müşteri"},
        "history": {"en": "Experience history", "tr": "Deneyim geçmişi"},
        "explanation": {"en": "Why this customer may leave",
                        "tr": "Bu müşteri neden ayrılabilir"},
        "raises": {"en": "raises risk", "tr": "riski artırır"},
        "lowers": {"en": "lowers risk", "tr": "riski azaltır"},
        "record": {"en": "Record action and outcome", "tr": "Aksiyonu ve sonucu kaydet"},
        "action": {"en": "Action", "tr": "Aksiyon"},
        "when": {"en": "When", "tr": "Ne zaman"},
        "by": {"en": "Recorded by", "tr": "Kaydeden"},
        "result": {"en": "Result", "tr": "Sonuç"},
        "note": {"en": "Note", "tr": "Not"},
        "save": {"en": "Save", "tr": "Kaydet"},
        "recorded": {"en": "Outcome recorded.", "tr": "Sonuç kaydedildi."},
        "outcomes": {"en": "Recorded actions", "tr": "Kaydedilen aksiyonlar"},
        "none_yet": {"en": "Nothing recorded yet.", "tr": "Henüz kayıt yok."},
        "back": {"en": "Back to the list", "tr": "Listeye dön"},
        "no_history": {"en": "No events before the snapshot.",
                       "tr": "Bu tarihten önce olay yok."},
        "script": {"en": "What to say", "tr": "Ne söylenmeli"},
        "alternatives": {"en": "Actions worth their cost (expected net value)",
                         "tr": "Maliyetine değer aksiyonlar (beklenen net değer)"},
        "expected_value": {"en": "EV", "tr": "EV"},
        "sign_in": {"en": "Sign in", "tr": "Giriş"},
        "sign_out": {"en": "Sign out", "tr": "Çıkış"},
        "api_key": {"en": "API key", "tr": "API anahtarı"},
        "not_ready": {"en": "The service is not ready", "tr": "Servis hazır değil"},
    },
    # Column headers of the list and of the CSV/Excel exports (keys are the export's columns).
    "header": {
        "rank": {"en": "Rank", "tr": "Sıra"},
        "customer_id": {"en": "Customer", "tr": "Müşteri"},
        "segment": {"en": "Segment", "tr": "Segment"},
        "p_churn": {"en": "Churn probability", "tr": "Ayrılma olasılığı"},
        "risk_band": {"en": "Risk band", "tr": "Risk grubu"},
        "value": {"en": "Customer value", "tr": "Müşteri değeri"},
        "reasons": {"en": "Top reasons", "tr": "Başlıca nedenler"},
        "action": {"en": "Suggested action", "tr": "Önerilen aksiyon"},
        "status": {"en": "Status", "tr": "Durum"},
        "cost": {"en": "Cost", "tr": "Maliyet"},
        "expected_net_value": {"en": "Expected net value", "tr": "Beklenen net değer"},
    },
    # What the team does with a row (the statuses of ``serving.retention.policy``).
    "status": {
        "selected": {"en": "contact", "tr": "iletişime geç"},
        "over_budget": {"en": "over budget", "tr": "bütçe dışı"},
        "no_positive_action": {"en": "no action worth its cost",
                               "tr": "maliyetine değer aksiyon yok"},
        "holdout": {"en": "control group: do not contact",
                    "tr": "kontrol grubu: iletişime geçmeyin"},
    },
    # Recorded outcomes (``serving.retention.outcomes.RESULTS``).
    "result": {
        "pending": {"en": "pending", "tr": "bekliyor"},
        "accepted": {"en": "accepted the offer", "tr": "teklifi kabul etti"},
        "declined": {"en": "declined", "tr": "reddetti"},
        "no_answer": {"en": "no answer", "tr": "ulaşılamadı"},
        "retained": {"en": "stayed", "tr": "kaldı"},
        "churned": {"en": "left", "tr": "ayrıldı"},
    },
    "band": {
        "high": {"en": "high", "tr": "yüksek"},
        "medium": {"en": "medium", "tr": "orta"},
        "low": {"en": "low", "tr": "düşük"},
    },
    # One label per driver family of features.families.FAMILIES (a test checks none is missing).
    "family": {
        "delivery": {"en": "Delivery experience", "tr": "Teslimat deneyimi"},
        "service": {"en": "Customer service (tickets, complaints)",
                    "tr": "Müşteri hizmetleri (destek talepleri, şikâyetler)"},
        "survey": {"en": "Survey answers and feedback",
                   "tr": "Anket yanıtları ve geri bildirim"},
        "price": {"en": "Price", "tr": "Fiyat"},
        "billing": {"en": "Payments", "tr": "Ödemeler"},
        "plan": {"en": "Plan", "tr": "Paket"},
        "engagement": {"en": "Purchases and usage", "tr": "Alışveriş ve kullanım"},
        "contract": {"en": "Contract", "tr": "Sözleşme"},
        "tenure": {"en": "Time as a customer", "tr": "Müşteri olma süresi"},
        "profile": {"en": "Customer profile", "tr": "Müşteri profili"},
        "other": {"en": "Other", "tr": "Diğer"},
    },
    # The parts of a reason sentence around the family and the feature's description.
    "reason": {
        "raises": {"en": "this raises the churn risk", "tr": "bu, ayrılma riskini artırıyor"},
        "lowers": {"en": "this lowers the churn risk", "tr": "bu, ayrılma riskini azaltıyor"},
        "no_data": {"en": "no data", "tr": "veri yok"},
        "is": {"en": "is", "tr": "="},
    },
    # Customer attributes outside the feature specs (others read as their column name).
    "attribute": {
        "tenure_days": {"en": "days as a customer", "tr": "müşteri olunan gün sayısı"},
        "monthly_price": {"en": "monthly price", "tr": "aylık fiyat"},
        "price": {"en": "price", "tr": "fiyat"},
        "plan": {"en": "plan", "tr": "paket"},
        "segment": {"en": "customer segment", "tr": "müşteri segmenti"},
        "contract": {"en": "contract type", "tr": "sözleşme türü"},
        "region": {"en": "region", "tr": "bölge"},
        "preferred_channel": {"en": "preferred channel", "tr": "tercih edilen kanal"},
    },
    # The customer timeline: one label per event type of features/schema.py ...
    "event": {
        "order": {"en": "Order", "tr": "Sipariş"},
        "delivery": {"en": "Delivery", "tr": "Teslimat"},
        "return": {"en": "Return", "tr": "İade"},
        "support_ticket": {"en": "Support ticket", "tr": "Destek talebi"},
        "ticket_reopened": {"en": "Ticket reopened", "tr": "Talep yeniden açıldı"},
        "complaint": {"en": "Complaint", "tr": "Şikâyet"},
        "survey_nps": {"en": "NPS survey", "tr": "NPS anketi"},
        "survey_csat": {"en": "CSAT survey", "tr": "CSAT anketi"},
        "survey_ces": {"en": "Effort survey", "tr": "Efor anketi"},
        "session": {"en": "Session", "tr": "Oturum"},
        "email_open": {"en": "Email opened", "tr": "E-posta açıldı"},
        "price_change": {"en": "Price change", "tr": "Fiyat değişikliği"},
        "payment_failed": {"en": "Payment failed", "tr": "Ödeme başarısız"},
        "feedback": {"en": "Feedback", "tr": "Geri bildirim"},
        "cancellation": {"en": "Cancellation", "tr": "İptal"},
    },
    # ... and its detail ({n} is a whole number).
    "event_detail": {
        "days_late": {"en": "{n} days late", "tr": "{n} gün gecikti"},
        "on_time": {"en": "on time", "tr": "zamanında"},
        "resolved_in": {"en": "resolved in {n} hours", "tr": "{n} saatte çözüldü"},
        "score": {"en": "score {n}", "tr": "puan {n}"},
    },
}


def lang_or_default(lang: str | None) -> str:
    """``lang`` if the catalogue has it, else English (a page link with ``?lang=de``)."""
    return lang if lang in LANGUAGES else DEFAULT_LANG


def text(section_name: str, key: str, lang: str) -> str:
    """One entry in ``lang`` (``KeyError`` for an unknown section or key: a typo in code)."""
    return MESSAGES[section_name][key][lang_or_default(lang)]


def section(section_name: str, lang: str) -> dict[str, str]:
    """A whole section in ``lang``: key -> text."""
    lang = lang_or_default(lang)
    return {key: entry[lang] for key, entry in MESSAGES[section_name].items()}


def for_lang(lang: str) -> dict[str, dict[str, str]]:
    """Every section in ``lang``, for the templates (``msg.ui.title``, ``msg.status.holdout``)."""
    return {name: section(name, lang) for name in MESSAGES}


__all__ = ["DEFAULT_LANG", "LANGUAGES", "MESSAGES", "for_lang", "lang_or_default", "section",
           "text"]

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
        "act_by": {"en": "When to act", "tr": "Ne zaman harekete geçilmeli"},
        "name": {"en": "Name", "tr": "Ad"},
        "phone": {"en": "Phone", "tr": "Telefon"},
        "email": {"en": "E-mail", "tr": "E-posta"},
        "channel": {"en": "Preferred channel", "tr": "Tercih edilen kanal"},
        "owner": {"en": "Owner", "tr": "Sahibi"},
        "work_status": {"en": "Work status", "tr": "İş durumu"},
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
    # Work statuses of a customer (``serving.retention.assignments.STATUSES``).
    "work_status": {
        "new": {"en": "new", "tr": "yeni"},
        "contacted": {"en": "contacted", "tr": "arandı"},
        "won_back": {"en": "won back", "tr": "geri kazanıldı"},
        "lost": {"en": "lost", "tr": "kaybedildi"},
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
    # The alerts inbox (serving/alerts/): why an alert fired, and the Alerts tab.
    "alert": {
        "why_band_entered": {"en": "churn risk crossed into the {band} band: {old} -> {new}",
                             "tr": "ayrılma riski {band} gruba geçti: {old} -> {new}"},
        "why_band_new": {"en": "first score is in the {band} band: {new}",
                         "tr": "ilk skor {band} grupta: {new}"},
        "why_risk_rise": {"en": "churn risk rose by {rise} points: {old} -> {new}",
                          "tr": "ayrılma riski {rise} puan arttı: {old} -> {new}"},
        "why_detractor": {"en": "NPS answer {score} on {day}: call back within {hours} hours",
                          "tr": "{day} tarihinde NPS yanıtı {score}: {hours} saat içinde geri "
                                "arayın"},
        "why_complaint": {"en": "complaint on {day} from a customer worth {value}",
                          "tr": "{value} değerinde bir müşteriden {day} tarihinde şikâyet"},
        "tab": {"en": "Alerts", "tr": "Uyarılar"},
        "title": {"en": "Alerts to act on", "tr": "İlgilenilecek uyarılar"},
        "rule": {"en": "Rule", "tr": "Kural"},
        "why": {"en": "Why", "tr": "Neden"},
        "severity": {"en": "Severity", "tr": "Önem"},
        "created": {"en": "Raised", "tr": "Oluşturuldu"},
        "due": {"en": "Due", "tr": "Son tarih"},
        "state": {"en": "State", "tr": "Durum"},
        "owner": {"en": "Owner", "tr": "Sorumlu"},
        "overdue": {"en": "overdue", "tr": "gecikmiş"},
        "open": {"en": "open", "tr": "açık"},
        "assigned": {"en": "assigned", "tr": "atandı"},
        "resolved": {"en": "resolved", "tr": "çözüldü"},
        "active": {"en": "Open and assigned", "tr": "Açık ve atanmış"},
        "all": {"en": "All, with resolved", "tr": "Çözülenler dahil tümü"},
        "me": {"en": "Your name", "tr": "Adınız"},
        "assign_me": {"en": "Assign to me", "tr": "Bana ata"},
        "resolve": {"en": "Resolve", "tr": "Çöz"},
        "note": {"en": "What was done", "tr": "Ne yapıldı"},
        "none": {"en": "No alerts here.", "tr": "Burada uyarı yok."},
        "count": {"en": "{n} alerts, {overdue} overdue",
                  "tr": "{n} uyarı, {overdue} gecikmiş"},
        "need_me": {"en": "Write your name first, then assign.",
                    "tr": "Önce adınızı yazın, sonra atayın."},
        "webhook": {"en": "Webhook", "tr": "Webhook"},
    },
    # The list as a day's work: search, contacts, who owns a customer, pages, the cards.
    "work": {
        "search": {"en": "Search id or name", "tr": "Numara ya da ad ara"},
        "search_go": {"en": "Search", "tr": "Ara"},
        "show_contacted": {"en": "Also show customers contacted in the last {days} days "
                                 "({n} hidden)",
                           "tr": "Son {days} günde iletişim kurulan müşterileri de göster "
                                 "({n} gizli)"},
        "contacted_shown": {"en": "Customers contacted in the last {days} days are shown",
                            "tr": "Son {days} günde iletişim kurulan müşteriler gösteriliyor"},
        "hide_contacted": {"en": "Hide them", "tr": "Gizle"},
        "customers": {"en": "customers in this view", "tr": "bu görünümdeki müşteri"},
        "high_risk": {"en": "{n} high risk", "tr": "{n} yüksek riskli"},
        "mean_risk": {"en": "mean churn risk", "tr": "ortalama ayrılma riski"},
        "saves_range": {"en": "range {low} to {high}", "tr": "aralık {low} ile {high} arası"},
        "budget_used": {"en": "{share} of the budget", "tr": "bütçenin {share} kadarı"},
        "rows_of": {"en": "rows {first} to {last} of {total}",
                    "tr": "{total} satırdan {first} ile {last} arası"},
        "previous": {"en": "Previous", "tr": "Önceki"},
        "next": {"en": "Next", "tr": "Sonraki"},
        "no_rows": {"en": "No customer matches these filters.",
                    "tr": "Bu filtrelere uyan müşteri yok."},
        "contact": {"en": "Contact", "tr": "İletişim"},
        "owner": {"en": "Owner", "tr": "Sahibi"},
        "work_status": {"en": "Work status", "tr": "İş durumu"},
        "unowned": {"en": "nobody yet", "tr": "henüz kimse"},
        "agent": {"en": "Your name", "tr": "Adınız"},
        "claim": {"en": "Claim", "tr": "Üstlen"},
        "release": {"en": "Release", "tr": "Bırak"},
        "set_status": {"en": "Set status", "tr": "Durumu kaydet"},
        "claimed": {"en": "Saved.", "tr": "Kaydedildi."},
        "preferred": {"en": "prefers", "tr": "tercihi"},
        "effects": {"en": "Where the action effects come from",
                    "tr": "Aksiyon etkilerinin kaynağı"},
        "effects_note": {"en": "Expected saves are ranges: each effect is either the shipped "
                                "assumption (not tested on your customers) or learned from your "
                                "outcomes with a 95% interval.",
                         "tr": "Beklenen kurtarılanlar birer aralıktır: her etki ya hazır "
                               "gelen varsayımdır (müşterilerinizde denenmedi) ya da kendi "
                               "sonuçlarınızdan %95 aralıkla öğrenilmiştir."},
        "source_assumed": {"en": "assumed (shipped, not yet tested here)",
                           "tr": "varsayım (hazır gelen, burada denenmedi)"},
        "source_learned": {"en": "learned from {n} treated customers",
                           "tr": "{n} müşterinin sonuçlarından öğrenildi"},
        "effect_range": {"en": "effect {effect} (range {low} to {high})",
                         "tr": "etki {effect} (aralık {low} ile {high} arası)"},
        "saves_each": {"en": "saves {low} to {high} of a churn",
                       "tr": "ayrılmanın {low} ile {high} kadarını önler"},
    },
    # One label per driver family of features.families.FAMILIES (a test checks none is missing).
    # When to act (serving/timing.py): the at-risk list and the customer view.
    "timing": {
        "leave_act": {"en": "likely to leave within {days} days; act by {date}",
                      "tr": "{days} gün içinde ayrılması olası; en geç {date} tarihinde "
                            "harekete geçin"},
        "by_horizon": {"en": "Churn risk by horizon", "tr": "Süreye göre ayrılma riski"},
        "within": {"en": "within {days} days", "tr": "{days} gün içinde"},
    },
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
        # "{what}: {value}", the plain phrasing of one feature's own value
        "plain": {"en": "{what}: {value}", "tr": "{what}: {value}"},
        # a feature that sums up recent events, when the row's plain facts are not at hand
        "recent": {"en": "recent {what}", "tr": "son dönemdeki {what} yoğunluğu"},
        "recent_mean": {"en": "recent {what}", "tr": "son dönemdeki {what}"},
        "pace": {"en": "{what} in the last {recent} days at {value} times the pace of the "
                       "last {baseline} days",
                 "tr": "son {recent} gündeki {what} hızı, son {baseline} günün {value} katı"},
        "change": {"en": "{what}: last {recent} days against the last {baseline} days {value}",
                   "tr": "{what}: son {recent} gün, son {baseline} güne göre {value}"},
        "nps_group": {"en": "NPS group: {value}", "tr": "NPS grubu: {value}"},
        # The raw facts behind a driver family ({n} a number, {window} days); see
        # serving.reasons.facts. "_one" / "_zero" variants are used for 1 and 0.
        "fact_late_deliveries": {"en": "{n} late deliveries in the last {window} days",
                                 "tr": "son {window} günde {n} geç teslimat"},
        "fact_late_deliveries_one": {"en": "{n} late delivery in the last {window} days",
                                     "tr": "son {window} günde {n} geç teslimat"},
        "fact_delay_mean": {"en": "average delay {n} days", "tr": "ortalama gecikme {n} gün"},
        "fact_delay_max": {"en": "the longest {n} days late",
                           "tr": "en uzun gecikme {n} gün"},
        "fact_returns": {"en": "{n} returns in the last {window} days",
                         "tr": "son {window} günde {n} iade"},
        "fact_returns_one": {"en": "{n} return in the last {window} days",
                             "tr": "son {window} günde {n} iade"},
        "fact_tickets": {"en": "{n} support tickets in the last {window} days",
                         "tr": "son {window} günde {n} destek talebi"},
        "fact_tickets_one": {"en": "{n} support ticket in the last {window} days",
                             "tr": "son {window} günde {n} destek talebi"},
        "fact_slow_tickets": {"en": "{n} took over 48 hours to resolve",
                              "tr": "{n} talebin çözümü 48 saatten uzun sürdü"},
        "fact_ticket_hours": {"en": "resolved in {n} hours on average",
                              "tr": "ortalama çözüm süresi {n} saat"},
        "fact_reopenings": {"en": "{n} tickets reopened in the last {window} days",
                            "tr": "son {window} günde {n} talep yeniden açıldı"},
        "fact_reopenings_one": {"en": "{n} ticket reopened in the last {window} days",
                                "tr": "son {window} günde {n} talep yeniden açıldı"},
        "fact_complaints": {"en": "{n} formal complaints in the last {window} days",
                            "tr": "son {window} günde {n} resmi şikâyet"},
        "fact_complaints_one": {"en": "{n} formal complaint in the last {window} days",
                                "tr": "son {window} günde {n} resmi şikâyet"},
        "fact_last_complaint": {"en": "the last complaint {n} days ago",
                                "tr": "son şikâyet {n} gün önce"},
        "fact_nps_last": {"en": "last NPS score {n} out of 10",
                          "tr": "son NPS puanı 10 üzerinden {n}"},
        "fact_nps_low": {"en": "{n} NPS answers of 6 or less in the last {window} days",
                         "tr": "son {window} günde 6 veya altı {n} NPS yanıtı"},
        "fact_nps_low_one": {"en": "{n} NPS answer of 6 or less in the last {window} days",
                             "tr": "son {window} günde 6 veya altı {n} NPS yanıtı"},
        "fact_csat_last": {"en": "last CSAT score {n}", "tr": "son CSAT puanı {n}"},
        "fact_csat_min": {"en": "lowest CSAT score in the last {window} days {n}",
                          "tr": "son {window} günde en düşük CSAT puanı {n}"},
        "fact_ces_last": {"en": "last effort score {n} (1 easy, 7 hard)",
                          "tr": "son müşteri efor puanı {n} (1 kolay, 7 zor)"},
        "fact_negative_feedback": {
            "en": "{n} feedback messages with negative words in the last {window} days",
            "tr": "son {window} günde olumsuz kelimeler içeren {n} geri bildirim"},
        "fact_negative_feedback_one": {
            "en": "{n} feedback message with negative words in the last {window} days",
            "tr": "son {window} günde olumsuz kelimeler içeren {n} geri bildirim"},
        "fact_price_rises": {"en": "{n} price rises in the last {window} days",
                             "tr": "son {window} günde {n} fiyat artışı"},
        "fact_price_rises_one": {"en": "{n} price rise in the last {window} days",
                                 "tr": "son {window} günde {n} fiyat artışı"},
        "fact_price_change": {"en": "monthly price changed by {n} in the last {window} days",
                              "tr": "son {window} günde aylık fiyat değişimi {n}"},
        "fact_monthly_price": {"en": "monthly price {n}", "tr": "aylık fiyat {n}"},
        "fact_payment_failures": {"en": "{n} failed payments in the last {window} days",
                                  "tr": "son {window} günde {n} başarısız ödeme"},
        "fact_payment_failures_one": {"en": "{n} failed payment in the last {window} days",
                                      "tr": "son {window} günde {n} başarısız ödeme"},
        "fact_last_payment_failure": {"en": "the last failed payment {n} days ago",
                                      "tr": "son başarısız ödeme {n} gün önce"},
        "fact_orders": {"en": "{n} orders in the last {window} days",
                        "tr": "son {window} günde {n} sipariş"},
        "fact_orders_one": {"en": "{n} order in the last {window} days",
                            "tr": "son {window} günde {n} sipariş"},
        "fact_orders_zero": {"en": "no orders in the last {window} days",
                             "tr": "son {window} günde sipariş yok"},
        "fact_last_order": {"en": "the last order {n} days ago",
                            "tr": "son sipariş {n} gün önce"},
        "fact_sessions": {"en": "{n} web or app sessions in the last {window} days",
                          "tr": "son {window} günde {n} web veya uygulama oturumu"},
        "fact_sessions_one": {"en": "{n} web or app session in the last {window} days",
                              "tr": "son {window} günde {n} web veya uygulama oturumu"},
        "fact_sessions_zero": {"en": "no web or app sessions in the last {window} days",
                               "tr": "son {window} günde web veya uygulama oturumu yok"},
        "fact_last_session": {"en": "the last session {n} days ago",
                              "tr": "son oturum {n} gün önce"},
        "fact_email_opens": {"en": "{n} marketing emails opened in the last {window} days",
                             "tr": "son {window} günde açılan {n} pazarlama e-postası"},
        "fact_email_opens_one": {"en": "{n} marketing email opened in the last {window} days",
                                 "tr": "son {window} günde açılan {n} pazarlama e-postası"},
        "fact_email_opens_zero": {"en": "no marketing emails opened in the last {window} days",
                                  "tr": "son {window} günde açılan pazarlama e-postası yok"},
        "fact_tenure": {"en": "a customer for {n} days", "tr": "{n} gündür müşteri"},
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
    # What an ingest of live events did to a customer's score (POST /events).
    "live": {
        "change": {"en": "risk {old} -> {new}: {what}", "tr": "risk {old} -> {new}: {what}"},
        "first": {"en": "risk {new}: {what}", "tr": "risk {new}: {what}"},
        "gone": {"en": "no longer scored ({what}): not a customer at {cutoff}",
                 "tr": "artık puanlanmıyor ({what}): {cutoff} itibarıyla müşteri değil"},
        "today": {"en": "today", "tr": "bugün"},
        "yesterday": {"en": "yesterday", "tr": "dün"},
        "days_ago": {"en": "{n} days ago", "tr": "{n} gün önce"},
        "more": {"en": "{n} more events", "tr": "{n} olay daha"},
    },
    # The Experience tab and GET /kpis (definitions in features/kpis.py).
    "kpi": {
        "tab_list": {"en": "At risk", "tr": "Risktekiler"},
        "tab_experience": {"en": "Experience", "tr": "Deneyim"},
        "title": {"en": "Customer experience", "tr": "Müşteri deneyimi"},
        "nps": {"en": "NPS", "tr": "NPS"},
        "csat": {"en": "CSAT", "tr": "CSAT"},
        "ces": {"en": "Customer effort (CES)", "tr": "Müşteri eforu (CES)"},
        "high_effort": {"en": "High effort (CES 5-7)", "tr": "Yüksek efor (CES 5-7)"},
        "response_rate": {"en": "Survey response rate", "tr": "Anket yanıt oranı"},
        "churn_rate": {"en": "Churn rate", "tr": "Ayrılma oranı"},
        "nps_hint": {"en": "points, -100 to 100", "tr": "puan, -100 ile 100 arası"},
        "csat_hint": {"en": "answers scoring 4-5", "tr": "4-5 puan veren yanıtlar"},
        "ces_hint": {"en": "mean 1-7, lower is easier", "tr": "ortalama 1-7, düşük = kolay"},
        "churn_rate_hint": {"en": "cancelled in the month", "tr": "ay içinde iptal eden"},
        "latest": {"en": "Latest complete month: {month}", "tr": "Son tam ay: {month}"},
        "no_complete_month": {"en": "No complete month in the period.",
                              "tr": "Dönemde tamamlanmış ay yok."},
        "vs_previous": {"en": "vs previous month", "tr": "önceki aya göre"},
        "pp": {"en": "pp", "tr": "puan"},
        "interval": {"en": "95% interval", "tr": "%95 aralık"},
        "n": {"en": "n", "tr": "n"},
        "month": {"en": "Month", "tr": "Ay"},
        "segment": {"en": "Segment", "tr": "Segment"},
        "all_segments": {"en": "All segments", "tr": "Tüm segmentler"},
        "split_by": {"en": "Split by", "tr": "Kırılım"},
        "chart_kpi": {"en": "Measure", "tr": "Gösterge"},
        "min_n": {"en": "Minimum n", "tr": "En az n"},
        "group_segment": {"en": "segment", "tr": "segment"},
        "group_region": {"en": "region", "tr": "bölge"},
        "group_channel": {"en": "survey channel", "tr": "anket kanalı"},
        "group_touchpoint": {"en": "touchpoint before the answer",
                             "tr": "yanıttan önceki temas noktası"},
        "trend": {"en": "{kpi} by month", "tr": "Aylara göre {kpi}"},
        "heatmap": {"en": "{kpi} by {group} and month", "tr": "{group} ve aya göre {kpi}"},
        "composition": {"en": "NPS composition by month", "tr": "Aylara göre NPS dağılımı"},
        "promoters": {"en": "promoters (9-10)", "tr": "destekçiler (9-10)"},
        "passives": {"en": "passives (7-8)", "tr": "pasifler (7-8)"},
        "detractors": {"en": "detractors (0-6)", "tr": "kötüleyenler (0-6)"},
        "small_note": {"en": "Grey: fewer than {n} answers or customers, read with care. "
                               "Numbers under the chart are n.",
                       "tr": "Gri: {n} yanıttan ya da müşteriden az, dikkatle okuyun. "
                             "Grafiğin altındaki sayılar n'dir."},
        "not_for_group": {"en": "Response and churn rates are per customer, so they are empty "
                                "by survey channel or touchpoint.",
                          "tr": "Yanıt ve ayrılma oranları müşteri başınadır; anket kanalı ya "
                                "da temas noktasına göre boş kalır."},
        "monthly": {"en": "All measures by month", "tr": "Aylara göre tüm göstergeler"},
        "as_json": {"en": "Same numbers as JSON", "tr": "Aynı sayılar JSON olarak"},
    },
    # The Experience tab's key drivers section (``cxchurn drivers``) and the model panel's
    # monitoring result (``cxchurn monitor``).
    "drivers": {
        "title": {"en": "Key drivers", "tr": "Temel etkenler"},
        "survey_title": {"en": "What moves {survey}", "tr": "{survey} puanını ne etkiliyor"},
        "survey_note": {
            "en": "Share of the answers' explained variation carried by each experience, "
                  "from the customer's experiences just before answering (relative weights; "
                  "bars: 95% interval). n = {n} answers of {customers} customers.",
            "tr": "Her deneyimin, yanıtlardaki açıklanan değişimden aldığı pay; müşterinin "
                  "yanıt vermeden hemen önceki deneyimlerinden (göreli ağırlıklar; çubuklar: "
                  "%95 aralık). n = {customers} müşteriden {n} yanıt."},
        "churn_title": {"en": "Where churn risk comes from",
                        "tr": "Ayrılma riski nereden geliyor"},
        "churn_note": {"en": "Share of the churn model's SHAP mass per driver family, for "
                             "the customers scored at each cutoff (95% interval on hover).",
                       "tr": "Her kesim tarihinde puanlanan müşteriler için, ayrılma "
                             "modelinin SHAP kütlesinde her etken ailesinin payı (%95 aralık "
                             "imleçle)."},
        "family": {"en": "Driver", "tr": "Etken"},
        "share": {"en": "Share", "tr": "Pay"},
        "direction_lowers": {"en": "more of it, lower score",
                             "tr": "arttıkça puan düşer"},
        "direction_raises": {"en": "more of it, higher score",
                             "tr": "arttıkça puan yükselir"},
        "strongest": {"en": "strongest signal", "tr": "en güçlü gösterge"},
        "none": {"en": "No driver analysis yet: run `cxchurn drivers`.",
                 "tr": "Henüz etken analizi yok: `cxchurn drivers` komutunu çalıştırın."},
        "generated": {"en": "Computed {when}", "tr": "Hesaplanma: {when}"},
        "as_json": {"en": "Drivers as JSON", "tr": "Etkenler JSON olarak"},
    },
    "monitor": {
        "title": {"en": "Model monitoring", "tr": "Model izleme"},
        "history_age": {"en": "grows with the length of the history",
                        "tr": "geçmişin uzunluğuyla birlikte büyür"},
        "known_change": {"en": "known change on {date}: {family}",
                         "tr": "{date} tarihindeki bilinen değişiklik: {family}"},
        "none": {"en": "No monitoring result yet: run `cxchurn monitor`.",
                 "tr": "Henüz izleme sonucu yok: `cxchurn monitor` komutunu çalıştırın."},
        "cutoff": {"en": "Latest cutoff", "tr": "Son kesim tarihi"},
        "estimated_auc": {"en": "Estimated AUC (before labels)",
                          "tr": "Tahmini AUC (etiketlerden önce)"},
        "realised_auc": {"en": "Realised AUC", "tr": "Gerçekleşen AUC"},
        "not_matured": {"en": "labels not matured yet", "tr": "etiketler henüz oluşmadı"},
        "reference": {"en": "reference {auc}", "tr": "referans {auc}"},
        "drifted": {"en": "Drifted features", "tr": "Kayan değişkenler"},
        "no_drift": {"en": "no feature drifted", "tr": "kayan değişken yok"},
        "expected": {"en": "Expected drift (known changes)",
                     "tr": "Beklenen kayma (bilinen değişiklikler)"},
        "alerts": {"en": "Alerts", "tr": "Uyarılar"},
        "no_alerts": {"en": "No alerts.", "tr": "Uyarı yok."},
        "checked": {"en": "Checked {when}", "tr": "Kontrol: {when}"},
        "customers": {"en": "{n} customers", "tr": "{n} müşteri"},
        "matured": {"en": "at {cutoff}, the newest cutoff whose labels have matured",
                    "tr": "etiketleri oluşmuş en yeni kesim {cutoff}"},
        "estimated_then": {"en": "estimated then", "tr": "o zamanki tahmin"},
        "range": {"en": "realised AUC likely within", "tr": "gerçekleşen AUC büyük olasılıkla"},
        "error": {"en": "estimate - realised", "tr": "tahmin - gerçekleşen"},
        "drift_alert": {"en": "{n} feature(s) drifted: {features}",
                        "tr": "{n} değişkenin dağılımı kaydı: {features}"},
        "score_alert": {"en": "the score's distribution drifted (PSI {psi})",
                        "tr": "skorun dağılımı kaydı (PSI {psi})"},
        "auc_alert": {"en": "{what} {auc} is below the alert line {floor}",
                      "tr": "{what} {auc}, uyarı sınırı {floor} altında"},
        "all_alerts": {"en": "{n} alert(s) over all monitored cutoffs",
                       "tr": "izlenen tüm kesimlerde {n} uyarı"},
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

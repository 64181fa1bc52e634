"""Free-text feedback phrase banks in English and Turkish, for the synthetic CX world.

The simulator decides *what* a customer feels (sentiment from latent satisfaction) and *about
what* (the topic that hurt them most recently); this module only turns that into words. The
phrases are flattened into one array so that rendering millions of feedback events is a single
fancy-index, never a Python loop per event.

Text is written the way customers write it: short, sometimes without punctuation, in the
customer's language. Turkish phrases use proper Turkish characters (ç, ğ, ı, İ, ö, ş, ü), which
text features must handle.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np

LANGUAGES: Final = ("en", "tr")
SENTIMENTS: Final = ("negative", "neutral", "positive")
TOPICS: Final = ("delivery", "support", "price", "general")

# BANK[language][sentiment][topic] -> phrases. Cells may differ in size: rendering uses
# per-cell offsets and lengths.
BANK: Final[dict[str, dict[str, dict[str, tuple[str, ...]]]]] = {
    "en": {
        "negative": {
            "delivery": (
                "My order arrived late again. Really disappointed.",
                "Delivery was days late and nobody told me anything",
                "Third late delivery this month, this is not acceptable.",
                "The parcel came much later than promised.",
                "Stop promising delivery dates you cannot keep!",
            ),
            "support": (
                "Support took forever to answer and the problem is still not fixed.",
                "I had to call three times about the same issue",
                "Your customer service is slow and unhelpful.",
                "The ticket was closed but nothing was solved.",
                "Waited days for a reply from support. Terrible.",
            ),
            "price": (
                "The price went up again and I get nothing more for it.",
                "Too expensive now, I am looking at other options",
                "Why did my monthly fee increase? Very unhappy.",
                "Not worth the money anymore.",
            ),
            "general": (
                "Very disappointed with the service lately.",
                "Thinking about cancelling, nothing works as it should",
                "Bad experience overall, I expected much better.",
                "I am not happy with this company anymore.",
            ),
        },
        "neutral": {
            "delivery": (
                "Delivery was ok, a bit slower than I hoped.",
                "The order arrived, packaging could be better",
                "Delivery fine. Tracking page was confusing.",
            ),
            "support": (
                "Support answered eventually, it was fine.",
                "The issue was solved but it took a while",
                "Customer service was polite, nothing special.",
            ),
            "price": (
                "The price is acceptable for what I get.",
                "Fee is a bit high but ok",
                "Price is similar to other companies.",
            ),
            "general": (
                "It is ok. Nothing to complain about, nothing special.",
                "Average service",
                "Does the job.",
                "Some things are good, some could be better.",
            ),
        },
        "positive": {
            "delivery": (
                "Fast delivery, arrived earlier than expected!",
                "Delivery was quick and the courier was friendly",
                "Always on time, great job.",
            ),
            "support": (
                "Support solved my problem in minutes, thank you!",
                "Very helpful customer service",
                "Quick and friendly answer from the support team.",
            ),
            "price": (
                "Good value for money.",
                "Great price for the quality",
                "Worth every penny.",
            ),
            "general": (
                "Love the service, would recommend to friends!",
                "Very happy customer here",
                "Everything works perfectly, thank you.",
                "Best service I have used so far.",
            ),
        },
    },
    "tr": {
        "negative": {
            "delivery": (
                "Siparişim yine geç geldi, çok hayal kırıklığına uğradım.",
                "Kargo günlerce gecikti ve kimse bilgi vermedi",
                "Bu ay üçüncü kez teslimat gecikti, kabul edilemez.",
                "Paket söz verilen tarihten çok sonra geldi.",
                "Tutamayacağınız teslim tarihleri vermeyin!",
            ),
            "support": (
                "Destek ekibi çok geç cevap verdi, sorun hâlâ çözülmedi.",
                "Aynı sorun için üç kez aramak zorunda kaldım",
                "Müşteri hizmetleriniz yavaş ve ilgisiz.",
                "Talep kapatıldı ama hiçbir şey çözülmedi.",
                "Destekten cevap için günlerce bekledim. Berbat.",
            ),
            "price": (
                "Fiyat yine arttı ama karşılığında hiçbir şey yok.",
                "Artık çok pahalı, başka seçeneklere bakıyorum",
                "Aylık ücretim neden arttı? Hiç memnun değilim.",
                "Artık paranın karşılığını vermiyor.",
            ),
            "general": (
                "Son zamanlarda hizmetten çok memnuniyetsizim.",
                "İptal etmeyi düşünüyorum, hiçbir şey düzgün çalışmıyor",
                "Genel olarak kötü bir deneyim, çok daha iyisini beklerdim.",
                "Bu şirketten artık memnun değilim.",
            ),
        },
        "neutral": {
            "delivery": (
                "Teslimat fena değildi, biraz yavaştı.",
                "Sipariş geldi, paketleme daha iyi olabilirdi",
                "Teslimat normal. Kargo takip sayfası karışık.",
            ),
            "support": (
                "Destek sonunda cevap verdi, idare eder.",
                "Sorun çözüldü ama biraz uzun sürdü",
                "Müşteri hizmetleri kibardı, özel bir şey yok.",
            ),
            "price": (
                "Fiyat aldığım hizmete göre makul.",
                "Ücret biraz yüksek ama idare eder",
                "Fiyatlar diğer firmalarla benzer.",
            ),
            "general": (
                "İdare eder. Şikâyetim yok ama özel bir şey de yok.",
                "Ortalama bir hizmet",
                "İşimi görüyor.",
                "Bazı şeyler iyi, bazıları daha iyi olabilir.",
            ),
        },
        "positive": {
            "delivery": (
                "Hızlı teslimat, beklediğimden erken geldi!",
                "Kargo çok hızlıydı, kurye de çok nazikti",
                "Her zaman zamanında, harika iş.",
            ),
            "support": (
                "Destek ekibi sorunumu dakikalar içinde çözdü, teşekkürler!",
                "Çok yardımcı müşteri hizmetleri",
                "Destek ekibinden hızlı ve güler yüzlü cevap.",
            ),
            "price": (
                "Fiyatına göre çok iyi.",
                "Kalitesine göre fiyatı harika",
                "Verdiğim paraya kesinlikle değer.",
            ),
            "general": (
                "Hizmete bayılıyorum, arkadaşlarıma tavsiye ederim!",
                "Çok memnun bir müşteriyim",
                "Her şey mükemmel çalışıyor, teşekkürler.",
                "Şimdiye kadar kullandığım en iyi hizmet.",
            ),
        },
    },
}


@lru_cache(maxsize=1)
def _flatten() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All phrases in one array, with each (language, sentiment, topic) cell's offset and size."""
    phrases: list[str] = []
    shape = (len(LANGUAGES), len(SENTIMENTS), len(TOPICS))
    offsets = np.zeros(shape, dtype=np.int64)
    sizes = np.zeros(shape, dtype=np.int64)
    for li, lang in enumerate(LANGUAGES):
        for si, sentiment in enumerate(SENTIMENTS):
            for ti, topic in enumerate(TOPICS):
                cell = BANK[lang][sentiment][topic]
                offsets[li, si, ti] = len(phrases)
                sizes[li, si, ti] = len(cell)
                phrases.extend(cell)
    return np.array(phrases, dtype=object), offsets, sizes


def phrase_ids(
    language: np.ndarray, sentiment: np.ndarray, topic: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Pick one phrase per event: codes index LANGUAGES, SENTIMENTS, TOPICS; u is uniform [0, 1).

    Returns integer ids into ``render``'s phrase array, so the simulator can carry small
    integers through its daily loop and build strings once at the end.
    """
    _, offsets, sizes = _flatten()
    size = sizes[language, sentiment, topic]
    pick = np.minimum((u * size).astype(np.int64), size - 1)
    return offsets[language, sentiment, topic] + pick


def render(ids: np.ndarray) -> np.ndarray:
    """Phrase ids to text (object array); negative ids mean "no text" and become None."""
    phrases, _, _ = _flatten()
    ids = np.asarray(ids, dtype=np.int64)
    out = np.full(ids.shape, None, dtype=object)
    has = ids >= 0
    out[has] = phrases[ids[has]]
    return out


def phrase_labels() -> list[tuple[str, str, str, str]]:
    """(language, sentiment, topic, phrase) for every phrase, e.g. for text-feature tests."""
    return [
        (lang, sentiment, topic, phrase)
        for lang in LANGUAGES
        for sentiment in SENTIMENTS
        for topic in TOPICS
        for phrase in BANK[lang][sentiment][topic]
    ]

"""SHAP drivers in plain words (English and Turkish), shared by the scoring API and retention.

``text``: ``reason(...)`` and ``LANGUAGES``; ``turkish``: the Turkish phrasing.
"""

from serving.reasons.text import LANGUAGES, reason

__all__ = ["LANGUAGES", "reason"]

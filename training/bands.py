"""Risk bands: a calibrated P(churn) as low / medium / high.

Defined here, below serving, so that batch scoring (``training/spark_score.py``) and the
scoring API (``serving/api/runtime.py``) band a probability the same way. The cut points come
from ``Settings.risk_bands`` (``CXCHURN_RISK_BANDS``, default 0.1 and 0.3).
"""

from __future__ import annotations

import numpy as np

from cxchurn.settings import DEFAULT_BANDS

BAND_NAMES = ("low", "medium", "high")


def risk_band(p: np.ndarray, bands: tuple[float, float] = DEFAULT_BANDS) -> np.ndarray:
    """'low' / 'medium' / 'high' per probability (medium from bands[0], high from bands[1])."""
    idx = np.searchsorted(np.asarray(bands), np.asarray(p, dtype=float), side="right")
    return np.asarray(BAND_NAMES, dtype=object)[idx]


__all__ = ["BAND_NAMES", "DEFAULT_BANDS", "risk_band"]

"""Risk bands: from which P(churn) a customer counts as medium, then high risk.

One definition for the scoring API, the retention page and Spark batch scoring, so that
"high" means the same in every output. The default thresholds are
``cxchurn.settings.DEFAULT_BANDS``; ``CXCHURN_RISK_BANDS`` overrides them (read by
``cxchurn.settings``).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from cxchurn.settings import DEFAULT_BANDS

BAND_NAMES: Final = ("low", "medium", "high")


def risk_band(p: np.ndarray, bands: tuple[float, float] = DEFAULT_BANDS) -> np.ndarray:
    """'low' / 'medium' / 'high' per probability (medium from bands[0], high from bands[1])."""
    idx = np.searchsorted(np.asarray(bands), np.asarray(p, dtype=float), side="right")
    return np.asarray(BAND_NAMES, dtype=object)[idx]


__all__ = ["BAND_NAMES", "DEFAULT_BANDS", "risk_band"]

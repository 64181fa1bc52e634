"""When to act: the act-by date from the churn probabilities over several horizons.

The definition, stated once (the API, the page and the README point here):

* ``leave_within_days``: the shortest horizon whose P(churn within it) reaches the high-risk
  threshold (the ``high`` band's lower edge, ``CXCHURN_RISK_BANDS``); null when even the
  longest horizon stays below it.
* ``act_by``: the day the cumulative risk is expected to reach that threshold, minus
  ``ACT_LEAD_DAYS`` (time to reach the customer and let an action work), never before the
  as-of date. Inside the horizon interval where the threshold is crossed the daily hazard is
  taken as constant (the hazard model's own assumption: one hazard per interval), so the
  crossing day is ``a + (b - a) * ln((1 - t) / S(a)) / ln(S(b) / S(a))`` for the interval
  ``[a, b)``, survival ``S`` and threshold ``t``.
* the as-of date is the date the features describe: the online store's cutoff for customers
  looked up by id, today (UTC) for posted feature rows.

A model without a horizon model (champions trained before it) gives nulls everywhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

ACT_LEAD_DAYS: Final = 7


def crossing_day(p: Sequence[float], horizons: Sequence[int], threshold: float
                 ) -> tuple[int, float] | None:
    """(horizon reached, day the cumulative risk reaches ``threshold``), or None if never."""
    for k, (h, pk) in enumerate(zip(horizons, p, strict=True)):
        if pk >= threshold:
            start = 0 if k == 0 else int(horizons[k - 1])
            s_start = 1.0 if k == 0 else 1.0 - float(p[k - 1])
            s_end = 1.0 - float(pk)
            if s_end <= 0.0:
                return int(h), float(start)
            ratio = math.log((1.0 - threshold) / s_start) / math.log(s_end / s_start)
            return int(h), start + (int(h) - start) * min(max(ratio, 0.0), 1.0)
    return None


def timing(p: np.ndarray | None, horizons: Sequence[int], threshold: float,
           as_of: dt.date, n: int) -> list[dict[str, Any]]:
    """Per row: ``horizons`` ({"30": p, ...}), ``leave_within_days`` and ``act_by`` (ISO date).

    ``p`` is (rows, horizons) or None (no horizon model: ``n`` rows of nulls).
    """
    if p is None:
        return [{"horizons": None, "leave_within_days": None, "act_by": None}
                for _ in range(n)]
    out = []
    for row in np.asarray(p, dtype=float):
        crossed = crossing_day(row, horizons, threshold)
        act_by = None
        if crossed is not None:
            days = max(0, math.floor(crossed[1]) - ACT_LEAD_DAYS)
            act_by = (as_of + dt.timedelta(days=days)).isoformat()
        out.append({"horizons": {str(h): float(v) for h, v in zip(horizons, row, strict=True)},
                    "leave_within_days": crossed[0] if crossed else None, "act_by": act_by})
    return out


def as_of_date(cutoff: str | None) -> dt.date:
    """The date features describe: a store cutoff's date, or today (UTC) without one."""
    if cutoff:
        return dt.datetime.fromisoformat(str(cutoff)).date()
    return dt.datetime.now(dt.UTC).date()


__all__ = ["ACT_LEAD_DAYS", "as_of_date", "crossing_day", "timing"]

"""Changes the company made on purpose (a price rise it announced), so drift they cause is
expected, not an alarm.

A company-wide price rise moves every price feature's distribution for as long as the
features remember it (``price_rises_180d`` for 180 days). The monitor is right that the
inputs changed, but a data scientist paged for a rise the company decided is a false alarm,
and after a few of those alerts stop being read. So a known change is declared
(``cxchurn monitor --known-change price:2025-03-01``) and a drifted feature of that driver
family (``features.families``) at a cutoff the change can reach (after its date, within
``days``) is reported as expected drift, named with its cause, instead of raising an alert.
A change that reached the reference rows (the champion's training cutoffs) explains drift
too: as its effect fades, the current rows move away from a reference that still carried it,
so declare each announced change of the reference period as well.

Features that measure the history's own length (days since the first order, the span from
the first to the last) grow as the data gets older, whatever customers do: a left-truncated
export or a simulated world starts everyone's history at its first day. Their drift is
reported as expected ("grows with the length of the history") without a declaration.

What stays an alert: drift of any other family, drift of the same family outside the
change's reach, the score's drift and estimated or realised performance below the line: a
rise the company chose can still raise churn risk, and that is worth knowing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from cxchurn.errors import ConfigError
from features.default_specs import DEFAULT_SPECS
from features.families import FAMILIES, feature_family
from features.spec import AggregateSpec, FeatureSpec

DEFAULT_DAYS = 180  # the longest window of the default feature specs


@dataclass(frozen=True)
class KnownChange:
    """A deliberate change of one driver family from ``date`` (UTC), felt for ``days``."""

    family: str
    date: pd.Timestamp
    days: int = DEFAULT_DAYS

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ConfigError(f"a known change's family must be one of {list(FAMILIES)}; got "
                              f"{self.family!r}")
        if not 1 <= self.days <= 3650:
            raise ConfigError(f"a known change's days must be in 1..3650; got {self.days}")

    def reaches(self, cutoff: str | pd.Timestamp) -> bool:
        """Features at ``cutoff`` see events before it: a change on its own cutoff day is not
        seen yet, one on the day before is."""
        c = pd.Timestamp(cutoff)
        c = c.tz_localize("UTC") if c.tzinfo is None else c
        return bool(self.date < c <= self.date + pd.Timedelta(days=self.days))

    def label(self) -> str:
        return f"known {self.family} change on {self.date:%Y-%m-%d}"


def parse_known_change(text: str) -> KnownChange:
    """``FAMILY:YYYY-MM-DD[:DAYS]`` (e.g. ``price:2025-03-01``) -> KnownChange."""
    parts = str(text).split(":")
    if len(parts) not in (2, 3):
        raise ConfigError(f"--known-change must look like FAMILY:YYYY-MM-DD[:DAYS], e.g. "
                          f"'price:2025-03-01'; got {text!r}")
    try:
        date = pd.Timestamp(parts[1])
    except ValueError:
        raise ConfigError(f"--known-change {text!r}: {parts[1]!r} is not a date like "
                          "2025-03-01") from None
    date = date.tz_localize("UTC") if date.tzinfo is None else date.tz_convert("UTC")
    try:
        days = int(parts[2]) if len(parts) == 3 else DEFAULT_DAYS
    except ValueError:
        raise ConfigError(f"--known-change {text!r}: days must be a whole number") from None
    return KnownChange(parts[0], date, days)


# aggregations whose values grow with the history's length (see the module docstring)
GROWS_WITH_HISTORY = frozenset({"days_since_first", "active_span"})
HISTORY_AGE = "grows with the length of the history"


def grows_with_history(feature: str, specs: Sequence[FeatureSpec] = DEFAULT_SPECS) -> bool:
    return any(isinstance(s, AggregateSpec) and s.name == feature
               and s.aggregation in GROWS_WITH_HISTORY for s in specs)


def explained_by(features: Sequence[str], cutoff: str, changes: Sequence[KnownChange],
                 reference_cutoffs: Sequence[str] = ()) -> list[str]:
    """Per feature, the label of the known change that explains its drift at ``cutoff``,
    or "" (none does). A change explains drift when it reaches the current cutoff or any of
    the reference's: a rise the reference rows still carried shows as drift when it fades."""
    active = [c for c in changes
              if c.reaches(cutoff) or any(c.reaches(r) for r in reference_cutoffs)]
    out = []
    for feature in features:
        family = feature_family(feature)
        why = next((c.label() for c in active if c.family == family), "")
        out.append(why or (HISTORY_AGE if grows_with_history(feature) else ""))
    return out

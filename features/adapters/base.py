"""The adapter interface: a raw transaction log in, the events contract out.

An adapter returns an ``AdaptedLog``: customers and events frames that satisfy
``features.contract`` (so ``cxchurn features build`` loads them like any user's files), the
label definition and cutoffs that suit the data, and a report that reconciles every input
row (mapped, or left out and why). ``write`` puts it on disk with a ``dataset.json`` that
records how to build and train on it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.labels import LabelConfig

CUSTOMERS_FILE = "customers.parquet"
EVENTS_FILE = "events.parquet"
DATASET_FILE = "dataset.json"


@dataclass(frozen=True)
class AdaptedLog:
    """A transaction log in the events contract, with its label and cutoff protocol."""

    name: str
    customers: pd.DataFrame
    events: pd.DataFrame
    label: LabelConfig
    cutoffs: tuple[pd.Timestamp, ...]  # every monthly cutoff the data supports
    train_cutoffs: tuple[pd.Timestamp, ...]  # the out-of-time protocol's subset (see below)
    report: dict[str, int | str] = field(default_factory=dict)

    @property
    def refit_cutoffs(self) -> tuple[pd.Timestamp, ...]:
        """Every cutoff whose label window ends by the test cutoff (the final model's rows)."""
        if not self.train_cutoffs:
            return ()
        horizon = pd.Timedelta(days=self.label.horizon_days)
        return tuple(c for c in self.cutoffs if c + horizon <= self.train_cutoffs[-1])

    def protocol(self) -> str:
        dates = ", ".join(c.date().isoformat() for c in self.train_cutoffs)
        refit = ", ".join(c.date().isoformat() for c in self.refit_cutoffs)
        return (f"out-of-time: selection on cutoffs {dates} (the last is the test fold, the "
                f"one before validation, the rest train; each fold's "
                f"{self.label.horizon_days}-day label window ends before the next fold starts); "
                f"LightGBM early-stops on the validation cutoff, then the final model (and the "
                f"logistic baseline) is refitted with that many rounds on every cutoff whose "
                f"label window ends by the test cutoff ({refit}); the test fold is used for "
                f"nothing else")

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"customers": out / CUSTOMERS_FILE, "events": out / EVENTS_FILE,
                 "dataset": out / DATASET_FILE}
        self.customers.to_parquet(paths["customers"], index=False)
        self.events.to_parquet(paths["events"], index=False)
        doc = {
            "name": self.name,
            "label": {"kind": self.label.kind, "horizon_days": self.label.horizon_days,
                      "active_within_days": self.label.active_within_days,
                      "data_end": str(self.label.data_end)},
            "cutoffs": [c.date().isoformat() for c in self.cutoffs],
            "train_cutoffs": [c.date().isoformat() for c in self.train_cutoffs],
            "refit_cutoffs": [c.date().isoformat() for c in self.refit_cutoffs],
            "protocol": self.protocol(),
            "report": self.report,
        }
        paths["dataset"].write_text(json.dumps(doc, indent=2))
        return paths


def purged_cutoffs(cutoffs: Sequence[pd.Timestamp], horizon_days: int) -> tuple[pd.Timestamp, ...]:
    """Test = the last cutoff; validation = the latest whose label window ends by then; train =
    those whose window ends by the validation cutoff.

    Monthly cutoffs with a 90-day label overlap: a training label decided in the test fold's
    window would leak its outcome. Dropping the cutoffs in between (rather than shortening the
    horizon) keeps the label the user asked for and the split honest.
    """
    ordered = sorted(pd.Timestamp(c) for c in cutoffs)
    horizon = pd.Timedelta(days=horizon_days)
    if not ordered:
        return ()
    test = ordered[-1]
    valid = [c for c in ordered if c + horizon <= test]
    if not valid:
        return (test,)
    train = [c for c in ordered if c + horizon <= valid[-1]]
    return (*train, valid[-1], test)

"""Which public data sets we know, and how each is read: the only dataset-specific settings.

A ``TableDataset`` is a one-row-per-customer table for snapshot mode (``cxchurn train
--table``); a ``LogDataset`` is a transaction log with an adapter module (``adapt(data_dir)``
-> ``AdaptedLog``). Folder names are those under the shared data folder (each has a
PROVENANCE.txt saying where the files come from).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from cxchurn.errors import ConfigError, NotFoundError
from features.adapters.base import AdaptedLog

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_ROOT = PROJECT_ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Published:
    """A figure someone published for the same data, with where it comes from."""

    model: str
    metric: str
    value: float
    protocol: str
    source: str


@dataclass(frozen=True)
class TableDataset:
    name: str
    folder: str
    file: str
    label: str
    id_column: str | None = None
    positive: str | None = None
    test_file: str | None = None
    published: tuple[Published, ...] = ()
    kind: str = "table"

    def files(self, root: Path) -> tuple[Path, Path | None]:
        folder = Path(root) / self.folder
        return folder / self.file, (folder / self.test_file) if self.test_file else None

    def model_name(self) -> str:
        return "cxchurn-" + self.name.replace("_", "-")


@dataclass(frozen=True)
class LogDataset:
    name: str
    folder: str
    adapter: str  # module with adapt(data_dir) -> AdaptedLog
    published: tuple[Published, ...] = field(default_factory=tuple)
    kind: str = "event_log"

    def adapt(self, root: Path) -> AdaptedLog:
        """Adapt the data set under the data root ``root``."""
        return self.adapt_folder(Path(root) / self.folder)

    def adapt_folder(self, folder: Path) -> AdaptedLog:
        """Adapt the files in ``folder`` (the data set's own folder)."""
        return importlib.import_module(self.adapter).adapt(Path(folder))

    def model_name(self) -> str:
        return "cxchurn-" + self.name.replace("_", "-")


DATASETS: dict[str, TableDataset | LogDataset] = {
    "telco": TableDataset("telco", "telco", "Telco-Customer-Churn.csv", label="Churn",
                          id_column="customerID", positive="Yes"),
    "ecommerce_churn": TableDataset("ecommerce_churn", "ecommerce_churn",
                                    "E_Commerce_Dataset_EComm.csv", label="Churn",
                                    id_column="CustomerID", positive="1"),
    "orange_telecom": TableDataset("orange_telecom", "orange_telecom", "churn-bigml-80.csv",
                                   label="Churn", positive="True",
                                   test_file="churn-bigml-20.csv"),
    "online_retail": LogDataset("online_retail", "online_retail",
                                "features.adapters.online_retail"),
}


def get(name: str) -> TableDataset | LogDataset:
    key = name.replace("-", "_")
    if key not in DATASETS:
        raise NotFoundError(f"unknown data set {name!r}; known: {sorted(DATASETS)}")
    return DATASETS[key]


def available(root: str | Path = DEFAULT_DATA_ROOT) -> list[str]:
    """Known data sets whose folder exists under ``root`` (in registry order)."""
    base = Path(root)
    if not base.is_dir():
        raise ConfigError(f"data folder {base} does not exist; pass --data with the folder "
                          "holding the data sets (default ../shared/data from the project root)")
    return [name for name, d in DATASETS.items() if (base / d.folder).is_dir()]

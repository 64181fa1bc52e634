"""The in-memory online store's patch: live rows replace, add and remove customers' rows, and
the arrays kept beside the table (scores, model matrix) stay aligned with it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serving.api.online_store import OnlineStore


def _store(ids: list[str]) -> OnlineStore:
    table = pd.DataFrame({"customer_id": ids, "x": np.arange(len(ids), dtype=float)})
    return OnlineStore(table=table, positions={c: i for i, c in enumerate(ids)})


def _rows(ids: list[str], x: float) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ids, "x": [x] * len(ids)})


def test_a_patch_replaces_adds_and_removes_and_keeps_the_rest_in_order() -> None:
    store = _store(["A", "B", "C", "D"])
    rows = _rows(["C", "E"], 9.0)
    keep = store.kept_mask(rows, ["A"])
    patched = store.with_rows(rows, ["A"], keep)
    assert keep.tolist() == [False, True, False, True]
    assert patched.table["customer_id"].tolist() == ["B", "D", "C", "E"]
    assert patched.table["x"].tolist() == [1.0, 3.0, 9.0, 9.0]
    assert patched.positions == {"B": 0, "D": 1, "C": 2, "E": 3}
    # an array aligned with the old table, patched the same way, lines up with the new one
    aligned = np.vstack([np.arange(4.0)[keep, None], np.full((2, 1), 9.0)])
    assert aligned[:, 0].tolist() == patched.table["x"].tolist()
    assert store.table["customer_id"].tolist() == ["A", "B", "C", "D"]  # copy on write


def test_a_snapshot_with_repeated_ids_loses_every_row_of_a_replaced_customer() -> None:
    table = pd.DataFrame({"customer_id": ["A", "B", "A"], "x": [0.0, 1.0, 2.0]})
    store = OnlineStore(table=table, positions={"A": 2, "B": 1})
    patched = store.with_rows(_rows(["A"], 7.0), [])
    assert patched.table["customer_id"].tolist() == ["B", "A"]
    assert patched.table["x"].tolist() == [1.0, 7.0]

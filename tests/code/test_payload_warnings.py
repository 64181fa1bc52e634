"""Unseen categories: named per cell, capped per answer, never silent."""

from __future__ import annotations

import numpy as np

from serving.api.payload import MAX_WARNINGS, unseen_levels

SCHEMA = {"segment": {"type": "category", "categories": ["consumer", "business"]},
          "tenure_days": {"type": "float"}}


def test_each_unseen_level_is_named_with_its_row_and_missing_is_not_a_warning() -> None:
    columns = {"segment": np.array(["consumer", "platinum", None, "business"], dtype=object),
               "tenure_days": np.array([1.0, 2.0, 3.0, 4.0])}
    [warning] = unseen_levels(SCHEMA, columns)
    assert (warning["row"], warning["feature"]) == (1, "segment")
    assert "'platinum'" in warning["warning"] and "consumer" in warning["warning"]


def test_a_flood_of_unseen_levels_is_capped_with_a_count_of_the_rest() -> None:
    n = MAX_WARNINGS + 25
    columns = {"segment": np.array(["new"] * n, dtype=object), "tenure_days": np.ones(n)}
    warnings = unseen_levels(SCHEMA, columns)
    assert len(warnings) == MAX_WARNINGS + 1
    assert warnings[-1]["row"] == -1 and "25 more" in warnings[-1]["warning"]

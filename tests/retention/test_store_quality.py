"""The online store's categories the model never saw are counted and reported, not hidden."""

from __future__ import annotations

from typing import Any

from training.explain import FastModel


def test_unseen_levels_are_counted_per_feature_and_missing_is_not_unseen(runtime: Any) -> None:
    model = runtime.model
    feature = next(iter(model.categories_))
    table = runtime.online_features().head(5).copy()
    fast = FastModel(model)
    assert fast.unseen_levels(table) == {}
    table[feature] = table[feature].astype(object)
    table.loc[table.index[:2], feature] = "a level nobody trained on"
    table.loc[table.index[2], feature] = None
    assert fast.unseen_levels(table) == {feature: 2}


def test_metadata_reports_the_stores_unseen_categories(runtime: Any) -> None:
    store = runtime.metadata()["online_store"]
    assert store["ready"] and store["unseen_categories"] == {}

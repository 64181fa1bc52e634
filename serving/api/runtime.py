"""What the service holds while it runs: the model, the online store, and how to use them.

Pure Python, no BentoML: the scoring API (``serving/api/service.py``) and the retention app
(``serving/retention/app.py``) both call this object, and tests can drive it in-process.
Everything a request needs sits in one immutable ``_State``; ``reload()`` builds a new state
while requests keep using the old one and then swaps the reference, so a reload drops no
request and a request never sees a model paired with the wrong store. Scores, SHAP values
and top drivers come from ``training.explain`` (``FastModel`` on the served ``ChurnModel``'s
booster, ``top_drivers``, ``plain``), the explainer the at-risk list, Spark scoring and the
training report use, so served numbers equal the training-side ones. Risk bands come from
``training.bands``.

Public surface (kept stable for the retention app): ``ready``, ``model``, ``require_model()``,
``home``, ``metadata()``, ``model_info()``, ``score_ids``, ``score_columns``, ``explain_ids``,
``explain_known_ids``, ``explain_columns``, ``online_features()``, ``scored_store()``,
``store_cutoff()``, ``horizons_of_ids``, ``horizons_of_columns``, ``reload()``, and
``check_api_key`` (re-exported). The horizon model travels on the champion
(``training.horizons.attached``); a champion without one answers None.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxchurn import paths
from cxchurn.errors import ConfigError, CxChurnError, ModelNotReadyError
from cxchurn.settings import Settings
from features.schema import CUSTOMER_ID, CUTOFF
from serving.api.model_source import LoadedModel, load_model
from serving.api.online_store import OnlineStore, store_path
from serving.auth import check_api_key
from serving.gc_pause import refreeze
from serving.reasons.text import LANGUAGES, feature_family, reason
from serving.stamp import read_stamp, write_stamp
from training.bands import DEFAULT_BANDS, risk_band
from training.explain import FastModel, plain_values, top_drivers
from training.horizons import attached

__all__ = ["DEFAULT_BANDS", "ServingRuntime", "check_api_key", "explain_matrix", "risk_band"]

log = logging.getLogger(__name__)

MODEL_NAME_ENV = "CXCHURN_MODEL_NAME"
STORE_ENV = "CXCHURN_ONLINE_STORE"
MAX_TOP_K = 50
RELOAD_STAMP = ".serving-reload"  # in the home: touched by a reload, followed by every worker


class ExplainTooLargeError(CxChurnError):
    """One /explain request asks for more drivers than ``CXCHURN_MAX_EXPLAIN_CELLS``."""

    http_status = 413


def explain_matrix(fast: FastModel, matrix: np.ndarray, columns: Mapping[str, Any],
                   top_k: int, lang: str, shap: tuple[np.ndarray, float] | None = None
                   ) -> tuple[np.ndarray, float, list[list[dict[str, Any]]]]:
    """(P(churn), SHAP base value, top-k drivers with family and reason) of matrix rows.

    ``columns`` holds the same rows' feature values (name -> values), which the drivers show.
    ``shap``: the rows' SHAP values and base value when the caller computed them already.
    """
    if lang not in LANGUAGES:
        raise ConfigError(f"lang must be one of {list(LANGUAGES)}, got {lang!r}")
    if not 1 <= int(top_k) <= MAX_TOP_K:
        raise ConfigError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}")
    if len(matrix) == 0:
        return np.zeros(0), float("nan"), []
    p = fast.predict_churn(matrix)
    values, base = shap if shap is not None else fast.shap_values(matrix)
    plain_columns = _PlainColumns(columns)
    # each reason reads the customer's other feature values (raw facts behind a driver)
    drivers = [
        [{**d.to_dict(), "family": feature_family(d.feature),
          "reason": reason(d.feature, d.value, d.direction, lang, _RowView(plain_columns, i))}
         for d in row]
        for i, row in enumerate(top_drivers(values, fast.features, plain_columns, int(top_k)))
    ]
    return p, base, drivers


class _PlainColumns(Mapping[str, Any]):
    """Name -> values columns, each turned into a plain array once, when first read: the
    reasons of many rows read the same few columns, and a frame's column access is slow."""

    def __init__(self, columns: Mapping[str, Any]) -> None:
        self._columns = columns
        self._plain: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._plain:
            self._plain[name] = plain_values(self._columns[name])
        return self._plain[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


class _RowView(Mapping[str, Any]):
    """Row ``i`` of name -> values columns, read lazily (a reason reads a few features)."""

    def __init__(self, columns: _PlainColumns, i: int) -> None:
        self._columns, self._i = columns, i

    def __getitem__(self, name: str) -> Any:
        return self._columns[name][self._i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


@dataclass(frozen=True)
class _State:
    loaded: LoadedModel | None
    model_error: str | None
    store: OnlineStore | None
    store_error: str | None
    loaded_at: str
    cache: dict[str, Any] = field(default_factory=dict)  # per-state memo (store scores)


def _now() -> str:
    return datetime.now(tz=UTC).isoformat()


class ServingRuntime:
    """The served model + online store, swapped atomically on reload. See module docstring."""

    def __init__(self, home: Path | None = None, model_name: str | None = None,
                 store_file: Path | None = None, tracking_uri: str | None = None,
                 bands: tuple[float, float] | None = None,
                 settings: Settings | None = None) -> None:
        """Explicit arguments win over ``settings`` (default: ``Settings.from_env()`` now)."""
        settings = settings or Settings.from_env()
        self.home = Path(home) if home is not None else settings.home
        self.model_name = model_name or settings.model_name or _default_name()
        self.store_file = Path(store_file or settings.online_store or store_path(self.home))
        self._settings = settings
        self._tracking_uri = tracking_uri or settings.tracking_uri
        self.bands = bands or settings.risk_bands
        self.max_explain_cells = settings.max_explain_cells
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._stamp_seen: int | None = None
        self._state_value = _State(None, "not started yet", None, "not started yet", _now())
        self.live_revision = 0  # counts in-memory patches of the store (live updates)
        # Live ingestion (serving/live/feed.py) when attached: follows other workers' updates
        # and re-applies the stored live rows over a freshly loaded store.
        self.live: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ServingRuntime:
        """Configured from the settings' home, model name, online store, bands and registry."""
        return cls(settings=settings)

    @classmethod
    def from_env(cls) -> ServingRuntime:
        """Configured from CXCHURN_HOME, CXCHURN_MODEL_NAME, CXCHURN_ONLINE_STORE, ..."""
        return cls.from_settings(Settings.from_env())

    # ------------------------------------------------------------------ loading
    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri or paths.tracking_uri(self.home, self._settings)

    def _build_state(self) -> _State:
        loaded, model_error = None, None
        try:
            loaded = load_model(self.home, self.tracking_uri, self.model_name)
        except CxChurnError as err:
            model_error = str(err)
        store, store_error = None, None
        if not self.store_file.is_file():
            store_error = (f"no online store at {self.store_file}; run `cxchurn online "
                           "materialize` to score customers by id")
        else:
            try:
                store = OnlineStore.load(self.store_file)
            except Exception as err:  # unreadable store: ids unavailable, rows still scored
                store_error = f"the online store {self.store_file} is unreadable: {err}"[:500]
        if loaded is not None and store is not None:
            lacking = [f for f in loaded.model.feature_names_ if f not in store.table.columns]
            if lacking:
                store_error = (
                    f"the online store lacks {len(lacking)} feature(s) the model needs "
                    f"({lacking[:10]}); re-run `cxchurn online materialize` with the feature "
                    "spec the model was trained on")
                store = None
        return _State(loaded, model_error, store, store_error, _now())

    def start(self) -> dict[str, Any]:
        """Load model and store; never raises (an un-ready service explains itself instead)."""
        self._stamp_seen = read_stamp(self._stamp_path)
        return self._load()

    # A service runs several worker processes, each with its own runtime; POST /reload reaches
    # one of them. That one touches a stamp file in the home, and every runtime compares the
    # stamp (one stat) whenever a request reads its state, reloading when it changed. The
    # request that notices waits for the reload, as the one that asked for it does.
    @property
    def _stamp_path(self) -> Path:
        return self.home / RELOAD_STAMP

    @property
    def _state(self) -> _State:
        seen = read_stamp(self._stamp_path)
        if seen != self._stamp_seen:
            with self._reload_lock:
                if seen != self._stamp_seen:
                    self._stamp_seen = seen
                    log.info("another worker reloaded: following it")
                    self._load()
        if self.live is not None:
            self.live.follow()
        return self._state_value

    def reload(self) -> dict[str, Any]:
        """Load the current champion and store into a new state, then swap it in, here and
        (through the stamp file) in the other worker processes."""
        with self._reload_lock:
            meta = self._load()
            try:
                self._stamp_seen = write_stamp(self._stamp_path)
            except OSError as err:  # a read-only home: this worker still reloaded
                log.warning("could not tell other workers to reload: %s", err)
        return meta

    def _load(self) -> dict[str, Any]:
        state = self._build_state()
        if self.live is not None and state.store is not None:
            state = self._patched(state, *self.live.stored_rows(state.store))
        if state.loaded is not None:
            self._fast(state)
            if state.store is not None:
                self._scored(state)  # score the store before the swap: no request waits
                self._store_horizons(state, state.loaded.model)
        with self._lock:
            self._state_value = state
        refreeze()  # the replaced state's cycles are collected (serving/gc_pause.py)
        info = state.loaded.info if state.loaded else {}
        log.info("serving state loaded: model=%s v%s source=%s, store rows=%s",
                 self.model_name, info.get("model_version"), info.get("source"),
                 len(state.store) if state.store else 0)
        return self._metadata(state)

    def patch_store(self, rows: pd.DataFrame, removed: Sequence[str],
                    matrix: np.ndarray | None = None) -> None:
        """Replace (or add) customers' online rows and drop ``removed`` ones, in memory.

        Copy-on-write like a reload: requests in flight keep the old state; scores and the
        model matrix are computed for the new rows only (``matrix``: theirs, if known).
        """
        with self._lock:
            self._state_value = self._patched(self._state_value, rows, removed, matrix)
            self.live_revision += 1

    def store_scores(self, ids: Sequence[str]
                     ) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
        """(known ids, served P(churn), bands, model matrix rows) from ONE state, without
        following other workers first (the live feed reads before it patches)."""
        state = self._state_value
        if state.loaded is None or state.store is None:
            return [], np.zeros(0), [], np.zeros((0, 0))
        idx, errors = self._positions(state, ids)
        scored = self._scored(state).iloc[idx]
        return ([str(c) for c in ids if str(c) not in errors], scored["p_churn"].to_numpy(),
                scored["risk_band"].tolist(), self._store_matrix(state)[idx])

    def _patched(self, state: _State, rows: pd.DataFrame, removed: Sequence[str],
                 matrix: np.ndarray | None = None) -> _State:
        if state.store is None or (len(rows) == 0 and not removed):
            return state
        keep = state.store.kept_mask(rows, removed)
        store = state.store.with_rows(rows, removed, keep)
        cache: dict[str, Any] = {k: state.cache[k] for k in ("fast", "unseen_levels")
                                 if k in state.cache}
        if state.loaded is not None and "store_matrix" in state.cache:
            fast = self._fast(state)
            old = state.cache["store_matrix"]
            new = (matrix if matrix is not None else fast.matrix(rows)) if len(rows) else (
                np.zeros((0, old.shape[1])))
            cache["store_matrix"] = np.vstack([old[keep], new])
            if "scored_store" in state.cache:
                ids = rows[CUSTOMER_ID].astype(str).tolist()
                fresh = self._frame(fast.predict_churn(new), ids) if len(rows) else None
                cache["scored_store"] = pd.concat(
                    [state.cache["scored_store"].loc[keep], fresh], ignore_index=True)
            if "store_shap" in state.cache:  # which rows to explain again (_store_shap)
                values, ids, changed = state.cache["store_shap"]
                cache["store_shap"] = (values, ids,
                                       changed | set(rows[CUSTOMER_ID].astype(str)))
            horizon_model = attached(state.loaded.model)
            if "store_horizons" in state.cache and horizon_model is not None:
                old_h = state.cache["store_horizons"]
                new_h = (horizon_model.predict(rows) if len(rows)
                         else np.zeros((0, old_h.shape[1])))
                cache["store_horizons"] = np.vstack([old_h[keep], new_h])
        return _State(state.loaded, state.model_error, store, state.store_error,
                      state.loaded_at, cache)

    # ------------------------------------------------------------------ status
    @property
    def ready(self) -> bool:
        return self._state.loaded is not None

    @property
    def model(self) -> Any:
        state = self._state
        return state.loaded.model if state.loaded else None

    def _loaded(self) -> tuple[_State, Any]:
        state = self._state
        if state.loaded is None:
            raise ModelNotReadyError(f"no model is loaded: {state.model_error}")
        return state, state.loaded.model

    def store_meta(self) -> dict[str, Any]:
        """The loaded store's metadata as materialise wrote it (empty without a store)."""
        store = self._state_value.store
        return dict(store.meta) if store is not None else {}

    def store_now(self) -> OnlineStore | None:
        """The store as loaded, without following other workers first (the live feed's own
        view while it follows them)."""
        return self._state_value.store

    def fast_model(self) -> FastModel:
        """The served model's fast scorer and explainer (``ModelNotReadyError`` without one)."""
        state, _ = self._loaded()
        return self._fast(state)

    def require_model(self) -> Any:
        """The served ``ChurnModel``; ``ModelNotReadyError`` (with the reason) when none is."""
        return self._loaded()[1]

    def model_info(self) -> dict[str, Any]:
        """What the metadata says about the served model (empty when none), cheaply."""
        state = self._state
        return dict(state.loaded.info) if state.loaded is not None else {}

    def metadata(self) -> dict[str, Any]:
        """Model name/version/alias/trained-at/spec version/metrics, store and readiness."""
        return self._metadata(self._state)

    def _metadata(self, state: _State) -> dict[str, Any]:
        model_info: dict[str, Any] | None = None
        features: dict[str, Any] = {}
        if state.loaded is not None:
            model_info = dict(state.loaded.info)
            features = state.loaded.model.feature_schema()
        store_info: dict[str, Any] = {"path": str(self.store_file), "ready": False}
        if state.store is not None:
            store_info.update({k: state.store.meta.get(k) for k in
                               ("cutoff", "spec_version", "n_customers", "materialized_at",
                                "source")})
            store_info["ready"] = True
            # customers per categorical feature whose level the model never saw (as missing)
            store_info["unseen_categories"] = dict(state.cache.get("unseen_levels", {}))
        else:
            store_info["error"] = state.store_error
        return {
            "ready": state.loaded is not None,
            "reason": None if state.loaded is not None else state.model_error,
            "model_name": self.model_name,
            "model": model_info,
            "features": features,
            "online_store": store_info,
            "risk_bands": {"medium_from": self.bands[0], "high_from": self.bands[1]},
            "loaded_at": state.loaded_at,
        }

    # ------------------------------------------------------------------ store
    def _store(self, state: _State) -> OnlineStore:
        if state.store is None:
            raise ModelNotReadyError(f"customer lookup by id is unavailable: {state.store_error}")
        return state.store

    def online_features(self) -> pd.DataFrame:
        """The whole online store (customer_id, cutoff, features, static attributes)."""
        return self._store(self._state).table

    def scored_store(self) -> pd.DataFrame:
        """Every customer of the online store scored: customer_id, p_churn, risk_band."""
        state, _ = self._loaded()
        return self._scored(state)

    def explained_store(self) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        """(the online store's rows, their scores, their TreeSHAP values in the model's
        feature order), all of ONE state, so a live patch between them cannot mix rows."""
        state, _ = self._loaded()
        return self._store(state).table, self._scored(state), self._store_shap(state)

    def _store_shap(self, state: _State) -> np.ndarray:
        """The store's SHAP values, once per state. A live patch only notes whose rows it
        changed (``_patched``, no copy of the store's values); here the other rows keep their
        values and only the changed ones are explained, so the at-risk list follows a stream
        of events in the time of the rows that changed, not of the whole store (seconds at
        100,000 customers). TreeSHAP is per row, so this equals a full recomputation."""
        ids = pd.Index(self._store(state).table[CUSTOMER_ID].astype(str))
        known = state.cache.get("store_shap")
        matrix = self._store_matrix(state)
        if known is None or not len(known[0]):
            values, _ = self._fast(state).shap_values(matrix)
        else:
            old_values, old_ids, changed = known
            if old_ids.equals(ids) and not changed:
                return old_values
            at = old_ids.get_indexer(ids)
            redo = np.flatnonzero((at < 0) | ids.isin(list(changed)))
            values = old_values[np.maximum(at, 0)]
            if len(redo):
                values[redo] = self._fast(state).shap_values(matrix[redo])[0]
        state.cache["store_shap"] = (values, ids, frozenset())
        return values

    # ------------------------------------------------------------------ scoring
    def _fast(self, state: _State) -> FastModel:
        fast = state.cache.get("fast")
        if fast is None:
            assert state.loaded is not None
            fast = state.cache["fast"] = FastModel(state.loaded.model)
        return fast

    def _store_matrix(self, state: _State) -> np.ndarray:
        """The store as the model's float matrix, once per state (a live patch splices it).

        Raw values for reasons are read from the store's rows when asked: per-feature object
        arrays of the whole store cost ~300 MB and 200 ms per live patch at 100,000
        customers."""
        cached = state.cache.get("store_matrix")
        if cached is None:
            fast, table = self._fast(state), self._store(state).table
            cached = fast.matrix(table)
            state.cache["store_matrix"] = cached
            unseen = fast.unseen_levels(table)
            state.cache["unseen_levels"] = unseen
            if unseen:  # feature names and counts only
                log.warning("online store: category levels the model never saw, scored as "
                            "missing (customers per feature): %s", unseen)
        return cached

    def _frame(self, p: np.ndarray, ids: Sequence[str | None]) -> pd.DataFrame:
        return pd.DataFrame({CUSTOMER_ID: list(ids), "p_churn": p,
                             "risk_band": risk_band(p, self.bands)})

    def _scored(self, state: _State) -> pd.DataFrame:
        """The store's scores for ``state``, computed once per state (then by-id lookups)."""
        cached = state.cache.get("scored_store")
        if cached is None:
            matrix = self._store_matrix(state)
            ids = self._store(state).table[CUSTOMER_ID].astype(str).tolist()
            cached = self._frame(self._fast(state).predict_churn(matrix), ids)
            state.cache["scored_store"] = cached
        return cached

    @staticmethod
    def _check_columns(fast: FastModel, columns: Any) -> None:
        from training.pyfunc import model_frame

        missing = [f for f in fast.features if f not in columns]
        if missing:  # model_frame words the error the way training does
            model_frame(fast.model, pd.DataFrame(columns={c: [] for c in columns}))

    def score_columns(self, columns: Mapping[str, Any], ids: Sequence[str | None]
                      ) -> pd.DataFrame:
        """Score feature columns (name -> values, e.g. a DataFrame): [customer_id, p, band]."""
        state, _ = self._loaded()
        fast = self._fast(state)
        self._check_columns(fast, columns)
        return self._frame(fast.predict_churn(fast.matrix(columns)), ids)

    def _positions(self, state: _State, ids: Sequence[str]
                   ) -> tuple[np.ndarray, dict[str, str]]:
        store = self._store(state)
        pos = [store.positions.get(str(c)) for c in ids]
        errors = {str(c): self._unknown_message(store) for c, p in zip(ids, pos, strict=True)
                  if p is None}
        return np.array([p for p in pos if p is not None], dtype=np.int64), errors

    def score_ids(self, ids: Sequence[str]) -> tuple[pd.DataFrame, dict[str, str]]:
        """Scores of known ids (request order) and a message per unknown id."""
        state, _ = self._loaded()
        idx, errors = self._positions(state, ids)
        return self._scored(state).iloc[idx].reset_index(drop=True), errors

    @staticmethod
    def _unknown_message(store: OnlineStore) -> str:
        return (f"unknown customer id: not in the online store (materialized at cutoff "
                f"{store.meta.get('cutoff')}); check the id, or re-run `cxchurn online "
                "materialize` if the customer is new")

    # ------------------------------------------------------------------ explaining
    def check_explain_size(self, n: int, top_k: int) -> None:
        """ExplainTooLargeError when ``n`` customers x ``top_k`` drivers pass the limit: one
        request must not hold a worker for minutes (``CXCHURN_MAX_EXPLAIN_CELLS``)."""
        if n * top_k > self.max_explain_cells:
            per = max(1, self.max_explain_cells // max(1, top_k))
            raise ExplainTooLargeError(
                f"this request asks for {n} customers x top_k {top_k} = {n * top_k} drivers; "
                f"the limit is {self.max_explain_cells} per request (CXCHURN_MAX_EXPLAIN_CELLS)"
                f": split it into requests of at most {per} customers, or ask for fewer "
                "drivers (top_k)")

    def explain_columns(self, columns: Mapping[str, Any], top_k: int = 5, lang: str = "en"
                        ) -> tuple[np.ndarray, float, list[list[dict[str, Any]]]]:
        """(P(churn) per row, SHAP base value, top-k drivers with reasons per row)."""
        state, _ = self._loaded()
        fast = self._fast(state)
        self._check_columns(fast, columns)
        return explain_matrix(fast, fast.matrix(columns), columns, top_k, lang)

    def explain_known_ids(self, ids: Sequence[str], top_k: int = 5, lang: str = "en"
                          ) -> tuple[list[str], np.ndarray, float, list[list[dict[str, Any]]],
                                     dict[str, str]]:
        """(known ids, P(churn), base, drivers) in request order, and unknown-id messages."""
        state, _ = self._loaded()
        idx, errors = self._positions(state, ids)
        matrix = self._store_matrix(state)
        columns = self._store(state).table.iloc[idx].reset_index(drop=True)
        known = [str(c) for c in ids if str(c) not in errors]
        p, base, drivers = explain_matrix(self._fast(state), matrix[idx], columns, top_k, lang)
        return known, p, base, drivers, errors

    def explain_ids(self, ids: Sequence[str], top_k: int = 5, lang: str = "en"
                    ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
        """Top-k drivers with reasons per known id, and a message per unknown id."""
        known, _, _, drivers, errors = self.explain_known_ids(ids, top_k, lang)
        return dict(zip(known, drivers, strict=True)), errors

    # ------------------------------------------------------------------ horizons
    def _store_horizons(self, state: _State, model: Any) -> np.ndarray | None:
        """The store's P(churn within each horizon), once per state (None: no horizon model)."""
        horizon_model = attached(model)
        if horizon_model is None:
            return None
        cached = state.cache.get("store_horizons")
        if cached is None:
            cached = state.cache["store_horizons"] = horizon_model.predict(
                self._store(state).table)
        return cached

    def horizons_of_ids(self, ids: Sequence[str]) -> tuple[tuple[int, ...], np.ndarray] | None:
        """(horizons, P(churn within each) per known id, request order), or None when the
        served model has no horizon model (``training.horizons``)."""
        state, model = self._loaded()
        horizon_model, found = attached(model), self._store_horizons(state, model)
        if horizon_model is None or found is None:
            return None
        positions = self._store(state).positions
        return horizon_model.horizons, found[np.array([positions[str(c)] for c in ids],
                                                      dtype=np.int64)]

    def horizons_of_columns(self, columns: Mapping[str, Any]
                            ) -> tuple[tuple[int, ...], np.ndarray] | None:
        """The same for posted feature columns (already checked against the model)."""
        horizon_model = attached(self.require_model())
        if horizon_model is None:
            return None
        return horizon_model.horizons, horizon_model.predict(columns)

    def store_cutoff(self) -> str | None:
        """The cutoff the online store was materialized at (None without a store)."""
        state = self._state
        if state.store is None:
            return None
        if CUTOFF in state.store.table.columns and len(state.store.table):
            return str(pd.Timestamp(state.store.table[CUTOFF].max()).isoformat())
        return state.store.meta.get("cutoff")


def _default_name() -> str:
    from training.registry import DEFAULT_MODEL_NAME

    return DEFAULT_MODEL_NAME

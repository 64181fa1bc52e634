"""Training sets over many cutoffs, split in time.

A training example is one (customer, cutoff) row of the feature build. Rows of the same
customer at different cutoffs are correlated, so a random split of rows would let a model
see a customer's later life while being scored on its earlier one. The split here is by
cutoff only: the newest cutoff(s) are the test fold, the ones just before are the validation
fold (early stopping, calibration, tuning) and everything older trains. A train cutoff whose
label window reaches into a later fold would leak the later fold's outcomes into training,
so such cutoffs are purged (left out, and said so); only when nothing is left to train on is
the split refused.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxchurn.errors import ConfigError, DataContractError
from cxchurn.settings import DEFAULT_CONTACT_COLUMNS
from features.contacts import contact_columns
from features.normalize import fold_rule
from features.schema import CUSTOMER_ID, CUTOFF, LABEL

log = logging.getLogger(__name__)

KEY_COLUMNS = (CUSTOMER_ID, CUTOFF, LABEL)


@dataclass(frozen=True)
class Split:
    """Three folds ordered in time; every cutoff belongs to exactly one fold."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    train_cutoffs: list[pd.Timestamp] = field(default_factory=list)
    valid_cutoffs: list[pd.Timestamp] = field(default_factory=list)
    test_cutoffs: list[pd.Timestamp] = field(default_factory=list)
    purged_cutoffs: list[pd.Timestamp] = field(default_factory=list)
    horizon_days: int | None = None
    not_applicable: dict[str, str] = field(default_factory=dict)  # feature -> why dropped
    applicable_note: str = ""

    def notes(self) -> list[str]:
        """What the split left out and why, in plain words (for the CLI and logs)."""
        out = []
        if self.purged_cutoffs:
            out.append(
                f"purged {len(self.purged_cutoffs)} cutoff(s) "
                f"{[c.date().isoformat() for c in self.purged_cutoffs]}: their "
                f"{self.horizon_days}-day label windows overlap the next fold's first cutoff, "
                "so their labels would be decided by events the later fold is scored on")
        if self.applicable_note:
            out.append(self.applicable_note)
        return out

    def describe(self) -> dict[str, dict[str, object]]:
        """Row counts, churn rates and cutoffs per fold (for logs and run records), plus the
        purged cutoffs and the features left out as not applicable."""
        out: dict[str, dict[str, object]] = {}
        for name, frame, cutoffs in (
            ("train", self.train, self.train_cutoffs),
            ("valid", self.valid, self.valid_cutoffs),
            ("test", self.test, self.test_cutoffs),
        ):
            out[name] = {
                "rows": len(frame),
                "churn_rate": float(frame[LABEL].mean()) if len(frame) else float("nan"),
                "cutoffs": [c.date().isoformat() for c in cutoffs],
            }
        if self.purged_cutoffs:
            out["purged"] = {"cutoffs": [c.date().isoformat() for c in self.purged_cutoffs],
                             "note": self.notes()[0]}
        if self.not_applicable:
            out["not_applicable"] = {"note": self.applicable_note,
                                     "features": dict(self.not_applicable)}
        return out


def load_examples(features_dir: str | Path) -> pd.DataFrame:
    """Read ``examples.parquet`` and attach the version of the feature spec it was built with.

    Only ``spec_version`` and ``category_fold`` (short strings) travel in ``df.attrs``, so
    that the fitted model can record which spec and category folding rule it expects without
    a second argument everywhere. The spec itself
    does not: pandas deep-copies ``attrs`` on every operation, and the whole spec there made
    a training run about a third slower. Read it with ``load_feature_spec`` where it is logged.
    """
    folder = Path(features_dir)
    path = folder / "examples.parquet"
    if not path.exists():
        raise DataContractError(
            f"expected a feature build in {folder} (examples.parquet), got no such file; "
            "run `cxchurn features build` first or pass the right folder"
        )
    examples = pd.read_parquet(path)
    validate_examples(examples, source=str(path))
    examples.attrs["spec_version"] = spec_version_of(load_feature_spec(folder))
    examples.attrs["category_fold"] = fold_rule(None)  # static attributes folded at load
    return examples


def load_feature_spec(features_dir: str | Path) -> Any:
    """The build's ``feature_spec.json`` as parsed JSON, or None when the build has none."""
    spec_path = Path(features_dir) / "feature_spec.json"
    if not spec_path.exists():
        return None
    return json.loads(spec_path.read_text())


def spec_version_of(spec: Any) -> str:
    """The version a spec document declares ("unknown" when absent)."""
    version = None
    if isinstance(spec, dict):
        version = spec.get("version") or spec.get("spec_version")
    return str(version) if version is not None else "unknown"


def validate_examples(examples: pd.DataFrame, source: str = "examples") -> None:
    """Fail early, naming the file and column, if the frame is not a labelled example table."""
    missing = [c for c in KEY_COLUMNS if c not in examples.columns]
    if missing:
        raise DataContractError(
            f"{source}: expected columns {list(KEY_COLUMNS)}, missing {missing}; "
            "pass the examples table of a feature build (features inner-joined with labels)"
        )
    bad = set(pd.unique(examples[LABEL].dropna())) - {0, 1}
    if bad or examples[LABEL].isna().any():
        raise DataContractError(
            f"{source}: column '{LABEL}' must hold 0/1 without gaps, got values "
            f"{sorted(map(str, bad)) or ['<missing>']}"
        )


def feature_columns(examples: pd.DataFrame,
                    contact_names: Sequence[str] = DEFAULT_CONTACT_COLUMNS) -> list[str]:
    """All columns except the keys, the label and contact details (``features.contacts``,
    ``contact_names``: ``Settings.contact_columns``; a table built elsewhere may still carry a
    name or a phone number), in table order."""
    contacts = set(contact_columns(examples.columns, contact_names))
    return [c for c in examples.columns if c not in KEY_COLUMNS and c not in contacts]


def applicable_features(
    frame: pd.DataFrame,
    features: Sequence[str],
    specs: object = None,
    keep: Sequence[str] = (),
) -> tuple[list[str], dict[str, str], str]:
    """(kept, dropped -> reason, note): features that can inform a model, in table order.

    A column that is all missing or holds one value (missing counted as a value) cannot
    split a tree: on a purchase-only log, every survey, ticket and delivery feature is such a
    column. They are left out before training and named, with the event types they read that
    the data lacks (from ``specs``: FeatureSpec objects; other values give no event types).
    Columns in ``keep`` are never dropped. Pass the train fold: what the model learns from.
    """
    kept: list[str] = []
    dropped: dict[str, str] = {}
    for name in features:
        column = frame[name]
        if name in keep or column.nunique(dropna=False) > 1:
            kept.append(name)
        elif column.isna().all():
            dropped[name] = "all missing"
        else:
            value: Any = column.iloc[0] if len(column) else None
            value = value.item() if hasattr(value, "item") else value
            dropped[name] = f"constant ({value!r})" if len(column) else "no rows"
    if not dropped:
        return kept, dropped, ""
    # Only features that read one event type say whether the data holds it: an "any activity"
    # feature applies when orders alone are there, and must not make sessions look present.
    single = {f: types for f, types in _event_types_read(specs).items() if len(types) == 1}
    present = sorted({t for f in kept for t in single.get(f, ())})
    lacking = sorted({t for f in dropped for t in single.get(f, ())} - set(present))
    note = (f"{len(kept)} of {len(features)} features apply; {len(dropped)} are constant or "
            f"all missing and left out")
    if lacking:
        held = ", ".join(present) if present else "none of the event types the features read"
        note = (f"your events hold {held} only (no {', '.join(lacking)}): " + note)
    shown = ", ".join(list(dropped)[:8]) + (" ..." if len(dropped) > 8 else "")
    return kept, dropped, f"{note} ({shown}; all listed in split.json)"


def _event_types_read(specs: object) -> dict[str, set[str]]:
    """Feature name -> event types it reads, following trend / NPS-category inputs."""
    by_name = {getattr(s, "name", None): s for s in specs} if isinstance(
        specs, (list, tuple)) else {}
    out: dict[str, set[str]] = {}

    def types(name: str, depth: int = 0) -> set[str]:
        spec = by_name.get(name)
        if spec is None or depth > 5:
            return set()
        found = set(getattr(spec, "event_types", ()) or ())
        for parent in getattr(spec, "inputs", ()) or ():
            found |= types(parent, depth + 1)
        return found

    for name in by_name:
        if isinstance(name, str):
            out[name] = types(name)
    return out


def categorical_columns(df: pd.DataFrame, features: Sequence[str]) -> list[str]:
    """Features stored as text or category: the static attributes LightGBM handles natively."""
    return [
        c for c in features
        if isinstance(df[c].dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(df[c].dtype)
        or df[c].dtype == object
    ]


def learn_categories(df: pd.DataFrame, columns: Sequence[str]) -> dict[str, list[str]]:
    """Sorted observed values of each categorical column (learned on the train fold only)."""
    return {c: sorted(str(v) for v in pd.unique(df[c].dropna())) for c in columns}


def prepare_frame(
    df: pd.DataFrame,
    features: Sequence[str],
    categorical: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """Select ``features`` and fix dtypes: categoricals get the train categories, others float.

    Fixed categories matter because LightGBM maps a pandas category by its integer code: the
    same category list at fit and predict keeps codes stable. A value never seen in training
    becomes missing (LightGBM sends it the way missing values go) instead of failing.
    """
    out = {}
    for col in features:
        if col in categorical:
            levels = [str(c) for c in categorical[col]]
            text = df[col].astype("object").where(df[col].notna(), None)
            text = text.where(text.isna(), text.astype(str))
            text = text.where(text.isin(levels), None)
            out[col] = pd.Categorical(text, categories=levels)
        else:
            try:
                out[col] = pd.to_numeric(df[col], errors="raise").astype("float64")
            except (TypeError, ValueError) as err:
                raise DataContractError(
                    f"feature '{col}' must be numeric (float, NaN = no data), got dtype "
                    f"{df[col].dtype}: {err}; fix the feature build or the posted row"
                ) from err
    return pd.DataFrame(out, index=df.index)


def split_out_of_time(
    examples: pd.DataFrame,
    n_valid_cutoffs: int = 1,
    n_test_cutoffs: int = 1,
    horizon_days: int = 30,
) -> Split:
    """Newest cutoff(s) = test, the newest before them = validation, older ones = train,
    purged so that no label window ``[c, c + horizon)`` reaches the next fold's first cutoff.

    Validation takes the newest cutoffs whose windows end by the first test cutoff; train takes
    every cutoff whose window ends by the first validation cutoff. Cutoffs in between are
    purged (``Split.purged_cutoffs``, logged): a monthly grid with a 90-day label loses the
    two months before each fold, not the run. Refused only when no train cutoff is left.
    """
    if n_valid_cutoffs < 1 or n_test_cutoffs < 1:
        raise ConfigError(
            f"n_valid_cutoffs and n_test_cutoffs must be >= 1, got {n_valid_cutoffs} and "
            f"{n_test_cutoffs}; early stopping and the held-out test each need a cutoff"
        )
    validate_examples(examples)
    cutoffs = sorted(pd.unique(examples[CUTOFF]))
    cutoffs = [pd.Timestamp(c) for c in cutoffs]
    need = n_valid_cutoffs + n_test_cutoffs + 1
    if len(cutoffs) < need:
        raise ConfigError(
            f"expected at least {need} cutoffs (1 train + {n_valid_cutoffs} validation + "
            f"{n_test_cutoffs} test), got {len(cutoffs)}; build features over more cutoffs"
        )
    horizon = pd.Timedelta(days=horizon_days)
    test_c = cutoffs[-n_test_cutoffs:]
    valid_c = [c for c in cutoffs[:-n_test_cutoffs] if c + horizon <= test_c[0]
               ][-n_valid_cutoffs:]
    train_c = [c for c in cutoffs if valid_c and c + horizon <= valid_c[0]]
    span = f"got {[c.date().isoformat() for c in cutoffs]}"
    fix = ("use a shorter horizon, fewer validation/test cutoffs, or build features over a "
           "longer period")
    if len(valid_c) < n_valid_cutoffs:
        last = cutoffs[-n_test_cutoffs - 1]
        raise ConfigError(
            f"the label window of validation cutoff {last.date()} (+{horizon_days} days) "
            f"overlaps the test cutoff {test_c[0].date()}, and purging leaves "
            f"{len(valid_c)} of the {n_valid_cutoffs} validation cutoff(s) needed; {span}; {fix}")
    if not train_c:
        raise ConfigError(
            f"the label window of train cutoff {cutoffs[0].date()} (+{horizon_days} days) "
            f"overlaps the validation cutoff {valid_c[0].date()}, and purging leaves no train "
            f"cutoff: expected cutoffs at least {horizon_days} days before "
            f"{valid_c[0].date()}; {span}; {fix}")
    used = set(train_c) | set(valid_c) | set(test_c)
    purged = [c for c in cutoffs if c not in used]
    if purged:
        log.info("purged %d cutoff(s) %s: their %d-day label windows overlap the next fold",
                 len(purged), [c.date().isoformat() for c in purged], horizon_days)

    def rows(selected: list[pd.Timestamp]) -> pd.DataFrame:
        # Row order is kept as given (not sorted by customer id) so that renaming customers
        # cannot change what bagging samples: the model must not depend on identifiers.
        frame = examples[examples[CUTOFF].isin(selected)].reset_index(drop=True)
        frame.attrs = dict(examples.attrs)
        return frame

    return Split(
        train=rows(train_c), valid=rows(valid_c), test=rows(test_c),
        train_cutoffs=train_c, valid_cutoffs=valid_c, test_cutoffs=test_c,
        purged_cutoffs=purged, horizon_days=horizon_days,
    )

"""Training sets over many cutoffs, split in time.

A training example is one (customer, cutoff) row of the feature build. Rows of the same
customer at different cutoffs are correlated, so a random split of rows would let a model
see a customer's later life while being scored on its earlier one. The split here is by
cutoff only: the newest cutoff(s) are the test fold, the ones just before are the validation
fold (early stopping, calibration, tuning) and everything older trains. A train cutoff whose
label window reaches into a later fold would leak the later fold's outcomes into training,
so that is refused rather than silently accepted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxchurn.errors import ConfigError, DataContractError
from features.schema import CUSTOMER_ID, CUTOFF, LABEL

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

    def describe(self) -> dict[str, dict[str, object]]:
        """Row counts, churn rates and cutoffs per fold (for logs and run records)."""
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
        return out


def load_examples(features_dir: str | Path) -> pd.DataFrame:
    """Read ``examples.parquet`` and attach the version of the feature spec it was built with.

    Only ``spec_version`` (a short string) travels in ``df.attrs``, so that the fitted model
    can record which spec it expects without a second argument everywhere. The spec itself
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


def feature_columns(examples: pd.DataFrame) -> list[str]:
    """All columns except the keys and the label, in table order."""
    return [c for c in examples.columns if c not in KEY_COLUMNS]


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
    """Newest cutoff(s) = test, the ones before = validation, the rest = train.

    Refuses a split where a train (or validation) cutoff's label window
    ``[c, c + horizon)`` reaches past the first cutoff of the next fold: those labels would be
    decided by events the later fold is evaluated on.
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
    test_c = cutoffs[-n_test_cutoffs:]
    valid_c = cutoffs[-(n_test_cutoffs + n_valid_cutoffs):-n_test_cutoffs]
    train_c = cutoffs[: len(cutoffs) - n_test_cutoffs - n_valid_cutoffs]
    horizon = pd.Timedelta(days=horizon_days)
    for earlier, later, name in ((train_c, valid_c, "train"), (valid_c, test_c, "validation")):
        if earlier[-1] + horizon > later[0]:
            raise ConfigError(
                f"the label window of {name} cutoff {earlier[-1].date()} (+{horizon_days} days) "
                f"overlaps the next fold's cutoff {later[0].date()}; expected cutoffs at least "
                f"{horizon_days} days apart at fold boundaries; use a shorter horizon or "
                "cutoffs further apart"
            )

    def rows(selected: list[pd.Timestamp]) -> pd.DataFrame:
        # Row order is kept as given (not sorted by customer id) so that renaming customers
        # cannot change what bagging samples: the model must not depend on identifiers.
        frame = examples[examples[CUTOFF].isin(selected)].reset_index(drop=True)
        frame.attrs = dict(examples.attrs)
        return frame

    return Split(
        train=rows(train_c), valid=rows(valid_c), test=rows(test_c),
        train_cutoffs=train_c, valid_cutoffs=valid_c, test_cutoffs=test_c,
    )

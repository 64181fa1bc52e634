"""Batch scoring on Spark from the registered MLflow model: probabilities, risk band, drivers.

Why two Python steps and not one: the probability comes from ``mlflow.pyfunc.spark_udf``, the
standard, documented way to run a registered model on Spark (it ships the model to the
executors and enforces its signature), so a cluster team can trust it without reading our
code. The drivers need the ``ChurnModel`` inside the pyfunc (TreeSHAP through LightGBM), which
spark_udf cannot return; they are computed in ``mapInPandas`` with
``training.explain.explain_rows`` on the same model version (loaded once on the driver and
broadcast): the explainer the scoring API and the at-risk list use (``FastModel`` SHAP,
``top_drivers`` selection, ``plain`` values), so a customer's drivers read the same in the
batch file and in ``/explain``. The risk band is ``training.bands.risk_band``, the API's, so
both agree on what "high" means. Both steps run in the same Spark stage: the rows are read once.

Output: one row per (customer_id, cutoff) with ``p_churn``, ``risk_band``, ``drivers`` (a list
of {feature, value, value_text, shap, direction}, largest |SHAP| first; a number in ``value``,
text, a category or a boolean's "True"/"False", in ``value_text``) and ``model_uri``, written
as Parquet partitioned by the cutoff's date.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cxchurn.errors import ConfigError
from features import schema
from training.bands import DEFAULT_BANDS, risk_band
from training.explain import Driver, explain_rows
from training.pyfunc import OUTPUT_COLUMN, RAW_COLUMN, load_churn_model, model_frame

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

BAND_COLUMN = "risk_band"
DRIVERS_COLUMN = "drivers"
MODEL_COLUMN = "model_uri"
DRIVER_TYPE = ("array<struct<feature: string, value: double, value_text: string, "
               "shap: double, direction: string>>")


def output_schema(keys: Sequence[str]) -> str:
    """DDL of the scored table (keys first)."""
    key_types = {schema.CUSTOMER_ID: "string", schema.CUTOFF: "timestamp"}
    cols = [f"`{k}` {key_types.get(k, 'string')}" for k in keys]
    return ", ".join([*cols, f"{OUTPUT_COLUMN} double", f"{BAND_COLUMN} string",
                      f"{DRIVERS_COLUMN} {DRIVER_TYPE}"])


def _driver_records(drivers: list[Driver]) -> list[dict[str, Any]]:
    return [{"feature": d.feature,
             "value": d.value if isinstance(d.value, float) else None,
             "value_text": d.value if isinstance(d.value, str) else None,
             "shap": d.shap, "direction": d.direction} for d in drivers]


def explain_partitions(model: Any, keys: Sequence[str], top_k: int,
                       bands: tuple[float, float]) -> Any:
    """The mapInPandas function: (keys, p_churn, features) batches -> scored batches.

    ``model`` may be the ChurnModel or a Spark broadcast of it (resolved in the executor).
    """

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        churn_model = getattr(model, "value", model)
        for batch in batches:
            if batch.empty:
                continue
            drivers = explain_rows(churn_model, model_frame(churn_model, batch), top_k=top_k)
            out = batch[list(keys)].copy()
            out[OUTPUT_COLUMN] = batch[OUTPUT_COLUMN].astype("float64")
            out[BAND_COLUMN] = risk_band(out[OUTPUT_COLUMN].to_numpy(), bands)
            out[DRIVERS_COLUMN] = [_driver_records(d) for d in drivers]
            yield out

    return run


def score_frame(spark: SparkSession, features: DataFrame, model_uri: str, *, top_k: int = 5,
                bands: tuple[float, float] = DEFAULT_BANDS,
                keys: Sequence[str] = (schema.CUSTOMER_ID, schema.CUTOFF)) -> DataFrame:
    """Score a Spark feature table with the model at ``model_uri`` (lazy; nothing runs yet)."""
    import mlflow
    from pyspark.sql import functions as F

    if not 0 <= top_k <= 50:
        raise ConfigError(f"top_k must be between 0 and 50 drivers per customer; got {top_k}.")
    model = load_churn_model(model_uri)
    names = list(model.feature_names_)
    model_frame(model, features.limit(0).toPandas())  # missing features fail here, clearly
    missing_keys = [k for k in keys if k not in features.columns]
    if missing_keys:
        raise ConfigError(f"the feature table lacks key column(s) {missing_keys}; expected "
                          f"{list(keys)} beside the model's features.")
    predict = mlflow.pyfunc.spark_udf(
        spark, model_uri, env_manager="local",
        result_type=f"{OUTPUT_COLUMN} double, {RAW_COLUMN} double")
    scored = features.select(*keys, *names).withColumn(
        "_pred", predict(F.struct(*[F.col(f"`{n}`") for n in names])))
    scored = scored.withColumn(OUTPUT_COLUMN, F.col(f"_pred.{OUTPUT_COLUMN}")).drop("_pred")
    shared = spark.sparkContext.broadcast(model)
    out = scored.mapInPandas(explain_partitions(shared, keys, top_k, bands),
                             schema=output_schema(keys))
    return out.withColumn(MODEL_COLUMN, F.lit(model_uri))


def score_to_folder(spark: SparkSession, features: str | Path | DataFrame, model_uri: str,
                    out_dir: str | Path, *, top_k: int = 5,
                    bands: tuple[float, float] = DEFAULT_BANDS) -> Path | str:
    """Read a feature table (Spark build folder, Parquet file or folder), score, write."""
    from features.spark_io import read_partitioned, write_partitioned

    frame = features if not isinstance(features, str | Path) else read_partitioned(spark, features)
    return write_partitioned(score_frame(spark, frame, model_uri, top_k=top_k, bands=bands),
                             out_dir)

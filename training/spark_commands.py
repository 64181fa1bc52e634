"""``cxchurn spark score``: batch scoring on Apache Spark from the registered model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cxchurn import paths

app = typer.Typer(no_args_is_help=True, help="Batch jobs on Apache Spark.")


@app.command("score")
def score_command(
    features: Annotated[Path, typer.Option(
        help="Feature table: a Spark build's features/ folder, or a Parquet file/folder.")],
    out: Annotated[Path | None, typer.Option(
        help="Output folder (Parquet partitioned by cutoff date); default "
             "<CXCHURN_HOME>/scores.")] = None,
    model_uri: Annotated[str | None, typer.Option(
        help="MLflow model URI; default the champion, models:/<model-name>@champion.")] = None,
    model_name: Annotated[str, typer.Option(help="Registered model name.")] = "cxchurn",
    top_k: Annotated[int, typer.Option(help="SHAP drivers per customer.")] = 5,
    master: Annotated[str, typer.Option(help="Spark master URL.")] = "local[*]",
) -> None:
    """Score every row of a feature table: P(churn), risk band and top SHAP drivers."""
    import mlflow

    from features.spark_engine import spark_session
    from training.registry import champion_uri
    from training.spark_score import score_to_folder

    console = Console(stderr=True)
    mlflow.set_tracking_uri(paths.tracking_uri())
    uri = model_uri or champion_uri(model_name)
    target = out or paths.home() / "scores"
    with console.status(f"starting Spark ({master})"):
        spark = spark_session(master)
    with console.status(f"scoring {features} with {uri}"):
        written = score_to_folder(spark, features, uri, target, top_k=top_k)
    console.print(f"scores of {uri} -> {written} (Parquet, partitioned by cutoff_date)")

"""The ``cxchurn`` command: one entry point, subcommands owned by each package.

Each package keeps its commands in its own ``commands.py`` (a typer app) so that the CLI,
the MLproject entry points and the tests call the same functions.
"""

from __future__ import annotations

import sys

import typer

from cxchurn.demo import demo_command
from cxchurn.errors import CxChurnError
from features import commands as features_commands
from features import import_commands
from features.adapters import commands as adapt_commands
from features.kpi_commands import kpis_command
from serving.api import commands as serving_commands
from serving.live import commands as live_commands
from serving.retention import commands as retention_commands
from training import commands as training_commands
from training import monitor_commands, spark_commands
from training.driver_commands import drivers_command
from uplift import commands as uplift_commands

app = typer.Typer(
    help="Churn prediction and retention driven by customer experience.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(features_commands.app, name="features", help="Simulate, load and build features.")
features_commands.app.add_typer(adapt_commands.make_app(training_commands.train_event_log),
                                name="adapt")
features_commands.register_top_level(app)
import_commands.register(app)
training_commands.register_top_level(app)
monitor_commands.register_top_level(app)
serving_commands.register_top_level(app)
live_commands.register(app)
uplift_commands.register(retention_commands.app)
app.add_typer(retention_commands.app, name="retention")
app.command("demo")(demo_command)
app.command("kpis")(kpis_command)
app.command("drivers")(drivers_command)
app.add_typer(spark_commands.app, name="spark", help="Batch scoring on Apache Spark.")


def run(typer_app: typer.Typer) -> None:
    """Run a typer app, turning user errors into a clear message and exit code 2."""
    try:
        typer_app()
    except CxChurnError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)


def main() -> None:
    """The ``cxchurn`` console script."""
    run(app)

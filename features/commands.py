"""CLI commands of the features package (``cxchurn features ...`` and ``cxchurn simulate``)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def register_top_level(root: typer.Typer) -> None:
    """Attach top-level commands owned by this package (e.g. ``cxchurn simulate``)."""

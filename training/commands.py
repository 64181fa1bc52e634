"""CLI commands of the training package (``cxchurn train``, ``cxchurn evaluate``)."""

from __future__ import annotations

import typer


def register_top_level(root: typer.Typer) -> None:
    """Attach top-level commands owned by this package."""

"""The packages stack in one direction: features -> training -> serving -> uplift -> the CLI.

Imports are read with ``ast`` (those inside functions too, which a lazy import would hide
from an import-time check), so a package reaching up a layer fails here with the file and
line. ``cxchurn``'s shared modules (errors, settings, paths, hashing) sit below everything;
its CLI modules (``cli``, ``demo``) stand above the packages they wire.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cxchurn", "features", "training", "serving", "uplift")
CLI_MODULES = frozenset({"cxchurn.cli", "cxchurn.demo"})
# package -> the project packages it must never import
FORBIDDEN = {
    "cxchurn": ("features", "training", "serving", "uplift"),  # all but the CLI modules
    "features": ("training", "serving", "uplift"),
    "training": ("serving", "uplift"),
    "serving": ("uplift",),
    "uplift": (),
}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under ``if TYPE_CHECKING:`` (never run)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return out


def _imports(name: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, runs) for every import of ``path``, inside functions too.

    ``runs`` is False for imports under ``if TYPE_CHECKING:``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.extend((t, node.lineno, id(node) not in typing_only) for t in targets)
    return found


def test_each_package_imports_only_the_layers_below_it() -> None:
    breaches = []
    for name, path in MODULES.items():
        package = name.split(".")[0]
        if name in CLI_MODULES:
            continue
        for target, line, _ in _imports(name, path):
            if target.split(".")[0] in FORBIDDEN[package]:
                breaches.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not breaches, "imports against the layering:\n" + "\n".join(breaches)


def test_no_import_cycle() -> None:
    """No two modules import each other, even lazily inside a function."""
    def ancestor(target: str, name: str) -> bool:  # Python imports a module's parents first
        return name.startswith(target + ".")

    graph = {name: sorted({t for t, _, runs in _imports(name, path) if runs and t in MODULES
                           and t != name and not ancestor(t, name)})
             for name, path in MODULES.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in graph:
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports(name: str) -> None:
    if ".spark" in name or name.split(".")[-1].startswith("spark"):
        pytest.importorskip("pyspark")
    importlib.import_module(name)

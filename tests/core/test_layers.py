"""The packages of `core` (and the GUI above them) form layers: every import points down.

Each import is counted, at the top of a file or inside a function, absolute or relative, and
``importlib.import_module("core....")`` with a constant name too. A package may import its own
modules and any package of a lower layer; an import of a package in the same or a higher layer,
or a cycle between packages, fails with the file and line that made it.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from support.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "temp_files"),  # leaf modules
    ("annotations", "model"),  # the project model; the network
    ("media",),  # frame sources, labelled sequences of frames
    ("formats",),  # dataset and export formats, layout detection
    ("datasets",),  # the table of loaders: labelled sequences for training and evaluation
    ("tracking",),  # the tracker over the network
    ("review", "training"),  # the review queue over tracker results; training over datasets and crops
    ("propagation",),  # the engine: tracker passes over a project (records the review cues)
    ("evaluation",),  # OPE, the effort simulator, the review queue's measure
    ("gui",),  # siamcross_gui
    ("commands",),  # one module per `siamcross` subcommand (`siamcross gui` starts the GUI)
    ("cli",),  # the dispatcher
)
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def package_of(module: str) -> str | None:
    """The layer name of a dotted module name: core's subpackage or top-level module, or 'gui'."""
    parts = module.split(".")
    if parts[0] == "siamcross_gui":
        return "gui"
    if parts[0] != "core" or len(parts) < 2:
        return None
    return parts[1]


def source_files() -> list[Path]:
    return sorted(ROOT.glob("core/**/*.py")) + sorted(ROOT.glob("siamcross_gui/**/*.py"))


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in one file, relative ones resolved."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]  # what `from . import` means here
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ((node.module,) if node.module else ()))
            else:
                module = node.module or ""
            if module == "core":  # from core import errors: the names are the modules
                found += [(node.lineno, f"core.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, module))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


def package_imports() -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) -> 'file:line' of each import between two packages."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in source_files():
        rel = path.relative_to(ROOT)
        source = package_of(".".join(rel.with_suffix("").parts))
        for line, module in imported_modules(path):
            target = package_of(module)
            if source and target and target != source:
                edges[(source, target)].append(f"{rel}:{line} imports {module}")
    return edges


def test_every_package_has_a_layer():
    packages = {package_of(".".join(p.relative_to(ROOT).with_suffix("").parts)) for p in source_files()}
    unplaced = sorted(p for p in packages if p and p != "__init__" and p not in LEVEL)
    assert not unplaced, f"place these in tests/core/test_layers.py LAYERS: {unplaced}"


def test_imports_only_point_down():
    wrong = [where for (source, target), places in sorted(package_imports().items())
             if target in LEVEL and source in LEVEL and LEVEL[target] >= LEVEL[source] for where in places]
    assert not wrong, "imports of a package in the same or a higher layer:\n" + "\n".join(wrong)


def test_no_cycle_between_packages():
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in package_imports():
        graph[source].add(target)
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            raise AssertionError("package cycle: " + " -> ".join(cycle))


def test_the_checker_sees_function_local_and_relative_imports():
    """The counting itself: an import inside a function, and `from .. import` forms, are found."""
    sample = ROOT / "core" / "datasets" / "loader.py"
    modules = {module for _, module in imported_modules(sample)}
    assert "core.formats.layout" in modules and "core.datasets.coco" in modules
    local = [m for _, m in imported_modules(ROOT / "core" / "commands" / "propagate.py")]
    assert "core.tracking" in local  # imported inside _tracker()

"""`core` is the Qt-free engine: importing any of it must never pull in PySide6 or pyqtgraph."""
from __future__ import annotations

import ast
import json
import subprocess
import sys

from support.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT
CORE = ROOT / "core"
QT_PACKAGES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")


def core_modules() -> list[str]:
    names = []
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_no_core_file_imports_qt_statically():
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            elif (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
                  and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
                  and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                roots = [node.args[0].value.split(".")[0]]
            else:
                continue
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {root}" for root in roots if root in QT_PACKAGES]
    assert not offenders, "core must not import Qt:\n" + "\n".join(offenders)


def test_core_reaches_the_gui_only_through_the_gui_command():
    """Data flows one way (engine -> GUI): only `siamcross gui` may start the application."""
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            if any(name.split(".")[0] == "siamcross_gui" for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert all(o.startswith("core/commands/gui.py:") for o in offenders), offenders


def test_importing_every_core_module_loads_no_qt():
    modules = core_modules()
    assert "core.cli" in modules and "core.tracking" in modules
    script = (
        "import importlib, json, sys\n"
        f"modules = {modules!r}\n"
        "failed = {}\n"
        "for name in modules:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as error:\n"
        "        failed[name] = repr(error)\n"
        "import core.tracking\n"
        "core.tracking.SiamCrossTracker\n"
        f"qt = sorted(m for m in sys.modules if m.split('.')[0] in {QT_PACKAGES!r})\n"
        "print(json.dumps({'qt': qt, 'failed': failed}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["qt"] == [], f"importing core loaded Qt modules: {report['qt']}"
    assert report["failed"] == {}, f"core modules that fail to import: {report['failed']}"

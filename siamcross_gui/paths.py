"""Where the app keeps its per-user files (settings, recent files, keymap, autosave).

SIAMCROSS_CONFIG_DIR overrides the location so tests never touch a real home directory.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
RESOURCES = PACKAGE_ROOT / "resources"


def config_dir() -> Path:
    """The per-user config folder, created on first use."""
    override = os.environ.get("SIAMCROSS_CONFIG_DIR")
    if override:
        path = Path(override)
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        path = Path(base) / "siamcross"
    path.mkdir(parents=True, exist_ok=True)
    return path


def autosave_dir() -> Path:
    """Journals of unsaved sessions live here until the project is saved."""
    path = config_dir() / "autosave"
    path.mkdir(parents=True, exist_ok=True)
    return path

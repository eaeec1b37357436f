"""Recently opened files, most recent first, kept in the user config dir."""
from __future__ import annotations

import json
from pathlib import Path

from .paths import config_dir

MAX_RECENT = 10


def recent_path() -> Path:
    return config_dir() / "recent.json"


def load_recent(path: Path | None = None) -> list[str]:
    """Entries that still exist on disk; a damaged file counts as empty."""
    try:
        data = json.loads((path or recent_path()).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [p for p in data if isinstance(p, str) and Path(p).exists()][:MAX_RECENT]


def add_recent(opened: str | Path, path: Path | None = None) -> list[str]:
    """Move opened to the front and save; returns the new list."""
    entry = str(Path(opened).resolve())
    items = [entry] + [p for p in load_recent(path) if p != entry]
    items = items[:MAX_RECENT]
    target = path or recent_path()
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(items, indent=2), encoding="utf-8")
    tmp.replace(target)
    return items

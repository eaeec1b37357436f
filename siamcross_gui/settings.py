"""User settings kept as a small JSON file (device, model, threshold, keymap, overlay)."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .paths import config_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppSettings:
    """What the settings dialog edits; frozen so a change is an explicit replace()."""

    device: str = "auto"          # auto | cpu | cuda | mps
    model: str = "lite"           # lite | r50 | path to weights
    score_threshold: float = 0.3  # below it a tracked frame counts as low confidence
    keymap_file: str = ""         # empty: <config dir>/keymap.json when present
    overlay_opacity: float = 0.5
    adapt: bool = False           # each pass learns from the track's keyframes (core.tracking.adaptation)

    def with_(self, **changes: Any) -> AppSettings:
        return replace(self, **changes)


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> AppSettings:
    """Saved settings, or defaults when the file is missing or damaged (never blocks start-up)."""
    path = path or settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AppSettings()
    except (OSError, json.JSONDecodeError) as error:
        log.warning("ignoring unreadable settings file %s: %s", path, error)
        return AppSettings()
    known = {f.name: f.type for f in fields(AppSettings)}
    values = {k: v for k, v in data.items() if k in known} if isinstance(data, dict) else {}
    try:
        return AppSettings(**values)
    except TypeError:
        return AppSettings()


def save_settings(settings: AppSettings, path: Path | None = None) -> None:
    path = path or settings_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")
    tmp.replace(path)

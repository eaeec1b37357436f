"""What a path given to the app is: a project, a labelled sequence, a video or an image folder."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import MediaError

SEQUENCE_FORMATS = ("otb", "got10k", "lasot", "mot")


@dataclass(frozen=True)
class OpenPlan:
    """kind: project | sequence | media; fmt: the dataset format of a sequence.

    path is absolute: the media path a new project records must not depend on the working
    directory the app was started from.
    """

    path: Path
    kind: str
    fmt: str | None = None


def plan_open(path: str | Path) -> OpenPlan:
    """Decide how to open path; a folder with dataset labels opens as a sequence to correct."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path} does not exist.")
    path = Path(os.path.abspath(path))
    if path.is_file() and path.suffix.lower() == ".json":
        return OpenPlan(path, "project")
    if path.is_dir():
        fmt = _sequence_format(path)
        if fmt is not None:
            return OpenPlan(path, "sequence", fmt)
    return OpenPlan(path, "media")


def _sequence_format(folder: Path) -> str | None:
    try:
        from core.datasets import detect_layout
    except ImportError:
        return None
    try:
        layout = detect_layout(folder)
    except Exception:  # noqa: BLE001 - an unrecognised folder is simply media
        return None
    return layout if layout in SEQUENCE_FORMATS else None

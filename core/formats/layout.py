"""Which dataset layout a folder holds, from the files that each layout must have."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import FormatError

LAYOUTS = ("otb", "got10k", "lasot", "mot", "coco", "project")


def _children(root: Path) -> list[Path]:
    return [d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")]


def _json_head(path: Path, size: int) -> str | None:
    """The first ``size`` characters of a text file (None when it cannot be read as UTF-8)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(size)
    except (OSError, UnicodeDecodeError):
        return None


def is_coco_file(path: Path) -> bool:
    """A .json with COCO's images and annotations (and not one of our projects), judged from its
    head so that opening a large COCO file does not parse it twice."""
    head = _json_head(path, 65536)
    if head is None or "siamcross-project" in head:
        return False
    return '"annotations"' in head and '"images"' in head


def _is_project_file(path: Path) -> bool:
    head = _json_head(path, 4096)
    if head is None:
        return False
    if "siamcross-project" in head:
        return True
    if '"annotations"' in head:
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return False
    return isinstance(data, dict) and "tracks" in data and "annotations" not in data


def detect_layout(root: Path) -> str:
    """'otb' | 'got10k' | 'lasot' | 'mot' | 'coco' | 'project'; FormatError if none fits."""
    root = Path(root)
    if root.is_file():
        if root.suffix.lower() == ".json":
            return "project" if _is_project_file(root) else "coco"
        raise FormatError(f"{root}: not a dataset folder or a .json file.")
    if not root.is_dir():
        raise FormatError(f"{root}: no such folder.")
    checks = [
        ("got10k", lambda d: (d / "groundtruth.txt").is_file() and (d / "absence.label").is_file()),
        ("lasot", lambda d: (d / "groundtruth.txt").is_file() and (d / "full_occlusion.txt").is_file()),
        ("mot", lambda d: (d / "gt" / "gt.txt").is_file()),
        ("otb", lambda d: (d / "groundtruth_rect.txt").is_file() or any(d.glob("groundtruth_rect.*.txt"))),
    ]
    levels = [[root], _children(root)]
    levels.append([g for c in levels[1] for g in _children(c)][:2000])
    if any((root / s / "list.txt").is_file() for s in ("train", "val", "test")) or (root / "list.txt").is_file():
        return "got10k"
    for level in levels:
        for name, matches in checks:
            if any(matches(d) for d in level):
                return name
    if (root / "annotations").is_dir() and any((root / "annotations").glob("*.json")):
        return "coco"
    jsons = sorted(root.glob("*.json"))
    if jsons:
        return "project" if all(_is_project_file(p) for p in jsons) else "coco"
    raise FormatError(f"{root}: no known dataset layout (OTB, GOT-10k, LaSOT, MOT, COCO or a project).")

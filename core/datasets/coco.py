"""COCO detection sets as one-frame sequences: template and search pairs from one image.

The paper trains on COCO this way (both crops from the same still image). Crowd boxes and
boxes smaller than `min_size` pixels on either side are skipped: they make no usable target.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FormatError
from .sequence import Sequence


def find_instances_file(root: Path) -> Path:
    """root itself (a .json), or the instances*.json / single .json in root or root/annotations."""
    root = Path(root)
    if root.is_file():
        return root
    for folder in (root / "annotations", root):
        candidates = sorted(folder.glob("instances*.json")) or sorted(folder.glob("*.json"))
        if candidates:
            return candidates[0]
    raise FormatError(f"{root}: no COCO instances .json file found (looked in annotations/ and the folder).")


def image_root(instances: Path, root: Path) -> Path:
    """images/<split> for instances_<split>.json (COCO layout), else images/, else the folder."""
    base = root if root.is_dir() else instances.parent
    if base.name == "annotations":
        base = base.parent
    split = instances.stem.split("_", 1)[1] if instances.stem.startswith("instances_") else ""
    candidates = [base / "images" / split, base / split] if split else []
    for candidate in [*candidates, base / "images"]:
        if candidate.is_dir():
            return candidate
    return base


def read_coco(root: Path, min_size: float = 4.0) -> list[Sequence]:
    from ..formats.coco_schema import parse_coco
    from ..formats.text import read_text

    instances = find_instances_file(Path(root))
    data = parse_coco(read_text(instances), str(instances))
    images_dir = image_root(instances, Path(root))
    sequences = []
    for ann in data.annotations:
        x, y, w, h = ann.bbox
        if ann.iscrowd or w < min_size or h < min_size:
            continue
        image = data.images[ann.image_id]
        sequences.append(Sequence(
            name=f"{Path(image.file_name).stem}-{ann.id}",
            boxes=np.array([[x, y, w, h]], dtype=np.float64),
            frames=(images_dir / image.file_name,),
            meta={"category": data.categories.get(ann.category_id, str(ann.category_id)),
                  "image_id": str(ann.image_id), "static_image": "true"}))
    return sequences

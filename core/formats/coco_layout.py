"""A COCO detection set on disk: its instances file, its image folder, its boxes per image.

Readers of COCO as training data (core.datasets, the training sampler) find the files here.
Crowd boxes and boxes smaller than `min_size` pixels on either side make no usable target.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FormatError
from .coco_schema import CocoAnnotation, CocoFile, parse_coco
from .text import read_text


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


@dataclass(frozen=True)
class CocoImages:
    """A COCO instances file's boxes grouped per image, and the folder its image files are in."""

    instances: Path
    image_dir: Path
    file_names: dict[int, str]  # image id -> file_name, in the file's image order
    boxes: dict[int, np.ndarray]  # image id -> float64 Kx4 0-based xywh, in annotation order

    def path_of(self, image_id: int) -> Path:
        return self.image_dir / self.file_names[image_id]


def load_coco(root: Path) -> tuple[Path, CocoFile, Path]:
    """(instances file, its parsed content, image folder) of a COCO file or dataset folder."""
    instances = find_instances_file(Path(root))
    return instances, parse_coco(read_text(instances), str(instances)), image_root(instances, Path(root))


def usable(ann: CocoAnnotation, min_size: float) -> bool:
    """A box to train on: not a crowd, at least min_size pixels on both sides."""
    return not ann.iscrowd and ann.bbox[2] >= min_size and ann.bbox[3] >= min_size


def read_instances(root: Path, min_size: float = 0.0) -> CocoImages:
    """Non-crowd boxes (at least min_size pixels on both sides) grouped per image, for static pairs.

    Images keep the file's image order and appear only with a box; boxes keep annotation order.
    """
    instances, data, image_dir = load_coco(root)
    grouped: dict[int, list[tuple[float, float, float, float]]] = {}
    for ann in data.annotations:
        if usable(ann, min_size):
            grouped.setdefault(ann.image_id, []).append(ann.bbox)
    order = [image_id for image_id in data.images if image_id in grouped]
    return CocoImages(instances=instances, image_dir=image_dir,
                      file_names={i: data.images[i].file_name for i in order},
                      boxes={i: np.array(grouped[i], dtype=np.float64).reshape(-1, 4) for i in order})

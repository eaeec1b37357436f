"""COCO detection sets as one-frame sequences: template and search pairs from one image.

The paper trains on COCO this way (both crops from the same still image); the files are found
by core.formats.coco_layout, which also skips crowd and too-small boxes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..formats.coco_layout import load_coco, usable
from ..media.sequence import Sequence


def read_coco(root: Path, min_size: float = 4.0) -> list[Sequence]:
    """One one-frame sequence per usable box, in annotation order."""
    _, data, images_dir = load_coco(root)
    sequences = []
    for ann in data.annotations:
        if not usable(ann, min_size):
            continue
        image = data.images[ann.image_id]
        sequences.append(Sequence(
            name=f"{Path(image.file_name).stem}-{ann.id}",
            boxes=np.array([ann.bbox], dtype=np.float64),
            frames=(images_dir / image.file_name,),
            meta={"category": data.categories.get(ann.category_id, str(ann.category_id)),
                  "image_id": str(ann.image_id), "static_image": "true"}))
    return sequences

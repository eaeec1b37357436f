"""The sampler's COCO images come from core.formats.coco_layout and draw exactly the pairs they drew
before; the sampler's former private reader is kept here as the reference."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.datasets.coco import read_coco
from core.formats.coco_layout import read_instances
from core.training.config import AugmentConfig, DataConfig, DataSource
from core.training.sampler import PairSampler, StaticImage, TrainingData, read_coco_images


def reference_read_coco_images(root: Path) -> list[StaticImage]:
    """The sampler's own COCO reader before it used core.datasets.coco (verbatim, minus logging)."""
    json_path = root if root.suffix == ".json" else next(iter(sorted(root.glob("annotations/instances_*.json"))), None)
    coco = json.loads(json_path.read_text(encoding="utf-8"))
    dataset_root = json_path.parent.parent if json_path.parent.name == "annotations" else json_path.parent
    split = json_path.stem.replace("instances_", "")
    image_dirs = [dataset_root / "images" / split, dataset_root / split, dataset_root / "images", dataset_root]
    boxes_by_image: dict[int, list[list[float]]] = {}
    for ann in coco.get("annotations", []):
        if not ann.get("iscrowd", 0):
            boxes_by_image.setdefault(ann["image_id"], []).append([float(v) for v in ann["bbox"]])
    images = []
    for info in coco.get("images", []):
        if info["id"] not in boxes_by_image:
            continue
        path = next((d / info["file_name"] for d in image_dirs if (d / info["file_name"]).is_file()), None)
        if path is None:
            continue
        images.append(StaticImage(path=path, boxes=np.asarray(boxes_by_image[info["id"]], dtype=np.float64)))
    return images


def _same(a: list[StaticImage], b: list[StaticImage]) -> None:
    assert [i.path for i in a] == [i.path for i in b]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.boxes, y.boxes)
        assert x.boxes.dtype == y.boxes.dtype == np.float64


def test_coco128_images_and_boxes_are_the_same_as_before(coco128_dir: Path) -> None:
    _same(read_coco_images(coco128_dir), reference_read_coco_images(coco128_dir))


def test_the_same_seed_draws_the_same_pairs_as_before(coco128_dir: Path) -> None:
    config = DataConfig(sources=(DataSource(str(coco128_dir), layout="coco"),))
    samplers = [PairSampler(TrainingData(images=read(coco128_dir), static_weight=1.0), config, AugmentConfig(), seed=3)
                for read in (read_coco_images, reference_read_coco_images)]
    for index in range(40):
        new, old = (s.sample(1, index) for s in samplers)
        assert new.origin == old.origin and new.kind == old.kind
        np.testing.assert_array_equal(new.template, old.template)
        np.testing.assert_array_equal(new.search, old.search)
        np.testing.assert_array_equal(new.search_box, old.search_box)


@pytest.fixture
def small_coco(tmp_path: Path) -> Path:
    """images/val/{a,b,c}.jpg; b has only a crowd box, c's file is missing, a has a tiny box."""
    (tmp_path / "images" / "val").mkdir(parents=True)
    (tmp_path / "annotations").mkdir()
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(tmp_path / "images" / "val" / name), np.zeros((20, 30, 3), np.uint8))
    data = {
        "images": [{"id": 3, "file_name": "c.jpg", "width": 30, "height": 20},
                   {"id": 1, "file_name": "a.jpg", "width": 30, "height": 20},
                   {"id": 2, "file_name": "b.jpg", "width": 30, "height": 20}],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8], "area": 80, "iscrowd": 0},
            {"id": 11, "image_id": 2, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 1},
            {"id": 12, "image_id": 1, "category_id": 1, "bbox": [3.5, 4, 2, 2], "area": 4, "iscrowd": 0},
            {"id": 13, "image_id": 3, "category_id": 1, "bbox": [1, 1, 9, 9], "area": 81, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "thing"}],
    }
    (tmp_path / "annotations" / "instances_val.json").write_text(json.dumps(data))
    return tmp_path


def test_crowd_boxes_missing_files_and_image_order_as_before(small_coco: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        images = read_coco_images(small_coco)
    _same(images, reference_read_coco_images(small_coco))
    assert [i.path.name for i in images] == ["a.jpg"]
    np.testing.assert_array_equal(images[0].boxes, [[1, 2, 10, 8], [3.5, 4, 2, 2]])
    assert "c.jpg not found" in caplog.text


def test_read_instances_groups_boxes_per_image_and_read_coco_keeps_one_sequence_per_box(small_coco: Path) -> None:
    grouped = read_instances(small_coco, min_size=4.0)
    assert grouped.image_dir == small_coco / "images" / "val"
    assert list(grouped.boxes) == [3, 1]  # the file's image order; b has only a crowd box
    np.testing.assert_array_equal(grouped.boxes[1], [[1, 2, 10, 8]])  # the 2x2 box is under min_size
    assert [s.name for s in read_coco(small_coco)] == ["a-10", "c-13"]

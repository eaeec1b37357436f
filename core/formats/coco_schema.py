"""Parsing and checking a COCO (or COCO-VID) instances file into typed records.

Shared by the COCO importers and the COCO dataset reader. Every defect (not JSON, a
missing key, a bbox that is not four numbers, a negative size, a duplicate id, an
annotation of an unknown image) is one FormatError sentence naming the file and record.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import FormatError
from .text import is_finite_number


@dataclass(frozen=True)
class CocoImage:
    id: int
    file_name: str
    width: int
    height: int
    video_id: int | None = None
    frame_id: int | None = None


@dataclass(frozen=True)
class CocoAnnotation:
    id: int
    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]
    iscrowd: bool = False
    instance_id: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CocoFile:
    images: dict[int, CocoImage]
    annotations: list[CocoAnnotation]
    categories: dict[int, str]
    videos: dict[int, dict[str, Any]]
    extra: dict[str, Any]




def _int(value: Any, where: str, key: str) -> int:
    if not is_finite_number(value) or value != int(value):
        raise FormatError(f"{where}: '{key}' must be a whole number.")
    return int(value)


def _records(data: dict, key: str, source: str, required: bool = True) -> list[dict]:
    value = data.get(key, None if required else [])
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise FormatError(f"{source}: '{key}' must be a list of objects.")
    return value


def parse_coco(text: str, source: str) -> CocoFile:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        line = getattr(error, "lineno", "?")
        raise FormatError(f"{source} line {line}: not valid JSON.") from None
    if not isinstance(data, dict):
        raise FormatError(f"{source}: a COCO file must be a JSON object.")
    categories: dict[int, str] = {}
    for n, record in enumerate(_records(data, "categories", source, required=False)):
        where = f"{source} categories[{n}]"
        cid = _int(record.get("id"), where, "id")
        if cid in categories:
            raise FormatError(f"{where}: duplicate category id {cid}.")
        categories[cid] = str(record.get("name", f"class{cid}"))
    videos: dict[int, dict[str, Any]] = {}
    for n, record in enumerate(_records(data, "videos", source, required=False)):
        vid = _int(record.get("id"), f"{source} videos[{n}]", "id")
        if vid in videos:
            raise FormatError(f"{source} videos[{n}]: duplicate video id {vid}.")
        videos[vid] = record
    images: dict[int, CocoImage] = {}
    for n, record in enumerate(_records(data, "images", source)):
        where = f"{source} images[{n}]"
        image_id = _int(record.get("id"), where, "id")
        if image_id in images:
            raise FormatError(f"{where}: duplicate image id {image_id}.")
        file_name = record.get("file_name", "")
        if not isinstance(file_name, str):
            raise FormatError(f"{where}: 'file_name' must be text.")
        video_id = _int(record["video_id"], where, "video_id") if "video_id" in record else None
        frame_id = _int(record["frame_id"], where, "frame_id") if "frame_id" in record else None
        if frame_id is not None and frame_id < 0:
            raise FormatError(f"{where}: 'frame_id' must not be negative.")
        if video_id is not None and videos and video_id not in videos:
            raise FormatError(f"{where}: video_id {video_id} is not in 'videos'.")
        images[image_id] = CocoImage(image_id, file_name, _int(record.get("width", 0), where, "width"),
                                     _int(record.get("height", 0), where, "height"), video_id, frame_id)
    annotations: list[CocoAnnotation] = []
    ids: set[int] = set()
    for n, record in enumerate(_records(data, "annotations", source)):
        where = f"{source} annotations[{n}]"
        ann_id = _int(record.get("id"), where, "id")
        if ann_id in ids:
            raise FormatError(f"{where}: duplicate annotation id {ann_id}.")
        ids.add(ann_id)
        image_id = _int(record.get("image_id"), where, "image_id")
        if image_id not in images:
            raise FormatError(f"{where}: image_id {image_id} is not in 'images'.")
        category_id = _int(record.get("category_id", 1), where, "category_id")
        if categories and category_id not in categories:
            raise FormatError(f"{where}: category_id {category_id} is not in 'categories'.")
        bbox = record.get("bbox")
        if (not isinstance(bbox, list) or len(bbox) != 4
                or not all(is_finite_number(v) for v in bbox)):
            raise FormatError(f"{where}: 'bbox' must be four finite numbers [x, y, w, h].")
        if bbox[2] < 0 or bbox[3] < 0:
            raise FormatError(f"{where}: bbox width and height must not be negative.")
        instance = _int(record["instance_id"], where, "instance_id") if "instance_id" in record else None
        attributes = record.get("attributes", {})
        if not isinstance(attributes, dict):
            raise FormatError(f"{where}: 'attributes' must be an object.")
        box = (float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3]))
        annotations.append(CocoAnnotation(ann_id, image_id, category_id, box,
                                          bool(record.get("iscrowd", 0)), instance, attributes))
    extra = data.get("siamcross", {})
    if not isinstance(extra, dict):
        raise FormatError(f"{source}: 'siamcross' must be an object.")
    return CocoFile(images, annotations, categories, videos, extra)

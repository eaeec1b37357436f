"""COCO and COCO-VID export/import of a project, readable by pycocotools.

Plain COCO: one image per labelled frame (`frames/000123.jpg`, id = frame + 1, with the
extra key `frame_id`); COCO-VID: one video, every frame an image with video_id and
frame_id (0-based), annotations with instance_id = track id. Each annotation keeps our
extras in `attributes` (track_id, provenance, score, flags), which pycocotools ignores;
labels without a box (absent frames) and the project's tracks and media live in a
top-level `siamcross` object. Importing a foreign plain COCO file makes one track per
annotation on frames ordered by file name; a foreign COCO-VID file makes one track per
instance_id.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..annotations.model import FrameLabel, Project, Provenance, Track
from ..errors import FormatError
from .coco_schema import CocoFile, parse_coco
from .frames import media_ref_for, natural_key, write_frames
from .project_json import (
    flags_to_dict,
    label_from_dict,
    label_to_dict,
    media_to_dict,
    project_fields,
    track_from_header,
    track_header,
)
from .single_object import check_frames_fit, frame_count, media_base_name
from .text import read_text

ANNOTATIONS = "annotations.json"


def frame_file(index: int) -> str:
    return f"frames/{index:06d}.jpg"


def _categories(project: Project) -> dict[str, int]:
    """The classes in use (a track with a box has it), in the project's class order: a class
    renamed or no longer used is not exported (the full class list travels in 'siamcross')."""
    used = {t.label for t in project.tracks.values() if any(f.box is not None for f in t.frames.values())}
    names = [name for name in project.classes if name in used]
    names += sorted(used - set(names))
    return {name: i + 1 for i, name in enumerate(names)}


def _area(w: float, h: float) -> float:
    area = w * h
    return area if math.isfinite(area) else 0.0  # JSON has no infinity


def coco_dict(project: Project, video: bool) -> dict[str, Any]:
    categories = _categories(project)
    width = project.media.width if project.media else 0
    height = project.media.height if project.media else 0
    tracks = sorted(project.tracks.values(), key=lambda t: t.id)
    boxed = sorted({i for t in tracks for i, f in t.frames.items() if f.box is not None})
    frames = range(frame_count(project)) if video else boxed
    images = [{"id": i + 1, "file_name": frame_file(i), "width": width, "height": height, "frame_id": i,
               **({"video_id": 1} if video else {})} for i in frames]
    annotations: list[dict[str, Any]] = []
    absent: list[dict[str, Any]] = []
    for track in tracks:
        for index, label in sorted(track.frames.items()):
            if label.box is None:
                absent.append({"track_id": track.id, "frame": index, **label_to_dict(label)})
                continue
            x, y, w, h = (float(v) for v in label.box)
            annotations.append({
                "id": len(annotations) + 1, "image_id": index + 1, "category_id": categories[track.label],
                "bbox": [x, y, w, h], "area": _area(w, h), "iscrowd": 0,
                **({"instance_id": track.id, "video_id": 1} if video else {}),
                # the track's own attributes first (CVAT reads them here), ours after them so they win
                "attributes": {**track.attributes, "track_id": track.id, "provenance": label.provenance.value,
                               "score": label.score, "flags": flags_to_dict(label.flags)}})
    data: dict[str, Any] = {
        "info": {"description": "SiamCross Annotator export", "version": "1.0"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": cid, "name": name, "supercategory": ""} for name, cid in categories.items()],
        "siamcross": {"schema": "siamcross-coco", "version": 1, "media": media_to_dict(project.media),
                      "classes": list(project.classes), "next_track_id": project.next_track_id,
                      "meta": dict(project.meta), "tracks": [track_header(t) for t in tracks],
                      "absent_labels": absent},
    }
    if video:
        data["videos"] = [{"id": 1, "name": media_base_name(project), "width": width, "height": height}]
    return data


def export_coco(project: Project, out_dir: Path, *, video: bool = False, source: object = None,
                images: bool = False, progress=None) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = coco_dict(project, video)
    path = out_dir / ANNOTATIONS
    path.write_text(json.dumps(data), encoding="utf-8")
    if images:
        media = source if source is not None else (project.media.path if project.media else None)
        if media is None:
            raise FormatError("Cannot write frame images: the project has no media.")
        write_frames(media, [(im["frame_id"], [out_dir / im["file_name"]]) for im in data["images"]], progress)
    validate_coco(path, video)
    return [path]


def validate_coco(path: Path, video: bool) -> None:
    """The file parses, every annotation's image exists, and COCO-VID frames are 0..N-1 of one video."""
    data = parse_coco(read_text(path), str(path))
    if video:
        frame_ids = sorted(im.frame_id for im in data.images.values() if im.frame_id is not None)
        if frame_ids != list(range(len(data.images))):
            raise FormatError(f"{path}: COCO-VID frame_id values are not 0..{len(data.images) - 1}.")
        for ann in data.annotations:
            if ann.instance_id is None:
                raise FormatError(f"{path}: annotation {ann.id} has no instance_id.")


def find_file(src: Path) -> Path:
    src = Path(src)
    if src.is_file():
        return src
    for candidate in (src / ANNOTATIONS, *sorted((src / "annotations").glob("*.json")), *sorted(src.glob("*.json"))):
        if candidate.is_file():
            return candidate
    raise FormatError(f"{src}: no COCO .json file found.")


def import_coco(src: Path, *, video: bool = False, media: Path | None = None) -> Project:
    path = find_file(src)
    data = parse_coco(read_text(path), str(path))
    ours = data.extra.get("schema") == "siamcross-coco"
    project = _project_from_extra(data.extra, str(path)) if ours else Project()
    frames = _frame_indices(data, video, str(path))
    if ours:
        _add_our_labels(project, data, frames, str(path))
    elif video:
        _add_instances(project, data, frames)
    else:
        for ann in sorted(data.annotations, key=lambda a: (frames[a.image_id], a.id)):
            if ann.iscrowd:
                continue
            track = Track(project.new_track_id(), data.categories.get(ann.category_id, "object"))
            track.frames[frames[ann.image_id]] = FrameLabel(ann.bbox, Provenance.IMPORTED)
            _add_track(project, track)
    if media is not None:
        project.media = media_ref_for(Path(media))
    check_frames_fit(project, path)
    return project


def _project_from_extra(extra: dict, source: str) -> Project:
    media, classes, next_id, meta = project_fields(extra, f"{source} siamcross")
    project = Project(media=media, classes=classes, next_track_id=next_id, meta=meta)
    headers = extra.get("tracks", [])
    if not isinstance(headers, list):
        raise FormatError(f"{source}: 'siamcross.tracks' must be a list.")
    for n, header in enumerate(headers):
        track = track_from_header(header, f"{source} siamcross.tracks[{n}]")
        project.tracks[track.id] = track
    absent = extra.get("absent_labels", [])
    if not isinstance(absent, list):
        raise FormatError(f"{source}: 'siamcross.absent_labels' must be a list.")
    for n, record in enumerate(absent):
        where = f"{source} siamcross.absent_labels[{n}]"
        if not isinstance(record, dict) or not isinstance(record.get("track_id"), int) \
                or not isinstance(record.get("frame"), int) or record["frame"] < 0:
            raise FormatError(f"{where}: needs whole-number 'track_id' and 'frame'.")
        track = project.tracks.get(record["track_id"]) or _add_track(project, Track(record["track_id"]))
        track.frames[record["frame"]] = label_from_dict(record, where)
    return project


def _frame_indices(data: CocoFile, video: bool, source: str) -> dict[int, int]:
    """image id -> frame: frame_id when every image has one, else the natural order of file names."""
    images = list(data.images.values())
    if video and len({im.video_id for im in images}) > 1:
        raise FormatError(f"{source}: holds {len({im.video_id for im in images})} videos; a project labels one.")
    if images and all(im.frame_id is not None for im in images):
        frames = {im.id: im.frame_id for im in images if im.frame_id is not None}  # all are
        if len(set(frames.values())) != len(frames):
            raise FormatError(f"{source}: two images share a frame_id.")
        return frames
    ordered = sorted(images, key=lambda im: (natural_key(im.file_name), im.id))
    return {im.id: i for i, im in enumerate(ordered)}


def _add_track(project: Project, track: Track) -> Track:
    project.tracks[track.id] = track
    if track.label not in project.classes:
        project.classes.append(track.label)
    project.next_track_id = max(project.next_track_id, track.id + 1)
    return track


def _add_our_labels(project: Project, data: CocoFile, frames: dict[int, int], source: str) -> None:
    for ann in data.annotations:
        where = f"{source} annotation {ann.id}"
        attributes = ann.attributes
        track_id = attributes.get("track_id", ann.instance_id)
        if isinstance(track_id, bool) or not isinstance(track_id, int):
            raise FormatError(f"{where}: attributes.track_id must be a whole number.")
        track = project.tracks.get(track_id) or _add_track(
            project, Track(track_id, data.categories.get(ann.category_id, "object")))
        frame = frames[ann.image_id]
        if frame in track.frames:
            raise FormatError(f"{where}: track {track_id} has two labels on frame {frame}.")
        label = label_from_dict({"box": list(ann.bbox), "provenance": attributes.get("provenance", "imported"),
                                 "score": attributes.get("score"), "flags": attributes.get("flags", {})}, where)
        track.frames[frame] = label


def _add_instances(project: Project, data: CocoFile, frames: dict[int, int]) -> None:
    for ann in sorted(data.annotations, key=lambda a: (frames[a.image_id], a.id)):
        if ann.iscrowd:
            continue
        track_id = ann.instance_id if ann.instance_id is not None else 1_000_000 + ann.id
        track = project.tracks.get(track_id) or _add_track(
            project, Track(track_id, data.categories.get(ann.category_id, "object")))
        if frames[ann.image_id] in track.frames:
            raise FormatError(f"Annotation {ann.id}: instance {track_id} has two boxes "
                              f"on frame {frames[ann.image_id]}.")
        track.frames[frames[ann.image_id]] = FrameLabel(ann.bbox, Provenance.IMPORTED)

"""Our project JSON as an export format, and the label encoding of the other formats' extras.

``save`` / ``load`` are core.annotations.io's project files. The rest encodes what COCO's
``siamcross`` block and annotation attributes and the ``siamcross_meta.json`` sidecar
(core.formats.sidecar) carry: media, track headers and labels, with a label's flags nested
under "flags" as every export so far has written them (the project file writes them flat).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..annotations.io import load_project, save_project, track_extras_to_dict
from ..annotations.io import media_to_dict as project_media_to_dict
from ..annotations.model import Flags, FrameLabel, MediaRef, Project, Provenance, Track
from ..errors import FormatError
from .text import is_finite_number

NAME = "project"


def save(project: Project, path: Path) -> None:
    save_project(project, Path(path))


def load(path: Path) -> Project:
    return load_project(Path(path))


def as_dict(value: Any, where: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise FormatError(f"{where}: '{key}' must be an object.")
    return value


def as_list(value: Any, where: str, key: str) -> list:
    if not isinstance(value, list):
        raise FormatError(f"{where}: '{key}' must be a list.")
    return value


def as_int(value: Any, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(f"{where}: '{key}' must be a whole number.")
    return value


def project_fields(data: Any, where: str) -> tuple[MediaRef | None, list[str], int, dict[str, str]]:
    """media, classes, next_track_id and meta of a project-like object (project, sidecar, COCO extra)."""
    data = as_dict(data, where, "project")
    classes = [str(c) for c in as_list(data.get("classes", ["object"]), where, "classes")]
    next_id = as_int(data.get("next_track_id", 1), where, "next_track_id")
    meta = {str(k): str(v) for k, v in as_dict(data.get("meta", {}), where, "meta").items()}
    return media_from_dict(data.get("media"), where), classes, next_id, meta


def flags_to_dict(flags: Flags) -> dict[str, Any]:
    return {"absent": flags.absent, "occluded": flags.occluded, "out_of_view": flags.out_of_view,
            "cut_by_image": flags.cut_by_image, "cover": flags.cover}


def flags_from_dict(data: Any, where: str) -> Flags:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: 'flags' must be an object.")
    cover = data.get("cover")
    if cover is not None and (isinstance(cover, bool) or not isinstance(cover, int) or not 0 <= cover <= 8):
        raise FormatError(f"{where}: cover must be a whole number 0-8.")
    return Flags(bool(data.get("absent", False)), bool(data.get("occluded", False)),
                 bool(data.get("out_of_view", False)), bool(data.get("cut_by_image", False)), cover)


def label_to_dict(label: FrameLabel) -> dict[str, Any]:
    return {"box": list(label.box) if label.box is not None else None, "provenance": label.provenance.value,
            "score": label.score, "flags": flags_to_dict(label.flags)}


def label_from_dict(data: Any, where: str) -> FrameLabel:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: a frame label must be an object.")
    box = data.get("box")
    if box is not None:
        if (not isinstance(box, list) or len(box) != 4
                or not all(is_finite_number(v) for v in box)):
            raise FormatError(f"{where}: 'box' must be four finite numbers or null.")
        box = tuple(float(v) for v in box)
    try:
        provenance = Provenance(data.get("provenance", "imported"))
    except ValueError:
        raise FormatError(f"{where}: unknown provenance '{str(data.get('provenance'))[:20]}'.") from None
    score = data.get("score")
    if score is not None and not is_finite_number(score):
        raise FormatError(f"{where}: 'score' must be a number or null.")
    return FrameLabel(box, provenance, None if score is None else float(score),
                      flags_from_dict(data.get("flags", {}), where))


def media_to_dict(media: MediaRef | None) -> dict[str, Any] | None:
    return None if media is None else project_media_to_dict(media)


def media_from_dict(data: Any, where: str) -> MediaRef | None:
    if data is None:
        return None
    try:
        ref = MediaRef(str(data["path"]), str(data["kind"]), as_int(data["frame_count"], where, "frame_count"),
                       as_int(data["width"], where, "width"), as_int(data["height"], where, "height"),
                       float(data.get("fps", 30.0)), str(data.get("fingerprint", "")))
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError, FormatError):
        raise FormatError(f"{where}: 'media' needs path, kind, frame_count, width and height.") from None
    if ref.frame_count < 0 or not math.isfinite(ref.fps):
        raise FormatError(f"{where}: 'media' has a negative frame count or a non-finite fps.")
    return ref


def track_header(track: Track) -> dict[str, Any]:
    """id, class, colour, visibility, and the name, lock and attributes when set."""
    return {"id": track.id, "label": track.label, "color": track.color, "hidden": track.hidden,
            **track_extras_to_dict(track)}


def track_from_header(data: Any, where: str) -> Track:
    if not isinstance(data, dict) or isinstance(data.get("id"), bool) or not isinstance(data.get("id"), int):
        raise FormatError(f"{where}: a track needs a whole-number 'id'.")
    attributes = data.get("attributes", {})
    if not isinstance(attributes, dict):
        raise FormatError(f"{where}: 'attributes' must be an object.")
    return Track(data["id"], str(data.get("label", "object")), str(data.get("color", "#ff0000")),
                 bool(data.get("hidden", False)), name=str(data.get("name", "")),
                 locked=bool(data.get("locked", False)),
                 attributes={str(k): str(v) for k, v in attributes.items()})


def frames_from_dict(data: Any, where: str) -> dict[int, FrameLabel]:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: 'frames' must be an object keyed by frame index.")
    frames = {}
    for key, value in data.items():
        if not str(key).isdigit():
            raise FormatError(f"{where}: frame key '{str(key)[:20]}' is not a frame index.")
        frames[int(key)] = label_from_dict(value, f"{where} frame {key}")
    return frames

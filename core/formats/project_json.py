"""Our project JSON as an import/export format: a thin wrapper over core.annotations.io.

When core.annotations.io is not available (it is built in parallel) a private
serialiser of the same model is used, so the CLI and the dataset reader still work;
it writes plain JSON (never pickle) atomically, with the same media path rules.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from ..annotations.media_paths import for_file, from_file
from ..annotations.model import Flags, FrameLabel, MediaRef, Project, Provenance, Track
from ..errors import FormatError
from .text import is_finite_number

NAME = "project"
SCHEMA = "siamcross-project"


def _io():
    try:
        from ..annotations import io
    except ImportError:
        return None
    return io if hasattr(io, "save_project") and hasattr(io, "load_project") else None


def save(project: Project, path: Path) -> None:
    io = _io()
    if io is not None:
        io.save_project(project, Path(path))
        return
    _atomic_write(Path(path), json.dumps(project_to_dict(for_file(project, path)), indent=1))


def load(path: Path) -> Project:
    io = _io()
    if io is not None:
        return io.load_project(Path(path))
    from .text import read_text

    try:
        data = json.loads(read_text(Path(path)))
    except (json.JSONDecodeError, RecursionError) as error:
        raise FormatError(f"{path} line {getattr(error, 'lineno', '?')}: not valid JSON.") from None
    return from_file(project_from_dict(data, str(path)), path)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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
    if media is None:
        return None
    return {"path": media.path, "kind": media.kind, "frame_count": media.frame_count, "width": media.width,
            "height": media.height, "fps": media.fps, "fingerprint": media.fingerprint}


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
    header: dict[str, Any] = {"id": track.id, "label": track.label, "color": track.color, "hidden": track.hidden}
    if track.name:
        header["name"] = track.name
    if track.locked:
        header["locked"] = True
    if track.attributes:
        header["attributes"] = dict(sorted(track.attributes.items()))
    return header


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


def project_to_dict(project: Project) -> dict[str, Any]:
    return {
        "schema": SCHEMA, "version": 1, "media": media_to_dict(project.media), "classes": list(project.classes),
        "next_track_id": project.next_track_id, "meta": dict(project.meta),
        "tracks": [{**track_header(t), "frames": {str(i): label_to_dict(f) for i, f in sorted(t.frames.items())}}
                   for t in sorted(project.tracks.values(), key=lambda t: t.id)],
    }


def frames_from_dict(data: Any, where: str) -> dict[int, FrameLabel]:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: 'frames' must be an object keyed by frame index.")
    frames = {}
    for key, value in data.items():
        if not str(key).isdigit():
            raise FormatError(f"{where}: frame key '{str(key)[:20]}' is not a frame index.")
        frames[int(key)] = label_from_dict(value, f"{where} frame {key}")
    return frames


def project_from_dict(data: Any, source: str) -> Project:
    if not isinstance(data, dict) or not isinstance(data.get("tracks", []), list):
        raise FormatError(f"{source}: not a SiamCross project file.")
    media, classes, next_id, meta = project_fields(data, source)
    project = Project(media=media, classes=classes, meta=meta)
    for n, record in enumerate(data.get("tracks", [])):
        where = f"{source} track {n}"
        track = track_from_header(record, where)
        if track.id in project.tracks:
            raise FormatError(f"{where}: duplicate track id {track.id}.")
        track.frames = frames_from_dict(record.get("frames", {}), where)
        project.tracks[track.id] = track
    project.next_track_id = max([next_id, *[t + 1 for t in project.tracks]])
    return project

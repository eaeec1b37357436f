"""Project files: versioned JSON, validated field by field on load, written atomically.

JSON (never pickle) so a project file can be read, diffed and repaired by hand and can
never execute code. Python writes floats with ``repr``, which round-trips exactly. A save
writes a temporary file in the same folder, fsyncs it, keeps the previous file as
``<name>.bak`` and then ``os.replace``s: a crash or a full disk leaves either the old or
the new file, never half of one. The media path is written relative to the project file when
the media lies beside or below it and resolved against the file's folder on load (see
media_paths), so a project opens from any working directory and after its folder moves.
The writing itself is core.annotations.atomic_file's.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from core.errors import FormatError

from .atomic_file import atomic_write, clean_leftovers
from .colors import is_hex_color
from .media_paths import for_file, from_file
from .model import Flags, FrameLabel, MediaRef, Project, Provenance, Track

SCHEMA = "siamcross-project"
VERSION = 1
_FLAG_DEFAULTS = Flags()
_CUES = ("distractor", "disagreement", "box_spread")  # optional tracker cues beside the score (files without them load)


# -- to JSON-able dicts ----------------------------------------------------------------------
def label_to_dict(label: FrameLabel) -> dict[str, Any]:
    """A FrameLabel as a small dict: default flags and a missing score are left out."""
    data: dict[str, Any] = {
        "box": None if label.box is None else [float(v) for v in label.box],
        "provenance": label.provenance.value,
    }
    if label.score is not None:
        data["score"] = float(label.score)
    for name in _CUES:
        value = getattr(label, name)
        if value is not None:
            data[name] = float(value)
    if label.corrected_from is not None:
        data["corrected_from"] = [float(v) for v in label.corrected_from]
    flags = label.flags
    for name in ("absent", "occluded", "out_of_view", "cut_by_image", "cover"):
        value = getattr(flags, name)
        if value != getattr(_FLAG_DEFAULTS, name):
            data[name] = value
    return data


def media_to_dict(media: MediaRef) -> dict[str, Any]:
    return {
        "path": media.path,
        "kind": media.kind,
        "frame_count": media.frame_count,
        "width": media.width,
        "height": media.height,
        "fps": float(media.fps),
        "fingerprint": media.fingerprint,
    }


def project_to_dict(project: Project) -> dict[str, Any]:
    tracks = []
    for track_id in sorted(project.tracks):
        track = project.tracks[track_id]
        tracks.append(
            {
                "id": track.id,
                "label": track.label,
                "color": track.color,
                "hidden": track.hidden,
                **track_extras_to_dict(track),
                "frames": [{"frame": f, **label_to_dict(track.frames[f])} for f in sorted(track.frames)],
            }
        )
    extras = {"reviewed": sorted(project.reviewed)} if project.reviewed else {}
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "media": None if project.media is None else media_to_dict(project.media),
        "classes": list(project.classes),
        "next_track_id": project.next_track_id,
        "meta": dict(project.meta),
        "tracks": tracks,
        **extras,
    }


def track_extras_to_dict(track: Track) -> dict[str, Any]:
    """name, locked and attributes, each only when set (files of tracks without them are unchanged)."""
    data: dict[str, Any] = {}
    if track.name:
        data["name"] = track.name
    if track.locked:
        data["locked"] = True
    if track.attributes:
        data["attributes"] = dict(sorted(track.attributes.items()))
    return data


def project_to_bytes(project: Project) -> bytes:
    """The project as JSON bytes, media path as it is (deterministic: same project, same bytes)."""
    data = project_to_dict(project)
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        raise FormatError("The project holds a number that is not finite (NaN or infinity) "
                          "and cannot be saved.") from None
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in some text: escaped JSON still round-trips it exactly
        return (json.dumps(data, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")


# -- from JSON-able dicts, validated ---------------------------------------------------------
class _Reader:
    """Field accessors that turn any mismatch into one FormatError sentence naming the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> FormatError:
        return FormatError(f"{self.source}: {where} {what}.")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be an object")
        return value

    def field(self, data: dict[str, Any], key: str, where: str) -> Any:
        if key not in data:
            raise self.fail(f"{where}.{key}" if where else key, "is missing")
        return data[key]

    def integer(self, value: Any, where: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, "must be an integer")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"must be at least {minimum}")
        return value

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(where, "must be a finite number")
        return float(value)

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "must be a text")
        return value

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "must be true or false")
        return value


def label_from_dict(data: Any, where: str, reader: _Reader | None = None) -> FrameLabel:
    r = reader or _Reader("project")
    data = r.obj(data, where)
    box = _box_from(r, r.field(data, "box", where), f"{where}.box")
    corrected_from = _box_from(r, data.get("corrected_from"), f"{where}.corrected_from")
    provenance_value = r.text(r.field(data, "provenance", where), f"{where}.provenance")
    try:
        provenance = Provenance(provenance_value)
    except ValueError:
        choices = ", ".join(p.value for p in Provenance)
        raise r.fail(f"{where}.provenance", f"must be one of {choices}") from None
    score = None if data.get("score") is None else r.number(data["score"], f"{where}.score")
    cues = {name: None if data.get(name) is None else r.number(data[name], f"{where}.{name}") for name in _CUES}
    cover = data.get("cover")
    if cover is not None and (r.integer(cover, f"{where}.cover") < 0 or cover > 8):
        raise r.fail(f"{where}.cover", "must be an integer from 0 to 8")
    flags = Flags(
        absent=r.boolean(data.get("absent", False), f"{where}.absent"),
        occluded=r.boolean(data.get("occluded", False), f"{where}.occluded"),
        out_of_view=r.boolean(data.get("out_of_view", False), f"{where}.out_of_view"),
        cut_by_image=r.boolean(data.get("cut_by_image", False), f"{where}.cut_by_image"),
        cover=cover,
    )
    if box is None and not flags.absent:
        raise r.fail(f"{where}.box", "may be null only when absent is true")
    return FrameLabel(box=box, provenance=provenance, score=score, flags=flags, corrected_from=corrected_from,
                      **cues)


def _box_from(r: _Reader, value: Any, where: str) -> tuple[float, float, float, float] | None:
    """Four numbers x, y, w, h with positive size, or None for null."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 4:
        raise r.fail(where, "must be four numbers x, y, w, h or null")
    box = tuple(r.number(v, where) for v in value)
    if box[2] <= 0 or box[3] <= 0:
        raise r.fail(where, "must have positive width and height")
    return box  # type: ignore[return-value]  # four numbers: length checked above


def media_from_dict(data: Any, r: _Reader) -> MediaRef:
    data = r.obj(data, "media")
    kind = r.text(r.field(data, "kind", "media"), "media.kind")
    if kind not in ("video", "images"):
        raise r.fail("media.kind", 'must be "video" or "images"')
    return MediaRef(
        path=r.text(r.field(data, "path", "media"), "media.path"),
        kind=kind,
        frame_count=r.integer(r.field(data, "frame_count", "media"), "media.frame_count", 0),
        width=r.integer(r.field(data, "width", "media"), "media.width", 0),
        height=r.integer(r.field(data, "height", "media"), "media.height", 0),
        fps=r.number(data.get("fps", 30.0), "media.fps"),
        fingerprint=r.text(data.get("fingerprint", ""), "media.fingerprint"),
    )


def project_from_dict(data: Any, source: str = "project") -> Project:
    """Build a Project from parsed JSON, checking schema, version and every field."""
    r = _Reader(source)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise FormatError(f"{source} is not a SiamCross project file (no \"schema\": \"{SCHEMA}\").")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise r.fail("version", "must be an integer")
    if version > VERSION:
        raise FormatError(f"{source} was saved by a newer SiamCross "
                          f"(file version {version}, this one reads {VERSION}).")
    if version < 1:
        raise r.fail("version", "must be at least 1")
    media = None if data.get("media") is None else media_from_dict(data["media"], r)
    classes_value = data.get("classes", ["object"])
    if not isinstance(classes_value, list):
        raise r.fail("classes", "must be a list of texts")
    classes = [r.text(c, f"classes[{i}]") for i, c in enumerate(classes_value)]
    meta_value = r.obj(data.get("meta", {}), "meta")
    meta = {r.text(k, "meta key"): r.text(v, f"meta.{k}") for k, v in meta_value.items()}
    tracks_value = data.get("tracks", [])
    if not isinstance(tracks_value, list):
        raise r.fail("tracks", "must be a list")
    tracks: dict[int, Track] = {}
    for i, track_value in enumerate(tracks_value):
        track = _track_from_dict(track_value, f"tracks[{i}]", r, media)
        if track.id in tracks:
            raise r.fail(f"tracks[{i}].id", f"repeats track id {track.id}")
        tracks[track.id] = track
    next_track_id = r.integer(data.get("next_track_id", 1), "next_track_id", 1)
    reviewed_value = data.get("reviewed", [])
    if not isinstance(reviewed_value, list):
        raise r.fail("reviewed", "must be a list of frame indices")
    reviewed = {r.integer(f, f"reviewed[{i}]", 0) for i, f in enumerate(reviewed_value)}
    return Project(media=media, tracks=tracks, classes=classes, next_track_id=next_track_id, meta=meta,
                   reviewed=reviewed)


def _track_from_dict(data: Any, where: str, r: _Reader, media: MediaRef | None) -> Track:
    data = r.obj(data, where)
    color = r.text(r.field(data, "color", where), f"{where}.color")
    if not is_hex_color(color):
        raise r.fail(f"{where}.color", "must be of the form #rrggbb")
    track = Track(
        id=r.integer(r.field(data, "id", where), f"{where}.id", 0),
        label=r.text(r.field(data, "label", where), f"{where}.label"),
        color=color,
        hidden=r.boolean(data.get("hidden", False), f"{where}.hidden"),
        name=r.text(data.get("name", ""), f"{where}.name"),
        locked=r.boolean(data.get("locked", False), f"{where}.locked"),
        attributes={r.text(k, f"{where}.attributes key"): r.text(v, f"{where}.attributes.{k}")
                    for k, v in r.obj(data.get("attributes", {}), f"{where}.attributes").items()},
    )
    frames_value = r.field(data, "frames", where)
    if not isinstance(frames_value, list):
        raise r.fail(f"{where}.frames", "must be a list")
    limit = media.frame_count if media is not None and media.frame_count > 0 else None
    for j, frame_value in enumerate(frames_value):
        at = f"{where}.frames[{j}]"
        frame = r.integer(r.field(r.obj(frame_value, at), "frame", at), f"{at}.frame", 0)
        if limit is not None and frame >= limit:
            raise r.fail(f"{at}.frame", f"is {frame} but the media has only {limit} frames")
        if frame in track.frames:
            raise r.fail(f"{at}.frame", f"repeats frame {frame}")
        track.frames[frame] = label_from_dict(frame_value, at, r)
    return track


# -- files -------------------------------------------------------------------------------------
def project_file_bytes(project: Project, path: str | os.PathLike[str]) -> bytes:
    """The exact bytes save_project(project, path) writes (the media path as that file stores it)."""
    return project_to_bytes(for_file(project, path))


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read and validate a project file; FormatError with one sentence if anything is wrong.

    The media path comes back usable from the working directory (see media_paths). Temp
    files a killed save of this file left beside it are removed first (see clean_leftovers).
    """
    path = Path(path)
    clean_leftovers(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"Project file {path} does not exist.") from None
    except OSError as error:
        raise FormatError(f"Project file {path.name} cannot be read ({error.strerror}).") from None
    return from_file(project_from_bytes(raw, path.name), path)


def project_from_bytes(raw: bytes, source: str = "project") -> Project:
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise FormatError(f"{source} is not valid JSON ({_short(error)}).") from None
    return project_from_dict(data, source)


def save_project(project: Project, path: str | os.PathLike[str]) -> str:
    """Write the project atomically, keeping the previous file as <name>.bak; returns the sha1 of what was written."""
    path = Path(path)
    payload = project_file_bytes(project, path)
    atomic_write(path, payload, keep_backup=True)
    return hashlib.sha1(payload).hexdigest()


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed")


def _short(error: Exception) -> str:
    return str(error).split("\n")[0].rstrip(".")

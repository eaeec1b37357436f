"""MOTChallenge: <seq>/gt/gt.txt rows `frame,id,x,y,w,h,conf,class,visibility`, seqinfo.ini
and img1/000001.jpg.

Frames are 1-based and so is the box's top-left pixel (MOTChallenge convention): frame 1,
x 1 is our frame 0, x 0. Shifts are exact (text.format_one_based). Only frames where a
track has a box are written; visibility carries cover/8 (or 0.5 for occluded, 1 visible).
conf 0 rows are "ignore" rows in MOT ground truth and are skipped by the dataset reader.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..annotations.model import Box, Flags, FrameLabel
from ..errors import FormatError
from .frames import list_images
from .text import (
    content_lines,
    format_ini,
    format_number,
    format_one_based,
    parse_float,
    parse_ini,
    parse_int,
    read_text,
    split_row,
)

NAME = "mot"
GT = Path("gt") / "gt.txt"


@dataclass(frozen=True)
class MotRow:
    """One gt.txt row in engine terms: 0-based frame and box."""

    frame: int
    track_id: int
    box: Box
    conf: float = 1.0
    class_id: int = 1
    visibility: float = 1.0


def parse_rows(text: str, source: str) -> list[MotRow]:
    rows: list[MotRow] = []
    seen: set[tuple[int, int]] = set()
    for number, line in enumerate(content_lines(text), start=1):
        where = f"{source} line {number}"
        tokens = split_row(line)
        if not 6 <= len(tokens) <= 10:
            raise FormatError(f"{where}: expected 9 values (frame,id,x,y,w,h,conf,class,visibility), "
                              f"found {len(tokens)}.")
        frame = parse_int(tokens[0], where)
        track_id = parse_int(tokens[1], where)
        if frame < 1:
            raise FormatError(f"{where}: frame numbers start at 1, found {frame}.")
        if track_id < 0:
            raise FormatError(f"{where}: track id must not be negative.")
        x = parse_float(tokens[2], where, one_based=True)
        y = parse_float(tokens[3], where, one_based=True)
        w = parse_float(tokens[4], where)
        h = parse_float(tokens[5], where)
        if any(math.isnan(v) for v in (x, y, w, h)):
            raise FormatError(f"{where}: the box must be numbers, not NaN.")
        if w < 0 or h < 0:
            raise FormatError(f"{where}: box width and height must not be negative.")
        conf = parse_float(tokens[6], where) if len(tokens) > 6 else 1.0
        class_id = parse_int(tokens[7], where) if len(tokens) > 7 else 1
        visibility = parse_float(tokens[8], where) if len(tokens) > 8 else 1.0
        if math.isnan(conf) or math.isnan(visibility):
            raise FormatError(f"{where}: conf and visibility must be numbers, not NaN.")
        key = (frame, track_id)
        if key in seen:
            raise FormatError(f"{where}: duplicate row for frame {frame} and id {track_id}.")
        seen.add(key)
        rows.append(MotRow(frame - 1, track_id, (x, y, w, h), conf, class_id, visibility))
    return rows


def format_row(row: MotRow) -> str:
    x, y, w, h = row.box
    return ",".join([str(row.frame + 1), str(row.track_id), format_one_based(x), format_one_based(y),
                     format_number(w), format_number(h), format_number(row.conf), str(row.class_id),
                     format_number(row.visibility)])


def read_seqinfo(seq_dir: Path) -> dict[str, str]:
    path = Path(seq_dir) / "seqinfo.ini"
    return parse_ini(read_text(path), str(path), "Sequence") if path.is_file() else {}


def seq_length(seq_dir: Path, info: dict[str, str]) -> int | None:
    if "seqLength" not in info:
        return None
    length = parse_int(info["seqLength"], str(Path(seq_dir) / "seqinfo.ini") + " seqLength")
    if length < 0:
        raise FormatError(f"{Path(seq_dir) / 'seqinfo.ini'}: seqLength must not be negative.")
    return length


def read_gt(seq_dir: Path) -> tuple[dict[str, str], list[MotRow]]:
    """seqinfo and rows; rows past seqLength do not match the media and are refused."""
    seq_dir = Path(seq_dir)
    info = read_seqinfo(seq_dir)
    rows = parse_rows(read_text(seq_dir / GT), str(seq_dir / GT))
    length = seq_length(seq_dir, info)
    if length is not None:
        for row in rows:
            if row.frame >= length:
                raise FormatError(f"{seq_dir / GT}: frame {row.frame + 1} is past seqLength {length}.")
    return info, rows


def write_gt(seq_dir: Path, info: dict[str, str], rows: list[MotRow]) -> None:
    seq_dir = Path(seq_dir)
    (seq_dir / "gt").mkdir(parents=True, exist_ok=True)
    ordered = sorted(rows, key=lambda r: (r.frame, r.track_id))
    (seq_dir / GT).write_text("".join(format_row(r) + "\n" for r in ordered), encoding="utf-8")
    (seq_dir / "seqinfo.ini").write_text(format_ini("Sequence", info, separator="="), encoding="utf-8")


def find_sequences(root: Path) -> list[Path]:
    root = Path(root)
    if (root / GT).is_file():
        return [root]
    found = [d for d in root.iterdir() if d.is_dir() and (d / GT).is_file()]
    for split in ("train", "test"):
        if (root / split).is_dir():
            found += [d for d in (root / split).iterdir() if d.is_dir() and (d / GT).is_file()]
    return sorted(found)


def validate_sequence(seq_dir: Path) -> None:
    info, rows = read_gt(seq_dir)
    for key in ("name", "imDir", "frameRate", "seqLength", "imWidth", "imHeight", "imExt"):
        if key not in info:
            raise FormatError(f"{Path(seq_dir) / 'seqinfo.ini'}: missing the {key} key.")
    images = list_images(Path(seq_dir) / info["imDir"])
    length = seq_length(seq_dir, info)
    if images and len(images) != length:
        raise FormatError(f"{Path(seq_dir) / info['imDir']}: {len(images)} images for seqLength {length}.")


def frame_path(seq_dir: Path, index: int) -> Path:
    return Path(seq_dir) / "img1" / f"{index + 1:06d}.jpg"


def visibility_of(label: FrameLabel) -> float:
    if label.flags.cover is not None:
        return label.flags.cover / 8
    if label.flags.absent:
        return 0.0
    return 0.5 if label.flags.occluded else 1.0


def flags_of(visibility: float) -> Flags:
    """Flags a foreign row implies: anything less than fully visible is occluded."""
    return Flags(occluded=visibility < 1.0)


# --- project export / import -------------------------------------------------------------

def _class_ids(project) -> dict[str, int]:
    classes = list(project.classes)
    for track in sorted(project.tracks.values(), key=lambda t: t.id):
        if track.label not in classes:
            classes.append(track.label)
    return {name: i + 1 for i, name in enumerate(classes)}


def _row_for(track, frame: int, label: FrameLabel, class_ids: dict[str, int]) -> MotRow:
    assert label.box is not None  # rows are made for labels with a box only
    x, y, w, h = label.box
    return MotRow(frame, track.id, (float(x), float(y), float(w), float(h)), 1.0, class_ids[track.label],
                  visibility_of(label))


def export_mot(project, out_dir: Path, *, source: object = None, images: bool = False, progress=None) -> list[Path]:
    """One MOT sequence folder named after the media, all tracks in gt/gt.txt, plus the sidecar."""
    from .frames import write_frames
    from .safe_paths import inside
    from .sidecar import write_sidecar
    from .single_object import frame_count, media_base_name

    out_dir = Path(out_dir)
    name = media_base_name(project)
    seq_dir = inside(out_dir, name)
    n = frame_count(project)
    class_ids = _class_ids(project)
    rows = [_row_for(t, i, f, class_ids) for t in project.tracks.values() for i, f in t.frames.items()
            if f.box is not None]
    media = project.media
    info = {"name": name, "imDir": "img1", "frameRate": format_number(media.fps if media else 30.0),
            "seqLength": str(n), "imWidth": str(media.width if media else 0),
            "imHeight": str(media.height if media else 0), "imExt": ".jpg"}
    write_gt(seq_dir, info, rows)
    write_sidecar(out_dir, NAME, project, {name: sorted(project.tracks.values(), key=lambda t: t.id)})
    if images:
        frames_from = source if source is not None else (media.path if media else None)
        if frames_from is None:
            raise FormatError("Cannot write frame images: the project has no media.")
        write_frames(frames_from, [(i, [frame_path(seq_dir, i)]) for i in range(n)], progress)
    validate_sequence(seq_dir)
    return [seq_dir]


def import_mot(src: Path, media: Path | None = None):
    """Tracks by MOT id; sidecar labels kept where gt.txt still holds exactly their row."""
    from ..annotations.model import Project, Provenance, Track
    from .frames import list_images, media_ref_for
    from .sidecar import Sidecar, find_sidecar
    from .single_object import check_frames_fit

    src = Path(src)
    if not src.is_dir():
        raise FormatError(f"{src}: not a MOT sequence folder.")
    seq_dirs = find_sequences(src)
    if len(seq_dirs) != 1:
        raise FormatError(f"{src}: holds {len(seq_dirs)} MOT sequences; import one sequence folder.")
    seq_dir = seq_dirs[0]
    info, rows = read_gt(seq_dir)
    sidecar_path = find_sidecar(seq_dir, NAME)
    sidecar = Sidecar(sidecar_path) if sidecar_path else None
    project = sidecar.new_project() if sidecar else Project()
    expected = (sidecar.tracks_for(seq_dir) or []) if sidecar else []
    class_ids = _class_ids_from(project, expected)
    by_key = {(r.frame, r.track_id): r for r in rows if r.conf != 0}
    used: set[tuple[int, int]] = set()
    for known in expected:
        track = Track(known.id, known.label, known.color, known.hidden, name=known.name, locked=known.locked,
                      attributes=dict(known.attributes))
        for frame, label in known.frames.items():
            key = (frame, known.id)
            if label.box is None:
                if key not in by_key:
                    track.frames[frame] = label
            elif key in by_key and by_key[key] == _row_for(known, frame, label, class_ids):
                track.frames[frame] = label
                used.add(key)
        project.tracks[track.id] = track
    names = {v: k for k, v in class_ids.items()}
    for key, row in sorted(by_key.items()):
        if key in used:
            continue
        row_track = project.tracks.get(row.track_id)
        if row_track is None:
            class_name = names.get(row.class_id, "object" if row.class_id == 1 else f"class{row.class_id}")
            row_track = project.tracks[row.track_id] = Track(row.track_id, class_name)
            if class_name not in project.classes:
                project.classes.append(class_name)
        row_track.frames[row.frame] = FrameLabel(row.box, Provenance.IMPORTED, None, flags_of(row.visibility))
    project.next_track_id = max([project.next_track_id, *[t + 1 for t in project.tracks]])
    if media is not None:
        project.media = media_ref_for(Path(media))
    elif sidecar is None and list_images(seq_dir / info.get("imDir", "img1")):
        project.media = media_ref_for(seq_dir / info.get("imDir", "img1"))
    check_frames_fit(project, src)
    return project


def _class_ids_from(project, tracks) -> dict[str, int]:
    classes = list(project.classes)
    for track in sorted(tracks, key=lambda t: t.id):
        if track.label not in classes:
            classes.append(track.label)
    return {name: i + 1 for i, name in enumerate(classes)}

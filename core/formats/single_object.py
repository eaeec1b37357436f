"""Export and import for the one-target-per-sequence formats: OTB, GOT-10k and LaSOT.

Each track becomes one sequence folder with a row for every frame of the media (frames
the track does not label are written as absent). The format module supplies the file
layout and `encode(label) -> (box, native flags)` / `decode(box, native) -> Flags`; this
module turns tracks into rows and rows back into tracks, trusting the sidecar wherever
the files still hold what it encodes to.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType

import numpy as np

from ..annotations.model import Box, FrameLabel, Project, Provenance, Track
from ..errors import FormatError
from ..media.sequence import Sequence
from .frames import media_ref_for, write_frames
from .safe_paths import inside, safe_name, unique_names
from .sidecar import Sidecar, find_sidecar, write_sidecar

Progress = Callable[[int, int], None]
Row = tuple[Box | None, tuple]


def frame_count(project: Project) -> int:
    """Frames to write: the media's, extended to the last labelled frame if that is later."""
    last = max((i + 1 for t in project.tracks.values() for i in t.frames), default=0)
    return max(project.media.frame_count if project.media else 0, last)


def media_base_name(project: Project) -> str:
    """The media's name ('Car4' for .../Car4/img, 'bikes' for bikes.mp4)."""
    if project.media is None:
        return "sequence"
    path = Path(project.media.path)
    if project.media.kind == "images" and path.name.lower() in {"img", "img1", "images", "frames"}:
        path = path.parent
    return safe_name(path.stem if project.media.kind == "video" else path.name)


def track_to_sequence(track: Track, n: int, fmt: ModuleType, name: str) -> Sequence:
    boxes = np.full((n, 4), np.nan)
    columns = {"absent": np.zeros(n, bool), "occluded": np.zeros(n, bool), "out_of_view": np.zeros(n, bool),
               "cut_by_image": np.zeros(n, bool), "cover": np.full(n, -1, np.int64)}
    for i in range(n):
        box, native = fmt.encode(track.frames.get(i))
        if box is not None:
            boxes[i] = box
        for key, value in native.items():
            columns[key][i] = value
    label = " ".join(track.label.split()) or "object"  # GOT-10k's toolkit cannot read an empty value
    return Sequence(name=name, boxes=boxes, meta={"object_class": label, "label": label},
                    absent=columns["absent"], occluded=columns["occluded"], out_of_view=columns["out_of_view"],
                    cut_by_image=columns["cut_by_image"], cover=columns["cover"])


def _normal(value: object) -> object:
    if isinstance(value, (np.integer, int)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return bool(value)


def row_of(seq: Sequence, i: int, carried: tuple[str, ...]) -> Row:
    box = seq.boxes[i]
    box_tuple = _floats(box) if np.isfinite(box).all() else None
    return box_tuple, tuple(_normal(getattr(seq, key)[i]) for key in carried)


def _floats(box: Iterable[float]) -> Box:
    x, y, w, h = (float(v) for v in box)
    return x, y, w, h


def encoded_row(label: FrameLabel | None, fmt: ModuleType) -> Row:
    box, native = fmt.encode(label)
    if box is not None and not (all(math.isfinite(v) for v in box) and box[2] > 0 and box[3] > 0):
        box = None  # what a zero-size box reads back as
    return (_floats(box) if box is not None else None), tuple(_normal(native[k]) for k in fmt.CARRIED)


def sequence_paths(project: Project, fmt: ModuleType) -> list[tuple[Track, tuple[str, ...]]]:
    """(track, path parts under the export root) for every track, names sanitised and distinct."""
    tracks = sorted(project.tracks.values(), key=lambda t: t.id)
    base = media_base_name(project)
    if fmt.NAME == "lasot":
        classes = [safe_name(t.label, "object") for t in tracks]
        names = unique_names([f"{c}-{t.id}" for c, t in zip(classes, tracks)])
        return [(t, (c, name)) for t, c, name in zip(tracks, classes, names)]
    names = [base] if len(tracks) == 1 else unique_names([f"{base}-{t.id}" for t in tracks])
    prefix = ("train",) if fmt.NAME == "got10k" else ()
    return [(t, (*prefix, name)) for t, name in zip(tracks, names)]


def export_single(project: Project, fmt: ModuleType, out_dir: Path, *, source: object = None,
                  images: bool = False, progress: Progress | None = None) -> list[Path]:
    n = frame_count(project)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Track]] = {}
    seq_dirs = []
    for track, parts in sequence_paths(project, fmt):
        seq_dir = inside(out_dir, *parts)
        fmt.write_sequence(track_to_sequence(track, n, fmt, parts[-1]), seq_dir)
        written["/".join(parts)] = [track]
        seq_dirs.append(seq_dir)
    if fmt.NAME == "got10k" and seq_dirs:
        fmt.write_list(seq_dirs[0].parent, [d.name for d in seq_dirs])
    write_sidecar(out_dir, fmt.NAME, project, written)
    if images and seq_dirs:
        media = source if source is not None else (project.media.path if project.media else None)
        if media is None:
            raise FormatError("Cannot write frame images: the project has no media.")
        write_frames(media, [(i, [fmt.frame_path(d, i) for d in seq_dirs]) for i in range(n)], progress)
    for seq_dir in seq_dirs:
        fmt.validate_sequence(seq_dir, n)
    return seq_dirs


def _reconciled(read: Sequence, expected: Track | None, fmt: ModuleType) -> dict[int, FrameLabel]:
    frames: dict[int, FrameLabel] = {}
    for i in range(len(read)):
        row = row_of(read, i, fmt.CARRIED)
        known = expected.frames.get(i) if expected is not None else None
        if expected is not None and row == encoded_row(known, fmt):
            if known is not None:
                frames[i] = known
            continue
        box, native = row
        flags = fmt.decode(box, dict(zip(fmt.CARRIED, native)))
        frames[i] = FrameLabel(box, Provenance.IMPORTED, None, flags)
    return frames


def import_single(src: Path, fmt: ModuleType, media: Path | None = None) -> Project:
    src = Path(src)
    if not src.is_dir():
        raise FormatError(f"{src}: not a folder of {fmt.NAME} sequences.")
    seq_dirs = fmt.find_sequences(src)
    if not seq_dirs:
        raise FormatError(f"{src}: no {fmt.NAME} sequence found.")
    sidecar_path = find_sidecar(src, fmt.NAME)
    sidecar = Sidecar(sidecar_path) if sidecar_path else None
    if sidecar is None and len(seq_dirs) > 1:
        raise FormatError(f"{src}: holds {len(seq_dirs)} {fmt.NAME} sequences; import one sequence folder.")
    project = sidecar.new_project() if sidecar else Project()
    for seq_dir in seq_dirs:
        # one folder may hold several targets of one video (OTB groundtruth_rect.1.txt, .2.txt)
        reads = fmt.read_targets(seq_dir) if hasattr(fmt, "read_targets") else [fmt.read_sequence(seq_dir)]
        known = (sidecar.tracks_for(seq_dir) or []) if sidecar else []
        for k, read in enumerate(reads):
            expected = known[k] if k < len(known) else None
            track = Track(expected.id, expected.label, expected.color, expected.hidden, name=expected.name,
                          locked=expected.locked, attributes=dict(expected.attributes)) if expected else \
                Track(project.new_track_id(), _foreign_label(read, seq_dir, fmt))
            if track.id in project.tracks:
                track.id = project.new_track_id()
            track.frames = _reconciled(read, expected, fmt)
            project.tracks[track.id] = track
            if track.label not in project.classes:
                project.classes.append(track.label)
        if sidecar is None and media is None and reads and reads[0].frames:
            project.media = media_ref_for(fmt.image_folder(seq_dir))
    project.next_track_id = max([project.next_track_id, *[t + 1 for t in project.tracks]])
    if media is not None:
        project.media = media_ref_for(Path(media))
    check_frames_fit(project, src)
    return project


def _foreign_label(read: Sequence, seq_dir: Path, fmt: ModuleType) -> str:
    if fmt.NAME == "lasot":
        return seq_dir.name.rsplit("-", 1)[0] or "object"
    return read.meta.get("object_class", "object") or "object"


def check_frames_fit(project: Project, src: Path) -> None:
    """Labels past the media's last frame mean the labels belong to other media."""
    if project.media is None or not project.media.frame_count:
        return
    last = max((i for t in project.tracks.values() for i, f in t.frames.items()
                if f.box is not None or f.provenance is not Provenance.IMPORTED), default=-1)
    if last >= project.media.frame_count:
        raise FormatError(f"{src}: labels reach frame {last + 1} but the media has {project.media.frame_count} frames.")
    for track in project.tracks.values():  # absent padding rows past the media say nothing
        track.frames = {i: f for i, f in track.frames.items() if i < project.media.frame_count}

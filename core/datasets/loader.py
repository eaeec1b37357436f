"""load_sequences: every labelled sequence under a folder, whatever its layout.

``LOADERS`` is the table: one reader per layout (core.formats.layout names them), each
turning a folder (or file) into Sequences with 0-based boxes. The files themselves are read
by the format modules of core.formats; here they become training and evaluation data:
frames and rows cut to the shorter, absent frames marked, one sequence per target.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import FormatError
from ..formats import got10k, lasot, mot, otb
from ..formats.frames import list_images
from ..formats.layout import LAYOUTS, detect_layout
from ..media.sequence import Sequence
from .coco import read_coco
from .project import read_projects


def trim_to_frames(seq: Sequence) -> Sequence:
    """Some OTB/LaSOT folders have more images than rows (or fewer): keep the common prefix."""
    if not seq.frames or len(seq.frames) == len(seq):
        return seq
    n = min(len(seq.frames), len(seq))
    return replace(seq, boxes=seq.boxes[:n], frames=seq.frames[:n], absent=seq.absent[:n],
                   occluded=seq.occluded[:n], out_of_view=seq.out_of_view[:n],
                   cut_by_image=seq.cut_by_image[:n], cover=seq.cover[:n])


def read_otb(root: Path) -> list[Sequence]:
    """Every OTB sequence under root (or root itself); multi-target folders give one per target."""
    return [trim_to_frames(otb.read_sequence(seq_dir, groundtruth))
            for seq_dir in otb.find_sequences(Path(root)) for groundtruth in otb.groundtruth_files(seq_dir)]


def read_got10k(root: Path) -> list[Sequence]:
    """root: a sequence folder, a split folder with list.txt, or the dataset root (train, val, test).
    Absence and cover 0 become absent frames (never training positives)."""
    return [trim_to_frames(got10k.read_sequence(d)) for d in got10k.find_sequences(Path(root))]


def read_lasot(root: Path) -> list[Sequence]:
    """root: a sequence folder, a class folder or the dataset root; meta 'class' from the folder.
    Full occlusion and out-of-view frames become absent."""
    sequences = []
    for seq_dir in lasot.find_sequences(Path(root)):
        seq = trim_to_frames(lasot.read_sequence(seq_dir))
        category = seq_dir.name.rsplit("-", 1)[0]
        sequences.append(replace(seq, meta={**seq.meta, "class": category}))
    return sequences


def read_mot(root: Path) -> list[Sequence]:
    """One Sequence per track id over the whole video (for single-object training). Rows with
    conf 0 (MOT's "ignore") are skipped; frames without a row are absent."""
    sequences = []
    for seq_dir in mot.find_sequences(Path(root)):
        info, rows = mot.read_gt(seq_dir)
        frames = tuple(list_images(seq_dir / info.get("imDir", "img1")))
        length = mot.seq_length(seq_dir, info)
        n = length if length is not None else max([len(frames), *[r.frame + 1 for r in rows]])
        by_track: dict[int, list[mot.MotRow]] = {}
        for row in rows:
            if row.conf != 0:
                by_track.setdefault(row.track_id, []).append(row)
        for track_id, track_rows in sorted(by_track.items()):
            boxes = np.full((n, 4), np.nan)
            visibility = np.ones(n)
            for row in track_rows:
                boxes[row.frame] = row.box
                visibility[row.frame] = row.visibility
            sequences.append(Sequence(
                name=f"{seq_dir.name}-{track_id}", boxes=boxes, frames=frames[:n] if len(frames) >= n else frames,
                occluded=visibility < 1.0,
                meta={"track_id": str(track_id), "class_id": str(track_rows[0].class_id)}))
    return sequences


LOADERS: dict[str, Callable[[Path], list[Sequence]]] = {
    "otb": read_otb, "got10k": read_got10k, "lasot": read_lasot, "mot": read_mot, "coco": read_coco,
    "project": read_projects,
}
assert tuple(LOADERS) == LAYOUTS, "one loader per layout core.formats.layout detects"


def load_sequences(root: str | Path, layout: str | None = None) -> list[Sequence]:
    """Sequences of an OTB/GOT-10k/LaSOT/MOT/COCO folder or of our project(s), 0-based boxes.

    layout None detects it (detect_layout). COCO annotations become one-frame sequences
    (static-image pairs); MOT and projects give one sequence per track.
    """
    root = Path(root)
    layout = detect_layout(root) if layout is None else layout.lower().replace("-", "")
    if layout not in LOADERS:
        raise FormatError(f"Unknown dataset layout '{layout}'; use one of {', '.join(LAYOUTS)}.")
    if not root.exists():
        raise FormatError(f"{root}: no such file or folder.")
    sequences = LOADERS[layout](root)
    if not sequences:
        raise FormatError(f"{root}: no labelled sequences found for layout {layout}.")
    return sequences

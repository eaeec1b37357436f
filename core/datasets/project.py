"""Our own projects as training data: one Sequence per track over the project's media.

Manual keyframes, imported labels and tracked frames the annotator kept are used;
interpolated frames are not (a straight line between keyframes is not ground truth).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..annotations.model import Project, Provenance
from ..formats.frames import list_images
from ..formats.project_json import load
from ..media.sequence import Sequence

TRAINING_PROVENANCE = {Provenance.MANUAL, Provenance.IMPORTED, Provenance.TRACKED}


def read_projects(path: Path) -> list[Sequence]:
    """The sequences of one project file, or of every project .json in a folder."""
    files = [path] if path.is_file() else sorted(path.glob("*.json"))
    return [s for f in files for s in read_project(f)]


def read_project(path: Path) -> list[Sequence]:
    return project_sequences(load(Path(path)), name=Path(path).stem)


def project_sequences(project: Project, name: str = "project") -> list[Sequence]:
    if project.media is None:
        return []
    media = Path(project.media.path)
    frames = tuple(list_images(media)) if project.media.kind == "images" else ()
    n = project.media.frame_count
    sequences = []
    for track in sorted(project.tracks.values(), key=lambda t: t.id):
        boxes = np.full((n, 4), np.nan)
        absent = np.zeros(n, bool)
        occluded = np.zeros(n, bool)
        out_of_view = np.zeros(n, bool)
        cut = np.zeros(n, bool)
        cover = np.full(n, -1, np.int64)
        for index, label in track.frames.items():
            if not 0 <= index < n or label.provenance not in TRAINING_PROVENANCE:
                continue
            if label.box is not None:
                boxes[index] = label.box
            absent[index] = label.flags.absent
            occluded[index] = label.flags.occluded
            out_of_view[index] = label.flags.out_of_view
            cut[index] = label.flags.cut_by_image
            cover[index] = -1 if label.flags.cover is None else label.flags.cover
        sequences.append(Sequence(
            name=f"{name}-{track.id}", boxes=boxes, frames=frames,
            video=media if project.media.kind == "video" else None,
            absent=absent, occluded=occluded, out_of_view=out_of_view, cut_by_image=cut, cover=cover,
            meta={"track_id": str(track.id), "label": track.label}))
    return sequences

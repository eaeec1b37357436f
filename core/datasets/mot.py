"""MOT sequences for single-object training: one Sequence per track id over the whole video."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .sequence import Sequence


def read_mot(root: Path) -> list[Sequence]:
    """Rows with conf 0 (MOT's "ignore") are skipped; frames without a row are absent."""
    from ..formats import mot
    from ..formats.frames import list_images

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

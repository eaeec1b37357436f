"""LaSOT sequences: full occlusion and out-of-view frames become absent."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .otb import trim_to_frames
from .sequence import Sequence


def read_lasot(root: Path) -> list[Sequence]:
    """root: a sequence folder, a class folder or the dataset root; meta 'class' from the folder."""
    from ..formats import lasot

    sequences = []
    for seq_dir in lasot.find_sequences(Path(root)):
        seq = trim_to_frames(lasot.read_sequence(seq_dir))
        category = seq_dir.name.rsplit("-", 1)[0]
        sequences.append(replace(seq, meta={**seq.meta, "class": category}))
    return sequences

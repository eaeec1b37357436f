"""OTB sequences for training and evaluation: frames and ground truth cut to the shorter."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .sequence import Sequence


def read_otb(root: Path) -> list[Sequence]:
    """Every OTB sequence under root (or root itself); multi-target folders give one per target."""
    from ..formats import otb

    sequences = []
    for seq_dir in otb.find_sequences(Path(root)):
        for groundtruth in otb.groundtruth_files(seq_dir):
            sequences.append(trim_to_frames(otb.read_sequence(seq_dir, groundtruth)))
    return sequences


def trim_to_frames(seq: Sequence) -> Sequence:
    """Some OTB/LaSOT folders have more images than rows (or fewer): keep the common prefix."""
    if not seq.frames or len(seq.frames) == len(seq):
        return seq
    n = min(len(seq.frames), len(seq))
    return replace(seq, boxes=seq.boxes[:n], frames=seq.frames[:n], absent=seq.absent[:n],
                   occluded=seq.occluded[:n], out_of_view=seq.out_of_view[:n],
                   cut_by_image=seq.cut_by_image[:n], cover=seq.cover[:n])

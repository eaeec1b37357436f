"""Real sequences read as the app reads them: through core.datasets.load_sequences."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.datasets import load_sequences


def read_sequence(seqs_dir: Path, name: str, count: int) -> tuple[list[np.ndarray], tuple[float, ...]]:
    """The first `count` BGR frames of the OTB sequence `name` and its first box (0-based x, y, w, h)."""
    (sequence,) = [s for s in load_sequences(seqs_dir, "otb") if s.name == name]
    with sequence:
        frames = [sequence.read_frame(i) for i in range(min(count, len(sequence)))]
    return frames, tuple(float(v) for v in sequence.boxes[0])

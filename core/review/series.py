"""A track as aligned arrays: what the review features read, built from stored labels.

The review works on what a project keeps (boxes, scores, provenance and the tracker cues
saved beside the score), so a queue rebuilt after reopening a project is the queue the
annotator saw before closing it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..annotations.model import Provenance, Track


@dataclass(frozen=True)
class TrackSeries:
    """One track's labelled frames in ascending order, as arrays of equal length N.

    frames: int N frame indices. boxes: float N x 4 (x, y, w, h, 0-based px; NaN rows where the
    target is absent). scores: float N (NaN where the label has none). human: bool N (manual
    or imported: never reviewed, they anchor the others). interpolated: bool N.
    disagreement / box_spread: float N tracker cues (NaN where not recorded; FrameLabel).
    """

    frames: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    human: np.ndarray
    interpolated: np.ndarray
    disagreement: np.ndarray
    box_spread: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def present(self) -> np.ndarray:
        """bool N: the frame has a box."""
        return np.isfinite(self.boxes).all(axis=1)


def _value(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def series_of(track: Track) -> TrackSeries:
    """The arrays of one track (every labelled frame, absent ones included)."""
    frames = track.frame_indices()
    labels = [track.frames[f] for f in frames]
    boxes = np.array([label.box if label.box is not None and not label.flags.absent else (np.nan,) * 4
                      for label in labels], dtype=np.float64).reshape(-1, 4)
    return TrackSeries(
        frames=np.array(frames, dtype=np.int64),
        boxes=boxes,
        scores=np.array([_value(label.score) for label in labels], dtype=np.float64),
        human=np.array([label.is_human for label in labels], dtype=bool),
        interpolated=np.array([label.provenance is Provenance.INTERPOLATED for label in labels], dtype=bool),
        disagreement=np.array([_value(label.disagreement) for label in labels], dtype=np.float64),
        box_spread=np.array([_value(label.box_spread) for label in labels], dtype=np.float64),
    )

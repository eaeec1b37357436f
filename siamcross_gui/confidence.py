"""Pure helpers over tracks for the confidence timeline and low-confidence navigation."""
from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy as np

from core.annotations.model import Track


def score_curve(track: Track, frame_count: int) -> np.ndarray:
    """float N: the score of each frame, 1.0 on keyframes, NaN where the track has no score."""
    curve = np.full(frame_count, np.nan)
    for frame, label in track.frames.items():
        if 0 <= frame < frame_count:
            if label.is_keyframe:
                curve[frame] = 1.0
            elif label.score is not None:
                curve[frame] = label.score
    return curve


def low_confidence_frames(tracks: Iterable[Track], threshold: float) -> list[int]:
    """Sorted frames where some derived (non-keyframe) label scores below threshold."""
    frames: set[int] = set()
    for track in tracks:
        for frame, label in track.frames.items():
            if not label.is_keyframe and label.score is not None and label.score < threshold:
                frames.add(frame)
    return sorted(frames)


def next_after(frames: list[int], current: int) -> int | None:
    i = bisect.bisect_right(frames, current)
    return frames[i] if i < len(frames) else None


def previous_before(frames: list[int], current: int) -> int | None:
    i = bisect.bisect_left(frames, current)
    return frames[i - 1] if i > 0 else None

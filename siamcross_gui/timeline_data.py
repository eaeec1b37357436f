"""Per-track arrays behind the confidence timeline, updated only where frames changed.

Rebuilding every track's curve from its label dict on each update cost O(frames x tracks)
of Python per refresh, several times a second while propagating. These arrays are rebuilt once
per structural change and then patched frame by frame; the widget redraws only the chunks a
patch touched. Pure numpy, no Qt.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from core.annotations.model import Track

CHUNK = 512  # frames per curve piece: an update redraws at most a few pieces, not the whole curve

# what a track has on a frame, for its row on the timeline (TrackArrays.state)
NONE, DERIVED, LOW, KEY, HUMAN, ABSENT = range(6)


@dataclass
class TrackArrays:
    """score: 1.0 on keyframes, the score on derived frames, NaN where none; low: derived frame
    scoring below the threshold; key: manual keyframe; state: NONE, DERIVED, LOW, KEY, HUMAN
    (imported) or ABSENT per frame (the track's row). All of length frame_count."""

    score: np.ndarray
    low: np.ndarray
    key: np.ndarray
    state: np.ndarray = None  # type: ignore[assignment]  # None until rebuilt

    def __post_init__(self) -> None:
        if self.state is None:
            self.state = np.zeros(len(self.score), np.uint8)


@dataclass
class TimelineData:
    frame_count: int
    threshold: float
    tracks: dict[int, TrackArrays] = field(default_factory=dict)

    def rebuild(self, track: Track) -> TrackArrays:
        n = self.frame_count
        arrays = TrackArrays(np.full(n, np.nan), np.zeros(n, bool), np.zeros(n, bool))
        self.tracks[track.id] = arrays
        self._write(track, arrays, [f for f in track.frames if 0 <= f < n])
        return arrays

    def patch(self, track: Track, frames: Iterable[int]) -> list[int]:
        """Re-read `frames` of a known track; returns the chunks whose curve piece changed."""
        arrays = self.tracks[track.id]
        n = self.frame_count
        frames = [f for f in frames if 0 <= f < n]
        self._write(track, arrays, frames)
        return chunks_touching(frames, n)

    def drop(self, track_id: int) -> None:
        self.tracks.pop(track_id, None)

    def low_any(self) -> np.ndarray:
        """bool N: some shown track scores low on the frame."""
        out = np.zeros(self.frame_count, bool)
        for arrays in self.tracks.values():
            out |= arrays.low
        return out

    def _write(self, track: Track, arrays: TrackArrays, frames: list[int]) -> None:
        labels = track.frames
        for f in frames:
            label = labels.get(f)
            if label is None:
                arrays.score[f], arrays.low[f], arrays.key[f] = np.nan, False, False
                arrays.state[f] = NONE
            elif label.is_keyframe:
                arrays.score[f], arrays.low[f], arrays.key[f] = 1.0, False, True
                arrays.state[f] = ABSENT if label.is_absent else KEY
            else:
                score = label.score
                arrays.score[f] = np.nan if score is None else score
                arrays.low[f] = score is not None and score < self.threshold
                arrays.key[f] = False
                arrays.state[f] = ABSENT if label.is_absent else HUMAN if label.is_human else \
                    LOW if arrays.low[f] else DERIVED


def chunk_count(frame_count: int) -> int:
    return max(1, -(-frame_count // CHUNK))


def chunk_span(chunk: int, frame_count: int) -> tuple[int, int]:
    """Frames [start, stop) drawn by a chunk's piece: its own frames plus the next chunk's first,
    so neighbouring pieces join without a gap."""
    start = chunk * CHUNK
    return start, min(frame_count, start + CHUNK + 1)


def chunks_touching(frames: Iterable[int], frame_count: int) -> list[int]:
    """Chunks whose piece draws any of the frames (a chunk's first frame is also its left neighbour's last)."""
    out: set[int] = set()
    for f in frames:
        chunk = f // CHUNK
        out.add(chunk)
        if f % CHUNK == 0 and chunk > 0:
            out.add(chunk - 1)
    return sorted(c for c in out if c < chunk_count(frame_count))

"""A tracker that does not move: the fast stand-in for pipeline tests.

Like the got10k toolkit's IdentityTracker, it exercises propagation, evaluation and the
GUI worker end to end in milliseconds, without a network, and its output is known
exactly (every frame gets the init box), so tests can assert on it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .inputs import check_frame, normalise_box
from .result import TrackResult


@dataclass
class IdentityState:
    """The box the target was started with (0-based x, y, w, h)."""

    box_xywh: tuple[float, float, float, float]


class IdentityTracker:
    """MultiTargetTracker that returns every target's init box with score 1.0."""

    def __init__(self) -> None:
        self._state: IdentityState | None = None

    def init_target(self, frame_bgr: np.ndarray, box_xywh: Sequence[float]) -> IdentityState:
        check_frame(frame_bgr)
        height, width = frame_bgr.shape[:2]
        return IdentityState(box_xywh=normalise_box(box_xywh, width, height))

    def track_many(self, frame_bgr: np.ndarray, targets: Sequence[IdentityState]) -> list[TrackResult]:
        check_frame(frame_bgr)
        return [TrackResult(box_xywh=t.box_xywh, score=1.0) for t in targets]

    # Single-target convenience, same shape as SiamCrossTracker.
    def init(self, frame_bgr: np.ndarray, box_xywh: Sequence[float]) -> None:
        self._state = self.init_target(frame_bgr, box_xywh)

    def track(self, frame_bgr: np.ndarray) -> TrackResult:
        if self._state is None:
            raise RuntimeError("IdentityTracker.track() called before init()")
        return self.track_many(frame_bgr, [self._state])[0]


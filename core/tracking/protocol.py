"""The one tracker interface the engine depends on.

Propagation, evaluation and the simulator take any object with this shape, so tests can
run the whole pipeline with a fast stand-in (``core.tracking.simple``) and reports can put
OpenCV's trackers beside ours.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np

from .result import TrackResult

State = TypeVar("State")


class MultiTargetTracker(Protocol[State]):
    """Tracks many targets in one frame; per-target state lives in opaque handles (of the
    tracker's own State type; a plain ``MultiTargetTracker`` is any tracker)."""

    def init_target(self, frame_bgr: np.ndarray, box_xywh: Sequence[float]) -> State:
        """Start a target on frame_bgr (uint8 HxWx3 BGR) at a 0-based x,y,w,h box; returns its state."""

    def track_many(self, frame_bgr: np.ndarray, targets: Sequence[State]) -> list[TrackResult]:
        """Advance every target to frame_bgr (one batched pass where possible), updating each state."""

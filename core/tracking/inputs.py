"""Checks and normalisation of what callers hand a tracker: frames and boxes.

Every tracker in core.tracking goes through these, so a bad box gives the same one
sentence everywhere (GUI message box, CLI line) and never a traceback.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.errors import BoxError, MediaError

MIN_BOX_SIDE = 4.0
"""Smaller boxes are grown to this side (centre kept): below it a crop carries no signal."""


def check_frame(frame: object) -> np.ndarray:
    """The frame itself if it is a uint8 HxWx3 BGR image, else MediaError."""
    if not isinstance(frame, np.ndarray):
        raise MediaError(f"a frame must be a numpy image, not {type(frame).__name__}.")
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise MediaError(f"a frame must be a uint8 height x width x 3 BGR image, got {frame.dtype} {frame.shape}.")
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise MediaError("a frame must not be empty.")
    return frame


def normalise_box(box_xywh: Sequence[float], frame_width: int, frame_height: int) -> tuple[float, float, float, float]:
    """A start box made safe to track: clipped to the frame, at least MIN_BOX_SIDE wide and high.

    Raises BoxError (one sentence) for a box that is not four finite numbers, has no
    positive size, or lies entirely outside the frame.
    """
    try:
        values = [float(v) for v in box_xywh]
    except (TypeError, ValueError):
        raise BoxError(f"the box {box_xywh!r} must be four numbers x, y, w, h.") from None
    if len(values) != 4:
        raise BoxError(f"the box must be four numbers x, y, w, h, got {len(values)}.")
    x, y, w, h = values
    if not all(math.isfinite(v) for v in values):
        raise BoxError(f"the box {_fmt(values)} contains a value that is not a finite number.")
    if w <= 0 or h <= 0:
        raise BoxError(f"the box {_fmt(values)} must have a width and height above 0.")
    x1, y1 = max(x, 0.0), max(y, 0.0)
    x2, y2 = min(x + w, float(frame_width)), min(y + h, float(frame_height))
    if x2 <= x1 or y2 <= y1:
        raise BoxError(f"the box {_fmt(values)} lies outside the {frame_width}x{frame_height} frame.")
    x1, x2 = _grow_to_minimum(x1, x2, float(frame_width))
    y1, y2 = _grow_to_minimum(y1, y2, float(frame_height))
    return (x1, y1, x2 - x1, y2 - y1)


def clip_box(center_x: float, center_y: float, width: float, height: float,
             frame_width: int, frame_height: int) -> tuple[float, float, float, float]:
    """A centre-size box as x, y, w, h intersected with the frame (never empty: >= 1 px)."""
    x1 = min(max(center_x - width / 2.0, 0.0), frame_width - 1.0)
    y1 = min(max(center_y - height / 2.0, 0.0), frame_height - 1.0)
    x2 = max(min(center_x + width / 2.0, float(frame_width)), x1 + 1.0)
    y2 = max(min(center_y + height / 2.0, float(frame_height)), y1 + 1.0)
    return (x1, y1, x2 - x1, y2 - y1)


def _grow_to_minimum(low: float, high: float, limit: float) -> tuple[float, float]:
    """Widen [low, high] to MIN_BOX_SIDE about its centre, shifted back inside [0, limit]."""
    side = min(MIN_BOX_SIDE, limit)
    if high - low >= side:
        return low, high
    center = (low + high) / 2.0
    low = min(max(center - side / 2.0, 0.0), limit - side)
    return low, low + side


def _fmt(values: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"

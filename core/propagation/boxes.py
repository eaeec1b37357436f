"""Small pure box helpers for propagation (0-based x, y, w, h floats)."""
from __future__ import annotations

import math
from collections.abc import Sequence

from ..annotations.model import as_box

Box = tuple[float, float, float, float]


def iou_xywh(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two x, y, w, h boxes; 0.0 when either is empty."""
    ax, ay, aw, ah = (float(v) for v in a)
    bx, by, bw, bh = (float(v) for v in b)
    if aw <= 0 or ah <= 0 or bw <= 0 or bh <= 0:
        return 0.0
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def lerp_box(a: Sequence[float], b: Sequence[float], t: float) -> Box:
    """The box a fraction t of the way from a to b (t=0 gives a, t=1 gives b), per coordinate."""
    return as_box(float(x) + (float(y) - float(x)) * t for x, y in zip(a, b))


def weighted_box(a: Sequence[float], b: Sequence[float], weight_a: float, weight_b: float) -> Box:
    """Weighted mean of two boxes; equal weights when both weights are zero."""
    total = weight_a + weight_b
    t = 0.5 if total <= 0 else weight_b / total
    return lerp_box(a, b, t)


def motion_jump(a: Sequence[float], b: Sequence[float]) -> float:
    """How far apart two boxes of consecutive frames are, in target sizes: centre distance over
    the mean side (sqrt of the area), plus the log change of width and of height. A tracker that
    jumps to a distractor or snaps back to the target pays it; a target moving smoothly does not."""
    ax, ay, aw, ah = (float(v) for v in a)
    bx, by, bw, bh = (float(v) for v in b)
    aw, ah, bw, bh = (max(side, 1e-3) for side in (aw, ah, bw, bh))
    distance = math.hypot(ax + aw / 2 - bx - bw / 2, ay + ah / 2 - by - bh / 2)
    side = 0.5 * (math.sqrt(aw * ah) + math.sqrt(bw * bh))
    return distance / side + abs(math.log(aw / bw)) + abs(math.log(ah / bh))

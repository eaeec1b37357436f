"""The distractor cue: what a stored label cannot recompute about a second response peak.

A second response peak close to the first means the tracker saw another thing that looked
like its target (a distractor): the box may sit on either one. It is a single float per frame,
stored with the label (FrameLabel.distractor) beside the tracker's other cues: the box spread
(measured by the decision, core.tracking.postprocess) and, where a fill ran both passes, 1 -
the IoU of their boxes (FrameLabel.disagreement). The review queue ranks by those two and the
score (core.review.rule); the distractor is kept for what the maps showed, not ranked by.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the engine imports this module: nothing here may import core.propagation
    from ..tracking.result import TrackResult

PEAK_RADIUS = 3
"""Cells around the first peak that belong to it (about half a target's size on the response
grid); a second peak must lie outside them. Chosen on ../shared/data/train."""


def distractor_ratio(score_map: np.ndarray, radius: int = PEAK_RADIUS) -> float:
    """The highest local maximum outside the first peak's square neighbourhood over the first
    peak, in [0, 1]; 0.0 for a map without a second peak or without any response.

    score_map: HxW float response map (the fused score, before the cosine window).
    """
    response = np.nan_to_num(np.asarray(score_map, dtype=np.float32), nan=0.0)
    if response.ndim != 2 or response.size == 0:
        return 0.0
    height, width = response.shape
    row, col = np.unravel_index(int(np.argmax(response)), response.shape)
    first = float(response[row, col])
    if first <= 0.0:
        return 0.0
    padded = np.pad(response, 1, constant_values=-np.inf)
    neighbours = np.full_like(response, -np.inf)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy != 1 or dx != 1:
                np.maximum(neighbours, padded[dy:dy + height, dx:dx + width], out=neighbours)
    peaks = response >= neighbours  # local maxima
    peaks[max(row - radius, 0):row + radius + 1, max(col - radius, 0):col + radius + 1] = False
    if not peaks.any():
        return 0.0
    return float(min(max(float(response[peaks].max()) / first, 0.0), 1.0))


def result_distractor(result: TrackResult) -> float | None:
    """distractor_ratio of a tracker result's fused map; None for trackers without maps."""
    maps = result.maps
    return None if maps is None else distractor_ratio(maps.score)

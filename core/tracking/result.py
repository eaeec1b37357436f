"""Results of one tracking step, shared by the GUI, the CLI, benchmarks and outside checks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ResponseMaps:
    """Response maps of one search region, all on the same HxW output grid.

    cls, align, score: float32 HxW, each in [0, 1] (sigmoid of the branch logits;
    score is the fused map ((1 - omega) * cls + align) / (2 - omega) before the
    cosine window and penalties). reg: float32 4xHxW distances (l, r, t, b) in
    search-crop pixels from each grid location to the predicted box sides.
    """

    cls: np.ndarray
    align: np.ndarray
    score: np.ndarray
    reg: np.ndarray


@dataclass(frozen=True)
class TrackResult:
    """Where one target is in one frame.

    box_xywh: 0-based pixel box (x, y, w, h) in frame coordinates, clipped to the frame.
    score: confidence in [0, 1] (the fused score at the chosen location).
    maps: the response maps the decision came from (None for trackers without maps).
    search_region_xywh: the frame rectangle the maps cover (x, y, w, h); it may extend
    beyond the frame where the crop was padded.
    box_spread: 1 - the mean IoU between the box of the fused map's best cell and the boxes of
    the next best cells, in [0, 1] (core.tracking.postprocess.box_spread): high where the
    cells around the peak disagree on the box. None for trackers without box regression.
    """

    box_xywh: tuple[float, float, float, float]
    score: float
    maps: ResponseMaps | None = None
    search_region_xywh: tuple[float, float, float, float] | None = None
    box_spread: float | None = None

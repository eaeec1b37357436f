"""Where a tracker looks and how it decides: crop windows of a target, map cells, the decision.

Fixed by the network's config: the template and search crop sizes, the context amount, the
cells of the output grid in search-crop pixels (the network's ``locations``), the cosine
window over them, omega and the post-processing knobs. Pure numpy, no network call.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.model import PostprocessConfig, SiamCrossNet

from .crops import CropWindow, context_size, crop_window, search_size_for
from .postprocess import Decision, cosine_window, decide


@dataclass(frozen=True, eq=False)
class SearchGeometry:
    """template_size, search_size: crop sides in crop px; context: the context amount;
    cells: float64 [H, W, 2] crop px of every output cell; window: float32 [H, W] cosine window;
    maps_extent: crop-px x0, y0, x1, y1 the cells cover (each cell spans one stride);
    omega: the fused-score weight; post: the post-processing knobs."""

    template_size: int
    search_size: int
    context: float
    omega: float
    post: PostprocessConfig
    cells: np.ndarray
    window: np.ndarray
    maps_extent: tuple[float, float, float, float]

    @classmethod
    def of(cls, net: SiamCrossNet, postprocess: PostprocessConfig | None = None) -> SearchGeometry:
        """The geometry of ``net``; postprocess overrides its own post-processing knobs."""
        config = net.config
        cells = net.locations().detach().to("cpu", torch.float64).numpy()
        half_cell = float(config.stride) / 2.0
        extent = (cells[..., 0].min() - half_cell, cells[..., 1].min() - half_cell,
                  cells[..., 0].max() + half_cell, cells[..., 1].max() + half_cell)
        return cls(int(config.template_size), int(config.search_size), float(config.context_amount),
                   float(config.omega), postprocess if postprocess is not None else config.postprocess,
                   cells, cosine_window(cells.shape[0], cells.shape[1]), extent)

    def template_window(self, center_xy: tuple[float, float], size_wh: tuple[float, float]) -> CropWindow:
        """The template crop of a target (frame centre and size)."""
        return crop_window(center_xy, context_size(size_wh[0], size_wh[1], self.context), self.template_size)

    def search_window(self, center_xy: tuple[float, float], size_wh: tuple[float, float]) -> CropWindow:
        """The search crop around a target (frame centre and size): same scale as its template."""
        side = search_size_for(context_size(size_wh[0], size_wh[1], self.context), self.template_size,
                               self.search_size)
        return crop_window(center_xy, side, self.search_size)

    def maps_region(self, window: CropWindow) -> tuple[float, float, float, float]:
        """The frame rectangle the response-map cells of ``window`` cover (what the GUI overlays)."""
        u0, v0, u1, v1 = self.maps_extent
        x0, y0 = window.crop_to_frame_xy(u0, v0)
        x1, y1 = window.crop_to_frame_xy(u1, v1)
        return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))

    def decide(self, maps: np.ndarray, previous_size_wh: np.ndarray) -> Decision:
        """Each target's box from its stacked maps [N, 7, H, W] (cls, align, fused score, reg l, r,
        t, b) and its previous size [N, 2] in crop px (core.tracking.postprocess)."""
        post = self.post
        return decide(maps[:, 2], maps[:, 3:7], self.cells, previous_size_wh, self.window, post.window_influence,
                      post.penalty_k, post.size_lr)

"""End-to-end geometry of the tracker with an oracle network (no training needed).

The oracle "network" finds the bright target in each search crop and answers the way
a perfect SiamCross head would: scores peak at the cell nearest the target centre and
every cell regresses the exact (l, r, t, b) to the target's sides. Through the real
crops, post-processing and crop-to-frame mapping, the tracker must then follow a
moving target to a fraction of a pixel: a sign, scale or half-window error in the
engine's geometry fails this test, whatever the trained weights do.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core.model import HeadOutput, ModelConfig, TemplateEncoding, lite_config, r50_config
from core.model.geometry import centred_locations, output_locations
from core.tracking import SiamCrossTracker


class OracleNet(nn.Module):
    """Stands in for SiamCrossNet: same config, locations and method signatures."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = cfg = config
        locations = centred_locations(cfg.output_size, cfg.stride, cfg.search_size) \
            if cfg.correlation == "pixelwise" else \
            output_locations(cfg.output_size, cfg.stride, cfg.template_size, cfg.template_crop_start)
        self.register_buffer("_locations", locations, persistent=False)

    def locations(self) -> torch.Tensor:
        return self._locations

    def encode_template(self, template: torch.Tensor, template_box: torch.Tensor) -> TemplateEncoding:
        return TemplateEncoding(features=(template_box.clone(),), mask=torch.ones(template.shape[0], 1, 1, 1))

    def encode_search(self, search: torch.Tensor) -> list[torch.Tensor]:
        return [search]

    def decode(self, template: TemplateEncoding, search_features: list[torch.Tensor],
               keep_cls_features: bool = False) -> HeadOutput:
        search = search_features[0].float()
        lx, ly = self._locations[..., 0], self._locations[..., 1]
        cls, reg = [], []
        for image in search:
            bright = image[2] > 200  # the target is the only pixels with red > 200 (BGR)
            rows = torch.nonzero(bright.any(dim=1)).flatten().float()
            cols = torch.nonzero(bright.any(dim=0)).flatten().float()
            x1, x2 = cols.min(), cols.max() + 1.0  # continuous crop coordinates of the sides
            y1, y2 = rows.min(), rows.max() + 1.0
            reg.append(torch.stack([lx - x1, x2 - lx, ly - y1, y2 - ly]).clamp(min=0.0))
            distance = torch.hypot(lx - (x1 + x2) / 2, ly - (y1 + y2) / 2)
            cls.append((5.0 - 2.0 * distance / self.config.stride)[None])  # a cell away: 2 less
        cls_logits = torch.stack(cls)
        return HeadOutput(cls_logits=cls_logits, align_logits=cls_logits.clone(), reg=torch.stack(reg))


def scene(*boxes: tuple[float, float, float, float], width: int = 320, height: int = 240) -> np.ndarray:
    """Textured grey frame with red targets covering the boxes (integer pixels)."""
    rng = np.random.default_rng(1)
    frame = rng.integers(40, 120, size=(height, width, 3), dtype=np.uint8)
    for box in boxes:
        x, y, w, h = (int(v) for v in box)
        frame[max(y, 0):y + h, max(x, 0):x + w] = (30, 30, 250)
    return frame


def truth(frame_index: int, start=(60, 50, 30, 20), step=(9, 5)) -> tuple[float, float, float, float]:
    return (start[0] + step[0] * frame_index, start[1] + step[1] * frame_index, start[2], start[3])


@pytest.fixture(scope="module", params=[lite_config, r50_config], ids=["lite-grid", "r50-grid"])
def oracle_tracker(request) -> SiamCrossTracker:
    """Lite's 16x16 stride-16 grid on the search crop and r50's 25x25 stride-8 xcorr grid."""
    return SiamCrossTracker(OracleNet(request.param()), "cpu")


def test_tracker_follows_a_moving_target_to_subpixel_accuracy(oracle_tracker):
    oracle_tracker.init(scene(truth(0)), truth(0))
    for index in range(1, 25):  # ends with the target cut by the right border
        expected = truth(index)
        result = oracle_tracker.track(scene(expected))
        x, y, w, h = expected
        clipped = (x, y, min(w, 320 - x), min(h, 240 - y))
        assert np.allclose(result.box_xywh, clipped, atol=0.5), (index, result.box_xywh, clipped)
        assert result.score > 0.9
        sx, sy, sw, sh = result.search_region_xywh
        assert sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh  # the target was in view


def test_track_many_follows_several_targets_in_one_pass(oracle_tracker):
    """Three targets far enough apart that each search crop holds only its own."""
    starts = [(40, 40, 24, 24), (500, 380, 40, 30), (520, 60, 20, 36)]
    steps = [(7, 4), (-6, -5), (-4, 6)]
    size = {"width": 640, "height": 480}
    states = [oracle_tracker.init_target(scene(*starts, **size), start) for start in starts]
    for index in range(1, 8):
        boxes = [truth(index, start, step) for start, step in zip(starts, steps)]
        results = oracle_tracker.track_many(scene(*boxes, **size), states)
        for result, box in zip(results, boxes):
            assert np.allclose(result.box_xywh, box, atol=0.5), (index, result.box_xywh, box)

"""Shared backbone passes for targets whose search regions overlap (crowds, MOT scenes).

Per target, the tracker crops a 255 px search window and runs the backbone on it; the
backbone is ~75% of a frame's cost on a CPU. When several targets are close and about the
same size, their windows overlap, and one larger crop covering all of them costs fewer
pixels than the separate crops. This module plans such groups, crops one region per
group at the group's common scale, runs backbone+neck once on it and slices each target's
search-feature window out of the result.

Geometry (why boxes stay exact): the features are stride-8 and cell c of a crop is
centred on crop pixel 8c, so the cells [a, a + 32) of a shared crop are the cells of a
255 px crop whose origin is shared-crop pixel 8a. Each member's origin is snapped to that
grid; the member's *effective* search window (``SearchGroup.member_window``) is exactly the
255 px window those cells came from, at the group's scale. Maps and boxes then map back to
the frame through that window like any other search crop; the snap (< 4 crop px) and the
slightly different scale only move where the target sits in its window.

What differs from a per-target crop: cells near a window's border see the neighbouring
image instead of padding. On the Lite backbone the stride-8 level is equal to float rounding
from 6 cells inside the border (tests/test_shared_search.py); the dilated deep level differs
everywhere (its receptive field spans the crop) by a few % of its range. Effect on tracking,
``python -m benchmarks.shared_search_bench --accuracy --decoys 3`` (each target of the 11
shared sequences tracked alone vs grouped with 3 decoys, shared path forced): mean success
AUC 0.569 alone, 0.568 grouped; per sequence -0.031 .. +0.017, less than the butterfly
effect of moving the start box by half a pixel (Car4 0.436-0.539, Diving 0.418-0.452);
with 8 decoys all round (7 sequences) 0.489 -> 0.483. Speed (CPU time, 1 thread, 720p,
16 targets, ``python -m benchmarks.shared_search_bench --video ...``): 13.5x one target ->
6.0x clustered, 12.4x -> 6.9x spread; the heads (~6 ms a target) are then half the cost.

Off by default (``SiamCrossTracker.shared_search = None``) all the same: with it a target's
boxes depend on which other targets run beside it (``track_many`` no longer equals separate
``track`` calls), so re-propagating one track could differ from propagating all of them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np
import torch

from core.model import ModelConfig, SiamCrossNet, TemplateEncoding

from .crops import CropWindow, crop_many


@dataclass(frozen=True)
class SharedSearchConfig:
    """When targets share a backbone pass.

    max_scale_ratio: largest/smallest search scale (crop px per frame px) within a group;
    each member is seen at the group's geometric-mean scale, so at most sqrt(ratio) off.
    max_area_ratio: a group is used only when its crop has fewer pixels than this times
    the sum of its members' own crops (otherwise they fall back to per-target crops).
    max_side: longest side of a shared crop in crop px (bounds one pass's memory).
    force: every target goes through a group, even alone and even when that saves no
    pixels (accuracy experiments and tests; merges still need to save pixels).
    """

    max_scale_ratio: float = 1.25
    max_area_ratio: float = 0.7
    max_side: int = 1024
    force: bool = False


@dataclass(frozen=True)
class SearchGroup:
    """Targets sharing one crop.

    members: indices into the tracker's target list. anchor: the 255 px window of feature
    cell (0, 0) of the shared crop (its scale is the group's); cells[k]: (col, row) of
    member k's first feature cell. size_wh: the shared crop in crop px.
    """

    members: tuple[int, ...]
    anchor: CropWindow
    cells: tuple[tuple[int, int], ...]
    size_wh: tuple[int, int]
    stride: int

    def member_window(self, k: int) -> CropWindow:
        """The 255 px search window whose features member k gets (frame <-> crop mapping)."""
        col, row = self.cells[k]
        if col == 0 and row == 0:
            return self.anchor
        shift = self.stride * self.anchor.scale
        return CropWindow(self.anchor.center_x + col * shift, self.anchor.center_y + row * shift,
                          self.anchor.side, self.anchor.out_size)

    @property
    def pixels(self) -> int:
        return self.size_wh[0] * self.size_wh[1]


@dataclass(frozen=True)
class SearchPlan:
    """Which targets share crops. windows[i]: the search window target i's maps lie in."""

    groups: tuple[SearchGroup, ...]
    singles: tuple[int, ...]
    windows: tuple[CropWindow, ...]

    @property
    def pixels(self) -> int:
        """Backbone input pixels of this plan (shared crops plus per-target crops)."""
        size = self.windows[0].out_size if self.windows else 0
        return sum(g.pixels for g in self.groups) + len(self.singles) * size * size


def _layout(members: Sequence[int], windows: Sequence[CropWindow], stride: int) -> SearchGroup:
    """Shared crop of ``members`` at the geometric mean of their scales, origins snapped to the grid."""
    if len(members) == 1:  # exactly the target's own window (same pixels as the plain path)
        own = windows[members[0]]
        return SearchGroup(tuple(members), own, ((0, 0),), (own.out_size, own.out_size), stride)
    size = windows[members[0]].out_size
    scales = np.array([size / windows[i].side for i in members])  # crop px per frame px
    scale = math.sqrt(float(scales.min() * scales.max()))
    left = np.array([windows[i].center_x for i in members]) * scale - size / 2.0  # crop px
    top = np.array([windows[i].center_y for i in members]) * scale - size / 2.0
    cols = np.rint((left - left.min()) / stride).astype(int)
    rows = np.rint((top - top.min()) / stride).astype(int)
    side = size / scale
    anchor = CropWindow(float(left.min() / scale + side / 2.0), float(top.min() / scale + side / 2.0), side, size)
    cells = tuple((int(c), int(r)) for c, r in zip(cols, rows))
    size_wh = (stride * int(cols.max()) + size, stride * int(rows.max()) + size)
    return SearchGroup(tuple(members), anchor, cells, size_wh, stride)


def _merged_side(lo: np.ndarray, hi: np.ndarray, scale: np.ndarray, size: int) -> np.ndarray:
    return (hi - lo) * scale + size


def slices_exactly(model: ModelConfig) -> bool:
    """Whether every search-feature level is computed on the stride grid itself (so a window
    of cells of a larger crop is that window's own features). A Lite backbone without
    dilation interpolates its stride-16 level onto stride 8, which only holds for square crops
    and even cell offsets: such models always take per-target crops."""
    return model.dilate_deep or model.backbone != "efficientnet_lite0"


def plan_search(windows: Sequence[CropWindow], config: SharedSearchConfig, model: ModelConfig) -> SearchPlan:
    """Group targets by greedy agglomeration: repeatedly merge the two groups whose joint
    crop saves the most pixels, within the scale ratio and the side cap; then keep the
    groups that save enough (``max_area_ratio``), the rest go back to per-target crops."""
    n = len(windows)
    if n == 0:
        return SearchPlan((), (), ())
    if not slices_exactly(model):
        return SearchPlan((), tuple(range(n)), tuple(windows))
    stride = int(model.stride)
    size = windows[0].out_size
    cx = np.array([w.center_x for w in windows], dtype=np.float64)
    cy = np.array([w.center_y for w in windows], dtype=np.float64)
    s = np.array([size / w.side for w in windows], dtype=np.float64)
    # per group: centre extent, scale extent, crop pixels; merged groups are deactivated
    x0, x1, y0, y1, s0, s1 = cx.copy(), cx.copy(), cy.copy(), cy.copy(), s.copy(), s.copy()
    cost = np.full(n, float(size * size))
    members: list[list[int]] = [[i] for i in range(n)]
    active = np.ones(n, dtype=bool)
    while active.sum() > 1:
        lo_s, hi_s = np.minimum.outer(s0, s0), np.maximum.outer(s1, s1)
        scale = np.sqrt(lo_s * hi_s)
        width = _merged_side(np.minimum.outer(x0, x0), np.maximum.outer(x1, x1), scale, size) + stride
        height = _merged_side(np.minimum.outer(y0, y0), np.maximum.outer(y1, y1), scale, size) + stride
        saving = cost[:, None] + cost[None, :] - width * height
        allowed = (hi_s <= lo_s * config.max_scale_ratio) & (np.maximum(width, height) <= config.max_side)
        allowed &= np.outer(active, active) & ~np.eye(n, dtype=bool) & (saving > 0)
        if not allowed.any():
            break
        i, j = np.unravel_index(np.argmax(np.where(allowed, saving, -np.inf)), saving.shape)
        x0[i], x1[i], y0[i], y1[i] = min(x0[i], x0[j]), max(x1[i], x1[j]), min(y0[i], y0[j]), max(y1[i], y1[j])
        s0[i], s1[i] = min(s0[i], s0[j]), max(s1[i], s1[j])
        cost[i] = width[i, j] * height[i, j]
        members[i] += members[j]
        active[j] = False

    groups: list[SearchGroup] = []
    singles: list[int] = []
    for i in np.flatnonzero(active):
        group = _layout(sorted(members[i]), windows, stride)
        if config.force or (len(group.members) > 1
                            and group.pixels < config.max_area_ratio * len(group.members) * size * size):
            groups.append(group)
        else:
            singles.extend(group.members)
    effective = list(windows)
    for group in groups:
        for k, i in enumerate(group.members):
            effective[i] = group.member_window(k)
    return SearchPlan(tuple(groups), tuple(sorted(singles)), tuple(effective))


def crop_group(image: np.ndarray, group: SearchGroup, pad_value: np.ndarray) -> np.ndarray:
    """The shared crop of ``group``: uint8 H x W x 3, sampled exactly like ``crop_window_image``."""
    border = tuple(float(v) for v in np.asarray(pad_value, dtype=np.float64).reshape(-1)[:3])
    return cv2.warpAffine(image, group.anchor.affine(), group.size_wh,
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def slice_features(features: Sequence[torch.Tensor], group: SearchGroup, cells: int) -> list[list[torch.Tensor]]:
    """Per member, its ``cells`` x ``cells`` window of each level ([1, C, cells, cells] views)."""
    return [[f[:, :, row:row + cells, col:col + cells] for f in features] for col, row in group.cells]


def search_features(encode: Callable[[np.ndarray], list[torch.Tensor]], frame: np.ndarray, plan: SearchPlan,
                    pad_value: np.ndarray, cells: int, max_batch: int | None) -> list[list[torch.Tensor]]:
    """Neck features per target (list over targets of per-level [1, C, cells, cells]).

    encode: uint8 [N, H, W, 3] crops -> per-level [N, C, h, w] features (backbone + neck).
    Groups run one pass each; the remaining targets run per-target crops in chunks of max_batch.
    """
    per_target: list[list[torch.Tensor] | None] = [None] * len(plan.windows)
    for group in plan.groups:
        features = encode(crop_group(frame, group, pad_value)[None])
        for i, sliced in zip(group.members, slice_features(features, group, cells)):
            per_target[i] = sliced
    singles = list(plan.singles)
    chunk = max_batch or max(len(singles), 1)
    for start in range(0, len(singles), chunk):
        indices = singles[start:start + chunk]
        features = encode(crop_many(frame, [plan.windows[i] for i in indices], pad_value))
        for k, i in enumerate(indices):
            per_target[i] = [f[k:k + 1] for f in features]
    return per_target  # type: ignore[return-value]


def shared_response_maps(net: SiamCrossNet, to_input: Callable[[np.ndarray], torch.Tensor], omega: float,
                         frame: np.ndarray, plan: SearchPlan, templates: Sequence[TemplateEncoding],
                         pad_value: np.ndarray, max_batch: int | None) -> np.ndarray:
    """float32 [n, 7, H, W] maps (cls, align, fused score, reg l, r, t, b) of every target
    of ``plan``, in the same layout as the tracker's per-target pass; heads run in chunks."""
    cells = int(net.config.search_feature_size)
    with torch.inference_mode():
        features = search_features(lambda crops: net.encode_search(to_input(crops)), frame, plan, pad_value,
                                   cells, max_batch)
        chunk = max_batch or len(features)
        parts = []
        for start in range(0, len(features), chunk):
            batch = features[start:start + chunk]
            search = [torch.cat([f[level] for f in batch]) for level in range(len(batch[0]))]
            out = net.decode(TemplateEncoding.cat(list(templates[start:start + chunk])), search)
            parts.append(out.stacked_maps(omega).to("cpu", torch.float32).numpy())
    return np.nan_to_num(np.concatenate(parts), nan=0.0, posinf=0.0, neginf=0.0)

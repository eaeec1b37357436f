"""Shared backbone passes for overlapping targets: grouping rules, crop geometry, features, tracker hook."""
from __future__ import annotations

import dataclasses
import warnings

import cv2
import numpy as np
import pytest
import torch

from core.model import SiamCrossNet
from core.model.config import lite_config
from core.tracking import SiamCrossTracker
from core.tracking.crops import CropWindow, channel_mean, crop_window_image
from core.tracking.shared_search import SharedSearchConfig, crop_group, plan_search, slice_features

S = 255
LITE = lite_config()


def window(cx: float, cy: float, scale: float = 0.5) -> CropWindow:
    """A 255 px search window centred at (cx, cy) with ``scale`` crop px per frame px."""
    return CropWindow(cx, cy, S / scale, S)


# -- grouping rules (pure geometry) -------------------------------------------------------
def test_far_apart_targets_keep_their_own_crops():
    windows = [window(300, 300), window(2300, 300)]
    plan = plan_search(windows, SharedSearchConfig(), LITE)
    assert plan.groups == () and plan.singles == (0, 1)
    assert plan.windows == tuple(windows)


def test_overlapping_targets_of_one_size_share_one_crop():
    windows = [window(300 + 60 * i, 300 + 40 * (i % 2)) for i in range(4)]
    plan = plan_search(windows, SharedSearchConfig(), LITE)
    assert len(plan.groups) == 1 and plan.singles == ()
    group = plan.groups[0]
    assert sorted(group.members) == [0, 1, 2, 3]
    assert group.pixels < 0.7 * 4 * S * S
    # the shared crop covers every member's 32x32-cell window on the stride-8 grid
    for k, (col, row) in enumerate(group.cells):
        assert 8 * col + S <= group.size_wh[0] and 8 * row + S <= group.size_wh[1]
        member = group.member_window(k)
        own = windows[group.members[k]]
        assert member.side == pytest.approx(own.side)
        # snapping moves a window by at most half a stride (4 crop px)
        assert abs(member.center_x - own.center_x) * 0.5 <= 4 + 1e-9
        assert abs(member.center_y - own.center_y) * 0.5 <= 4 + 1e-9


def test_member_windows_lie_on_the_stride_grid_of_the_shared_crop():
    windows = [window(300.3, 301.7), window(377.9, 333.1)]
    group = plan_search(windows, SharedSearchConfig(), LITE).groups[0]
    for k, (col, row) in enumerate(group.cells):
        x, y = group.member_window(k).crop_to_frame_xy(0.0, 0.0)  # its crop origin
        gx, gy = group.anchor.crop_to_frame_xy(8.0 * col, 8.0 * row)  # shared-crop pixel 8*cell
        assert (x, y) == pytest.approx((gx, gy), abs=1e-9)


def test_targets_of_different_sizes_are_not_grouped():
    windows = [window(300, 300, 0.5), window(330, 300, 0.5 * 1.4)]
    assert plan_search(windows, SharedSearchConfig(max_scale_ratio=1.25), LITE).groups == ()
    plan = plan_search(windows, SharedSearchConfig(max_scale_ratio=1.5), LITE)
    assert len(plan.groups) == 1
    scale = plan.groups[0].anchor.out_size / plan.groups[0].anchor.side
    assert scale == pytest.approx(0.5 * np.sqrt(1.4))  # the geometric mean of the two


def test_groups_that_save_too_few_pixels_fall_back_to_own_crops():
    # 150 crop px apart: one 413x263 crop beats two 255x255 ones (saves pixels) but only by 16%
    windows = [window(300, 300), window(600, 300)]
    assert plan_search(windows, SharedSearchConfig(), LITE).groups == ()
    assert len(plan_search(windows, SharedSearchConfig(max_area_ratio=0.9), LITE).groups) == 1


def test_shared_crops_never_exceed_the_side_cap():
    windows = [window(300 + 100 * i, 300) for i in range(12)]  # a row, 50 crop px apart
    plan = plan_search(windows, SharedSearchConfig(max_side=600), LITE)
    assert plan.groups and all(max(g.size_wh) <= 600 for g in plan.groups)
    assert sorted(i for g in plan.groups for i in g.members) + list(plan.singles) != []
    assert sorted([i for g in plan.groups for i in g.members] + list(plan.singles)) == list(range(12))


def test_models_whose_features_do_not_slice_exactly_never_share():
    """Lite without dilation interpolates its stride-16 level: slicing it would be wrong."""
    windows = [window(300 + 60 * i, 300) for i in range(4)]
    plan = plan_search(windows, SharedSearchConfig(force=True), dataclasses.replace(LITE, dilate_deep=False))
    assert plan.groups == () and plan.singles == (0, 1, 2, 3) and plan.windows == tuple(windows)


def test_forced_lone_target_is_a_group_of_its_own_window():
    windows = [window(300.25, 280.75)]
    plan = plan_search(windows, SharedSearchConfig(force=True), LITE)
    assert len(plan.groups) == 1 and plan.groups[0].member_window(0) == windows[0]
    assert plan.groups[0].size_wh == (S, S)


# -- crops and features on real frames -------------------------------------------------
@pytest.fixture(scope="module")
def tracker() -> SiamCrossTracker:
    """A Lite tracker in the dilated config (all levels at stride 8, so features slice exactly);
    the shipped Lite upsamples its deep level and always takes per-target crops. Heads are
    untrained: these tests compare the shared path with the plain one, not with the truth."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SiamCrossTracker(SiamCrossNet(LITE, pretrained_backbone=True), "cpu", fuse=True)


@pytest.fixture(scope="module")
def frames(seqs_dir):
    paths = sorted((seqs_dir / "Car4" / "img").glob("*.jpg"))[:4]
    return [cv2.resize(cv2.imread(str(p), cv2.IMREAD_COLOR), (720, 480)) for p in paths]


def test_shared_crop_holds_each_members_own_crop_pixels(frames):
    frame = frames[0]
    windows = [window(300.3, 201.7, 0.9), window(377.9, 233.1, 0.93)]
    group = plan_search(windows, SharedSearchConfig(max_area_ratio=1.0), LITE).groups[0]
    pad = channel_mean(frame)
    shared = crop_group(frame, group, pad)
    assert shared.shape == (group.size_wh[1], group.size_wh[0], 3)
    for k, (col, row) in enumerate(group.cells):
        own = crop_window_image(frame, group.member_window(k), pad)
        part = shared[8 * row:8 * row + S, 8 * col:8 * col + S].astype(int)
        # same sampling grid; warpAffine's fixed-point weights may round one level apart
        assert np.abs(part - own).max() <= 1
        assert (part == own).mean() > 0.99


def test_sliced_features_equal_a_per_target_pass_away_from_the_border(tracker, frames, one_torch_thread):
    frame = frames[0]
    windows = [window(300.3, 201.7, 0.9), window(420.9, 273.1, 0.9)]
    group = plan_search(windows, SharedSearchConfig(max_area_ratio=1.0), LITE).groups[0]
    pad = channel_mean(frame)
    net = tracker.net
    image = crop_group(frame, group, pad)
    with torch.inference_mode():
        shared = net.encode_search(torch.from_numpy(image[None]).permute(0, 3, 1, 2).float())
        sliced = slice_features(shared, group, 32)
        for k, (col, row) in enumerate(group.cells):
            own_crop = np.ascontiguousarray(image[8 * row:8 * row + S, 8 * col:8 * col + S])  # its own 255 px crop
            own = net.encode_search(torch.from_numpy(own_crop[None]).permute(0, 3, 1, 2).float())
            assert sliced[k][0].shape == own[0].shape == (1, net.config.neck_channels, 32, 32)
            # stride-8 level: equal to float rounding from 6 cells inside the window's border
            inner = (slice(None), slice(None), slice(6, 26), slice(6, 26))
            scale = float(own[0].abs().max())
            assert float((sliced[k][0][inner] - own[0][inner]).abs().max()) < 1e-4 * scale
            # at the border the shared crop shows context where the own crop shows padding
            assert float((sliced[k][0] - own[0]).abs().max()) > 1e-2 * scale


# -- the tracker hook --------------------------------------------------------------------
def run(tracker, frames, boxes, shared):
    tracker.shared_search = shared
    try:
        states = [tracker.init_target(frames[0], box) for box in boxes]
        return [tracker.track_many(frame, states) for frame in frames[1:]]
    finally:
        tracker.shared_search = None


def test_one_target_alone_in_a_group_equals_the_plain_path(tracker, frames, one_torch_thread):
    box = [(200.0, 150.0, 210.0, 170.0)]
    plain = run(tracker, frames, box, None)
    grouped = run(tracker, frames, box, SharedSearchConfig(force=True))
    for a, b in zip(plain, grouped):
        assert a[0].box_xywh == pytest.approx(b[0].box_xywh, abs=1e-6)
        assert np.abs(a[0].maps.score - b[0].maps.score).max() < 1e-5
        assert a[0].search_region_xywh == pytest.approx(b[0].search_region_xywh, abs=1e-6)


def test_targets_with_one_window_get_their_plain_results(tracker, frames, one_torch_thread):
    """Two targets on the same box: the shared crop is their own window, so nothing changes."""
    boxes = [(200.0, 150.0, 210.0, 170.0)] * 2
    plain = run(tracker, frames, boxes, None)
    grouped = run(tracker, frames, boxes, SharedSearchConfig())
    for a, b in zip(plain, grouped):
        for ra, rb in zip(a, b):
            assert ra.box_xywh == pytest.approx(rb.box_xywh, abs=1e-3)
            assert ra.score == pytest.approx(rb.score, abs=1e-3)


def test_grouped_targets_map_back_through_their_effective_windows(tracker, frames, one_torch_thread):
    boxes = [(200.0, 150.0, 100.0, 80.0), (260.0, 170.0, 100.0, 80.0), (230.0, 230.0, 100.0, 80.0)]
    states = [tracker.init_target(frames[0], box) for box in boxes]
    windows = [tracker._search_window(s) for s in states]
    plan = plan_search(windows, SharedSearchConfig(), LITE)
    assert len(plan.groups) == 1
    tracker.shared_search = SharedSearchConfig()
    try:
        results = tracker.track_many(frames[1], states)
    finally:
        tracker.shared_search = None
    for result, effective in zip(results, plan.windows):
        assert result.search_region_xywh == pytest.approx(tracker._maps_region(effective))
        x, y, w, h = result.box_xywh
        assert np.isfinite([x, y, w, h]).all() and w > 0 and h > 0


def test_targets_that_do_not_overlap_run_the_plain_path(tracker, frames, one_torch_thread):
    boxes = [(10.0, 10.0, 40.0, 30.0), (600.0, 400.0, 40.0, 30.0)]
    plain = run(tracker, frames, boxes, None)
    grouped = run(tracker, frames, boxes, SharedSearchConfig())
    for a, b in zip(plain, grouped):
        for ra, rb in zip(a, b):
            assert ra.box_xywh == rb.box_xywh and ra.score == rb.score

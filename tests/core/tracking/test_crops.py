"""Crops: geometry, mean padding beyond the border, agreement with the window mapping; box checks."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.errors import BoxError, MediaError
from core.tracking.crops import (
    CropWindow,
    channel_mean,
    context_size,
    crop_around,
    crop_many,
    crop_pad_slice,
    crop_window,
    search_size_for,
)
from core.tracking.inputs import MIN_BOX_SIDE, check_frame, clip_box, normalise_box


@pytest.fixture
def ramp() -> np.ndarray:
    """120x160 image whose pixel (y, x) holds (x, y, 200): every pixel says where it is."""
    ys, xs = np.mgrid[0:120, 0:160]
    return np.stack([xs, ys, np.full_like(xs, 200)], axis=-1).astype(np.uint8)


def test_context_size_matches_siamfc_formula():
    w, h, amount = 40.0, 10.0, 0.5
    p = amount * (w + h)
    assert context_size(w, h, amount) == pytest.approx(math.sqrt((w + p) * (h + p)))
    assert context_size(30, 30, 0.5) == pytest.approx(60.0)
    assert search_size_for(127.0) == pytest.approx(255.0)


def test_identity_crop_reproduces_the_image(ramp):
    crop = crop_around(ramp, (80.0, 60.0), 120.0, 120)
    assert crop.dtype == np.uint8 and crop.shape == (120, 120, 3)
    np.testing.assert_array_equal(crop, ramp[:, 20:140])


def test_integer_offset_crop_is_the_exact_slice(ramp):
    crop = crop_around(ramp, (30.0 + 10, 50.0 + 10), 20.0, 20)
    np.testing.assert_array_equal(crop, ramp[50:70, 30:50])


def test_corner_crop_is_mean_padded_with_correct_geometry(ramp):
    mean = channel_mean(ramp)
    crop = crop_around(ramp, (0.0, 0.0), 40.0, 40)  # centred on the top-left corner
    expected_pad = np.round(mean).astype(np.uint8)
    # Top-left quadrant lies beyond the frame: every pixel is the mean colour.
    assert (crop[:20, :20] == expected_pad).all()
    assert (crop[:20, 25:] == expected_pad).all() and (crop[25:, :20] == expected_pad).all()
    # Bottom-right quadrant is the frame's own top-left 20x20 pixels.
    np.testing.assert_array_equal(crop[20:, 20:], ramp[:20, :20])


def test_crop_entirely_beyond_the_border_is_all_padding(ramp):
    pad = np.array([1, 2, 3], dtype=np.float64)
    crop = crop_around(ramp, (-500.0, 900.0), 50.0, 32, pad_value=pad)
    assert (crop == np.array([1, 2, 3], dtype=np.uint8)).all()


def test_downscaled_crop_maps_pixels_to_their_frame_position(ramp):
    window = crop_window((90.0, 50.0), 64.0, 32)  # 2 frame px per crop px
    crop = crop_around(ramp, (90.0, 50.0), 64.0, 32)
    for u, v in [(0, 0), (5, 17), (31, 31)]:
        # crop pixel (u, v) samples the frame at the centre of the crop pixel
        fx, fy = window.crop_to_frame_xy(u + 0.5, v + 0.5)
        assert crop[v, u, 0] == pytest.approx(fx - 0.5, abs=1.0)
        assert crop[v, u, 1] == pytest.approx(fy - 0.5, abs=1.0)


def test_window_mapping_round_trips_and_region():
    window = CropWindow(100.0, 50.0, 254.0, 127)
    x, y = window.crop_to_frame_xy(np.array([0.0, 63.5, 127.0]), np.array([0.0, 63.5, 127.0]))
    np.testing.assert_allclose(x, [-27.0, 100.0, 227.0])
    np.testing.assert_allclose(y, [-77.0, 50.0, 177.0])
    u, v = window.frame_to_crop_xy(x, y)
    np.testing.assert_allclose(u, [0.0, 63.5, 127.0])
    assert window.region_xywh() == (-27.0, -77.0, 254.0, 254.0)
    np.testing.assert_allclose(window.box_to_crop_xyxy((90, 40, 20, 20)), [58.5, 58.5, 68.5, 68.5])


def test_crop_many_equals_single_crops(ramp):
    windows = [crop_window((10.0, 10.0), 50.0, 31), crop_window((150.0, 100.0), 80.0, 31),
               crop_window((80.0, 60.0), 33.3, 31)]
    batch = crop_many(ramp, windows)
    assert batch.shape == (3, 31, 31, 3)
    for i, window in enumerate(windows):
        np.testing.assert_array_equal(batch[i], crop_around(ramp, (window.center_x, window.center_y), window.side, 31))


def test_pad_slice_reference_agrees_on_integer_windows(ramp):
    np.testing.assert_array_equal(crop_pad_slice(ramp, (0.0, 0.0), 40.0, 40), crop_around(ramp, (0.0, 0.0), 40.0, 40))


@pytest.mark.parametrize("side", [0.0, -3.0, float("nan")])
def test_invalid_crop_side_is_refused(ramp, side):
    with pytest.raises(ValueError):
        crop_around(ramp, (5.0, 5.0), side, 16)


@pytest.mark.parametrize("box", [(1, 2, 0, 5), (1, 2, 5, -1), (float("nan"), 2, 5, 5), (1, 2, float("inf"), 5),
                                 (500, 10, 20, 20), (-50, -50, 20, 20), (1, 2, 3), ("a", 2, 3, 4)])
def test_bad_boxes_raise_box_error(box):
    with pytest.raises(BoxError) as info:
        normalise_box(box, 160, 120)
    message = str(info.value)
    assert "\n" not in message and message.endswith(".")


def test_tiny_box_grows_to_minimum_keeping_centre():
    x, y, w, h = normalise_box((50, 60, 1, 2), 160, 120)
    assert (w, h) == (MIN_BOX_SIDE, MIN_BOX_SIDE)
    assert (x + w / 2, y + h / 2) == (50.5, 61.0)


def test_tiny_box_at_the_edge_stays_inside():
    x, y, w, h = normalise_box((159.5, 0, 0.5, 1), 160, 120)
    assert (x, y, w, h) == (156.0, 0.0, 4.0, 4.0)


def test_oversized_and_partial_boxes_are_clipped_to_the_frame():
    assert normalise_box((-10, -20, 500, 500), 160, 120) == (0.0, 0.0, 160.0, 120.0)
    assert normalise_box((150, 100, 30, 30), 160, 120) == (150.0, 100.0, 10.0, 20.0)
    assert clip_box(155.0, 5.0, 20.0, 20.0, 160, 120) == (145.0, 0.0, 15.0, 15.0)


@pytest.mark.parametrize("frame", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32),
                                   np.zeros((10, 10, 4), np.uint8), [[0]]])
def test_bad_frames_raise_media_error(frame):
    with pytest.raises(MediaError):
        check_frame(frame)

"""crop_many skips the frame mean when no window leaves the frame, and that never changes a pixel."""
from __future__ import annotations

import numpy as np
import pytest

from core.tracking import crops
from core.tracking.crops import channel_mean, crop_many, crop_window, crop_window_image

WIDTH, HEIGHT = 320, 180


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)


def edge_windows() -> list:
    """Windows whose region touches the 1 px margin exactly, or just crosses it, at every side,
    shrinking (side > out) and enlarging (side < out)."""
    windows = []
    for side in (3.0, 50.0, 126.9, 300.0):
        half = side / 2.0
        for cx, cy in ((1.0 + half, HEIGHT / 2), (WIDTH - 1.0 - half, HEIGHT / 2),
                       (WIDTH / 2, 1.0 + half), (WIDTH / 2, HEIGHT - 1.0 - half)):
            for nudge in (0.0, -0.02, 0.02):
                if side < min(WIDTH, HEIGHT) - 2:
                    windows.append(crop_window((cx + nudge, cy + nudge), side, 127))
    return windows


def test_a_window_said_to_stay_inside_never_shows_the_padding(noise):
    windows = edge_windows()
    inside = [w for w in windows if not w.reads_beyond(WIDTH, HEIGHT)]
    assert inside and len(inside) < len(windows)  # both kinds are exercised
    for window in inside:
        black = crop_window_image(noise, window, np.zeros(3))
        white = crop_window_image(noise, window, np.full(3, 255.0))
        assert np.array_equal(black, white), window
    outside = crop_window((2.0, 90.0), 50.0, 127)  # a third of it left of the frame
    assert outside.reads_beyond(WIDTH, HEIGHT)
    assert not np.array_equal(crop_window_image(noise, outside, np.zeros(3)),
                              crop_window_image(noise, outside, np.full(3, 255.0)))


def test_crop_many_equals_crops_padded_with_the_frame_mean(noise):
    mean = channel_mean(noise)
    windows = edge_windows() + [crop_window((-20.0, 30.0), 80.0, 127), crop_window((160.0, 90.0), 400.0, 127)]
    batch = crop_many(noise, windows)
    for got, window in zip(batch, windows):
        assert np.array_equal(got, crop_window_image(noise, window, mean))


def test_the_frame_mean_is_computed_only_when_a_window_leaves_the_frame(noise, monkeypatch):
    calls = []
    monkeypatch.setattr(crops, "channel_mean", lambda image: calls.append(1) or channel_mean(image))
    crop_many(noise, [crop_window((160.0, 90.0), 60.0, 127), crop_window((100.0, 60.0), 40.0, 127)])
    assert calls == []
    crop_many(noise, [crop_window((160.0, 90.0), 60.0, 127), crop_window((5.0, 60.0), 40.0, 127)])
    assert calls == [1]

"""Augmentations of training crops: crop jitter (shift, scale), aspect, blur, colour, grey, flip.

Crops are cut with core.tracking.crops (the tracker's own function), only the window is
jittered, so a training crop differs from a tracking crop exactly by the augmentation and
never by a different resampling. Every function takes an explicit ``numpy.random.Generator``
so a pair is a pure function of its seed. Boxes are x1, y1, x2, y2 in crop pixels.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from ..tracking.crops import CropWindow, context_size, crop_window, crop_window_image, search_size_for


def jittered_window(
    box_xywh: Sequence[float],
    rng: np.random.Generator,
    out_size: int,
    template_size: int,
    context_amount: float,
    shift: float,
    scale: float,
) -> CropWindow:
    """The tracker's crop window for ``box_xywh`` with a random scale and shift.

    out_size == template_size gives the template window, a larger out_size the search
    window (same frame-to-crop scale as the tracker: search_size_for). ``shift`` is the
    largest move of the target in crop pixels, ``scale`` the largest relative zoom.
    """
    x, y, w, h = (float(v) for v in box_xywh)
    side = search_size_for(context_size(w, h, context_amount), template_size, out_size)
    side *= 1.0 + rng.uniform(-scale, scale)
    frame_per_crop = side / out_size
    dx, dy = rng.uniform(-shift, shift, size=2)
    center = (x + w / 2.0 - dx * frame_per_crop, y + h / 2.0 - dy * frame_per_crop)
    return crop_window(center, side, out_size)


def cut(image: np.ndarray, window: CropWindow, box_xywh: Sequence[float],
        pad_value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of ``window`` (tracker's crop) and the box in that crop, x1y1x2y2 float32."""
    return crop_window_image(image, window, pad_value), window.box_to_crop_xyxy(box_xywh).astype(np.float32)


def stretch_aspect(crop: np.ndarray, box_xyxy: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Stretch x by ``factor`` and y by 1/factor about the crop centre (area kept)."""
    if factor == 1.0:
        return crop, box_xyxy
    size = crop.shape[0]
    c = size / 2.0
    sx, sy = factor, 1.0 / factor
    # crop pixel index -> coordinates: u + 0.5; forward map p' = c + s (p - c)
    matrix = np.array([[sx, 0.0, (c - sx * c) + 0.5 * sx - 0.5], [0.0, sy, (c - sy * c) + 0.5 * sy - 0.5]])
    border = tuple(float(v) for v in cv2.mean(crop)[:3])
    out = cv2.warpAffine(crop, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=border)
    x1, y1, x2, y2 = box_xyxy
    box = np.array([c + sx * (x1 - c), c + sy * (y1 - c), c + sx * (x2 - c), c + sy * (y2 - c)], dtype=np.float32)
    return out, box


def random_aspect(rng: np.random.Generator, amount: float) -> float:
    """A stretch factor in [1 / (1 + amount), 1 + amount], log-uniform (symmetric for x and y)."""
    if amount <= 0:
        return 1.0
    return math.exp(rng.uniform(-math.log1p(amount), math.log1p(amount)))


def color_jitter(crop: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Brightness, contrast and per-channel gain (white balance) jitter; strength 0 = unchanged."""
    if strength <= 0:
        return crop
    image = crop.astype(np.float32)
    gains = 1.0 + rng.uniform(-0.1, 0.1, size=3) * strength
    contrast = 1.0 + rng.uniform(-0.3, 0.3) * strength
    brightness = rng.uniform(-25.0, 25.0) * strength
    mean = image.mean()
    image = (image - mean) * contrast + mean
    image = image * gains.astype(np.float32) + brightness
    return np.clip(image, 0, 255).astype(np.uint8)


def gaussian_blur(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blur with a random sigma (defocus / motion-free camera blur)."""
    sigma = rng.uniform(0.5, 2.0)
    return cv2.GaussianBlur(crop, (0, 0), sigmaX=sigma)


def to_grayscale(crop: np.ndarray) -> np.ndarray:
    """Grey image kept as 3 channels (grey videos exist in every benchmark)."""
    return cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def flip_horizontal(crop: np.ndarray, box_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror the crop left-right and its box with it."""
    size = crop.shape[1]
    x1, y1, x2, y2 = box_xyxy
    return np.ascontiguousarray(crop[:, ::-1]), np.array([size - x2, y1, size - x1, y2], dtype=np.float32)

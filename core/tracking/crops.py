"""Square, mean-padded crops around a target: the only way pixels enter the network.

The tracker and the training pair sampler both call these functions, so a template or
search crop looks exactly the same at training and at tracking time.

Coordinates: frame pixel i covers [i, i + 1), so a 0-based box (x, y, w, h) has its
centre at (x + w / 2, y + h / 2). A crop of ``side`` frame pixels centred at (cx, cy),
resized to ``out_size``, maps crop coordinate u (same convention) to frame coordinate
``cx + (u - out_size / 2) * side / out_size``. ``CropWindow`` holds that mapping.

One ``cv2.warpAffine`` per crop: it samples only the out_size x out_size output pixels,
so its cost does not depend on the frame size or on how far the crop leaves the frame,
the constant border is the padding (no padded copy of the frame is ever made), and the
window is sub-pixel exact. pysot's pad-slice-resize (``crop_pad_slice``) rounds the
window to whole pixels; ``python -m benchmarks.track_bench --crops`` times the two (both are
small beside a network pass).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np


def context_size(w: float, h: float, context_amount: float) -> float:
    """Side of the template region: s_z = sqrt((w + p)(h + p)), p = context_amount * (w + h).

    The context keeps some background around the target (SiamFC / SiamRPN), so the
    template crop has the same scale for wide and tall boxes of equal area.
    """
    p = context_amount * (w + h)
    return math.sqrt((w + p) * (h + p))


def search_size_for(template_side: float, template_size: int = 127, search_size: int = 255) -> float:
    """Side of the search region in frame pixels for a template region of ``template_side``.

    Both crops use the same frame-to-crop scale, so the target has the same size in the
    127 px template crop and the 255 px search crop.
    """
    return template_side * search_size / template_size


def channel_mean(image: np.ndarray) -> np.ndarray:
    """Per-channel mean of a uint8 HxWx3 image, as float64 (3,): the padding colour."""
    return np.asarray(cv2.mean(image)[:3], dtype=np.float64)


@dataclass(frozen=True)
class CropWindow:
    """Where a crop lies in the frame: centre (frame coords), side (frame px), output size (crop px)."""

    center_x: float
    center_y: float
    side: float
    out_size: int

    @property
    def scale(self) -> float:
        """Frame pixels per crop pixel."""
        return self.side / self.out_size

    def region_xywh(self) -> tuple[float, float, float, float]:
        """The frame rectangle the crop covers (may extend beyond the frame)."""
        half = self.side / 2.0
        return (self.center_x - half, self.center_y - half, self.side, self.side)

    def crop_to_frame_xy(self, u: np.ndarray | float, v: np.ndarray | float) -> tuple:
        """Crop coordinates (continuous, [0, out_size]) to frame coordinates."""
        s = self.scale
        half = self.out_size / 2.0
        return (self.center_x + (u - half) * s, self.center_y + (v - half) * s)

    def frame_to_crop_xy(self, x: np.ndarray | float, y: np.ndarray | float) -> tuple:
        """Frame coordinates to crop coordinates (continuous)."""
        s = self.scale
        half = self.out_size / 2.0
        return ((x - self.center_x) / s + half, (y - self.center_y) / s + half)

    def box_to_crop_xyxy(self, box_xywh: Sequence[float] | np.ndarray) -> np.ndarray:
        """A frame box (x, y, w, h) as x1, y1, x2, y2 in crop pixels (float64 (4,))."""
        x, y, w, h = (float(v) for v in box_xywh)
        x1, y1 = self.frame_to_crop_xy(x, y)
        x2, y2 = self.frame_to_crop_xy(x + w, y + h)
        return np.array([x1, y1, x2, y2], dtype=np.float64)

    def reads_beyond(self, width: int, height: int) -> bool:
        """True when the crop may sample outside a width x height frame (then the padding
        colour shows). False guarantees every bilinear tap of every output pixel lies inside:
        the region keeps a 1 px margin from the frame's edges."""
        half = self.side / 2.0
        return not (self.center_x - half >= 1.0 and self.center_x + half <= width - 1.0
                    and self.center_y - half >= 1.0 and self.center_y + half <= height - 1.0)

    def affine(self) -> np.ndarray:
        """2x3 matrix taking crop pixel indices to frame pixel indices (for WARP_INVERSE_MAP).

        Crop pixel index u has its centre at u + 0.5 (crop coords), which lies at frame
        coordinate cx + (u + 0.5 - out/2) * s, i.e. frame pixel index that minus 0.5.
        """
        s = self.scale
        tx = self.center_x + (0.5 - self.out_size / 2.0) * s - 0.5
        ty = self.center_y + (0.5 - self.out_size / 2.0) * s - 0.5
        return np.array([[s, 0.0, tx], [0.0, s, ty]], dtype=np.float64)


def crop_window(center_xy: tuple[float, float], side: float, out_size: int) -> CropWindow:
    """Validated CropWindow (side and out_size must be positive and finite)."""
    cx, cy = float(center_xy[0]), float(center_xy[1])
    side = float(side)
    if not (math.isfinite(cx) and math.isfinite(cy) and math.isfinite(side) and side > 0):
        raise ValueError(f"crop centre {center_xy} and side {side} must be finite and positive")
    if out_size <= 0:
        raise ValueError(f"crop output size must be positive, got {out_size}")
    return CropWindow(cx, cy, side, int(out_size))


_ZERO_BORDER = np.zeros(3)


def crop_window_image(image: np.ndarray, window: CropWindow, pad_value: np.ndarray | None = None,
                      out: np.ndarray | None = None) -> np.ndarray:
    """Pixels of ``window`` from ``image``: uint8 out_size x out_size x 3, padded with pad_value
    (written into ``out`` when given, a contiguous uint8 array of that shape)."""
    if pad_value is None:
        pad_value = channel_mean(image)
    border = tuple(float(v) for v in np.asarray(pad_value, dtype=np.float64).reshape(-1)[:3])
    return cv2.warpAffine(
        image,
        window.affine(),
        (window.out_size, window.out_size),
        dst=out,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )


def crop_around(
    image: np.ndarray,
    center_xy: tuple[float, float],
    side: float,
    out_size: int,
    pad_value: np.ndarray | None = None,
) -> np.ndarray:
    """Square crop of ``side`` frame pixels centred at center_xy, resized to out_size x out_size.

    Parts beyond the frame are filled with pad_value (default: the image's per-channel
    mean, as SiamFC does, so padding looks like average background). uint8 HxWx3 out.
    """
    return crop_window_image(image, crop_window(center_xy, side, out_size), pad_value)


def padding_for(image: np.ndarray, windows: Sequence[CropWindow]) -> np.ndarray | None:
    """The padding colour crops of ``windows`` need: the frame's mean where some window leaves
    the frame, else None (a full pass over a 720p frame costs about as much as a crop)."""
    height, width = image.shape[:2]
    return channel_mean(image) if any(w.reads_beyond(width, height) for w in windows) else None


def crop_many(
    image: np.ndarray,
    windows: Sequence[CropWindow],
    pad_value: np.ndarray | None = None,
) -> np.ndarray:
    """Crops of several windows of one frame stacked as uint8 [N, S, S, 3] (same out_size).

    The default padding colour is ``padding_for``'s: computed once for the frame, and only
    when some window leaves it.
    """
    if not windows:
        raise ValueError("crop_many needs at least one window")
    size = windows[0].out_size
    if any(w.out_size != size for w in windows):
        raise ValueError("all windows of one batch must have the same out_size")
    if pad_value is None:
        pad_value = padding_for(image, windows)
    border = _ZERO_BORDER if pad_value is None else pad_value  # never sampled when no window leaves the frame
    out = np.empty((len(windows), size, size, 3), dtype=np.uint8)
    for i, window in enumerate(windows):
        crop_window_image(image, window, border, out=out[i])
    return out


def crop_pad_slice(
    image: np.ndarray,
    center_xy: tuple[float, float],
    side: float,
    out_size: int,
    pad_value: np.ndarray | None = None,
) -> np.ndarray:
    """pysot-style crop (integer-rounded window, pad, slice, cv2.resize), kept for comparison.

    Only the benchmark uses it; the tracker's crops are warps (``crop_many``; ``crop_around``
    for one crop): sub-pixel exact, and they never copy the frame.
    """
    if pad_value is None:
        pad_value = channel_mean(image)
    height, width = image.shape[:2]
    size = int(round(side))
    x0 = int(math.floor(center_xy[0] - size / 2.0 + 0.5))
    y0 = int(math.floor(center_xy[1] - size / 2.0 + 0.5))
    x1, y1 = x0 + size, y0 + size
    left, top = max(0, -x0), max(0, -y0)
    right, bottom = max(0, x1 - width), max(0, y1 - height)
    if left or top or right or bottom:
        patch: np.ndarray = np.empty((size, size, 3), dtype=np.uint8)
        patch[:] = np.asarray(pad_value).round().astype(np.uint8)
        patch[top:size - bottom, left:size - right] = image[y0 + top:y1 - bottom, x0 + left:x1 - right]
    else:
        patch = image[y0:y1, x0:x1]
    if size != out_size:
        patch = cv2.resize(patch, (out_size, out_size))
    return np.ascontiguousarray(patch)

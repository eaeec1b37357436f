"""From response maps to one box per target: anchor-free Siamese post-processing.

As SiamBAN / Ocean: every output cell predicts a box from its (l, r, t, b) distances;
candidates whose size or aspect ratio jump away from the previous frame are penalised
(penalty_k), a cosine window favours small motion (window_influence), the best cell
wins, and the size moves towards its box with a rate that shrinks with low confidence
(lr = penalty * score * size_lr). Pure numpy over a batch of targets, no torch, so it is
tested on synthetic maps.

All coordinates here are search-crop pixels; the tracker maps them to the frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Decision:
    """The chosen box of each target of a batch, in search-crop pixels.

    center_xy: [N, 2] continuous crop coordinates of the predicted box centre.
    size_wh: [N, 2] smoothed size (previous size moved towards the prediction by lr).
    score: [N] fused score (before window and penalties) at the chosen cell, in [0, 1].
    index: [N, 2] (row, col) of the chosen cell.
    """

    center_xy: np.ndarray
    size_wh: np.ndarray
    score: np.ndarray
    index: np.ndarray


def cosine_window(height: int, width: int) -> np.ndarray:
    """Hanning window over the output grid (peak 1 in the centre), float32 HxW."""
    return np.outer(np.hanning(height), np.hanning(width)).astype(np.float32)


def _change(ratio: np.ndarray) -> np.ndarray:
    """max(r, 1/r): how far a ratio is from no change, symmetric for growth and shrink."""
    return np.maximum(ratio, 1.0 / ratio)


def _context_side(w: np.ndarray, h: np.ndarray) -> np.ndarray:
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


def predicted_boxes(reg: np.ndarray, centers_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Box (cx, cy, w, h) of every cell from its (l, r, t, b) distances.

    reg: [N, 4, H, W] distances >= 0 in crop px. centers_xy: [H, W, 2] continuous crop
    coordinates of each cell. Returns four [N, H, W] arrays.
    """
    left, right, top, bottom = reg[:, 0], reg[:, 1], reg[:, 2], reg[:, 3]
    cx = centers_xy[None, :, :, 0] + (right - left) * 0.5
    cy = centers_xy[None, :, :, 1] + (bottom - top) * 0.5
    return cx, cy, left + right, top + bottom


def decide(
    score: np.ndarray,
    reg: np.ndarray,
    centers_xy: np.ndarray,
    previous_size_wh: np.ndarray,
    window: np.ndarray,
    window_influence: float,
    penalty_k: float,
    size_lr: float,
) -> Decision:
    """Pick each target's box from its fused score map and regression.

    score: [N, H, W] fused score in [0, 1]; reg: [N, 4, H, W] (l, r, t, b) crop px;
    centers_xy: [H, W, 2] crop coords of the cells; previous_size_wh: [N, 2] the
    target's size in crop px; window: [H, W] cosine window.
    """
    score = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
    reg = np.maximum(np.nan_to_num(np.asarray(reg, dtype=np.float64), nan=0.0, posinf=0.0), 0.0)
    previous = np.maximum(np.asarray(previous_size_wh, dtype=np.float64), 1e-3)
    count, height, width = score.shape
    cx, cy, w, h = predicted_boxes(reg, np.asarray(centers_xy, dtype=np.float64))
    w_safe, h_safe = np.maximum(w, 1e-3), np.maximum(h, 1e-3)
    prev_w, prev_h = previous[:, 0, None, None], previous[:, 1, None, None]

    scale_change = _change(_context_side(w_safe, h_safe) / _context_side(prev_w, prev_h))
    ratio_change = _change((prev_w / prev_h) / (w_safe / h_safe))
    penalty = np.exp(-(ratio_change * scale_change - 1.0) * penalty_k)
    penalised = penalty * score
    ranked = penalised * (1.0 - window_influence) + window[None] * window_influence

    flat = ranked.reshape(count, -1).argmax(axis=1)
    rows, cols = np.divmod(flat, width)
    batch = np.arange(count)
    best_score = score[batch, rows, cols]
    lr = penalty[batch, rows, cols] * best_score * size_lr
    new_w = previous[:, 0] * (1.0 - lr) + w[batch, rows, cols] * lr
    new_h = previous[:, 1] * (1.0 - lr) + h[batch, rows, cols] * lr
    return Decision(
        center_xy=np.stack([cx[batch, rows, cols], cy[batch, rows, cols]], axis=1),
        size_wh=np.stack([new_w, new_h], axis=1),
        score=np.clip(best_score, 0.0, 1.0),
        index=np.stack([rows, cols], axis=1),
    )

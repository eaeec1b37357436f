"""From response maps to one box per target: anchor-free Siamese post-processing.

As SiamBAN / Ocean: every output cell predicts a box from its (l, r, t, b) distances;
candidates whose size or aspect ratio jump away from the previous frame are penalised
(penalty_k), a cosine window favours small motion (window_influence), the best cell
wins, and the size moves towards its box with a rate that shrinks with low confidence
(lr = penalty * score * size_lr). Pure numpy over a batch of targets, no torch, so it is
tested on synthetic maps.

Beside the box, the decision measures its box spread: how much the boxes of the best few cells
disagree. A right box is regressed alike from every cell on the target; where they disagree, the
box frames the target badly even at a high score (the review queue reads it, core.review).

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
    spread: [N] box spread in [0, 1] (``box_spread``).
    """

    center_xy: np.ndarray
    size_wh: np.ndarray
    score: np.ndarray
    index: np.ndarray
    spread: np.ndarray


SPREAD_CELLS = 5
"""Cells whose boxes the box spread compares: the best of the fused score map and the next four."""


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


def _iou_cxcywh(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> np.ndarray:
    """IoU of boxes (cx, cy, w, h) given as four broadcastable arrays each; 0 where both are empty."""
    (acx, acy, aw, ah), (bcx, bcy, bw, bh) = a, b
    iw = np.clip(np.minimum(acx + aw / 2, bcx + bw / 2) - np.maximum(acx - aw / 2, bcx - bw / 2), 0.0, None)
    ih = np.clip(np.minimum(acy + ah / 2, bcy + bh / 2) - np.maximum(acy - ah / 2, bcy - bh / 2), 0.0, None)
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _spread(score: np.ndarray, boxes: tuple[np.ndarray, ...], cells: int) -> np.ndarray:
    """box_spread from a score map [N, H, W] and the cells' boxes (four [N, H, W] arrays)."""
    count = score.shape[0]
    flat = score.reshape(count, -1)
    top = np.argsort(-flat, axis=1, kind="stable")[:, :cells]  # [N, k], best first
    if top.shape[1] < 2:
        return np.zeros(count)
    picked = [b.reshape(count, -1)[np.arange(count)[:, None], top] for b in boxes]  # four [N, k]
    overlap = _iou_cxcywh(tuple(p[:, :1] for p in picked), tuple(p[:, 1:] for p in picked))
    return np.clip(1.0 - overlap.mean(axis=1), 0.0, 1.0)


def box_spread(score: np.ndarray, reg: np.ndarray, centers_xy: np.ndarray, cells: int = SPREAD_CELLS) -> np.ndarray:
    """1 - the mean IoU between the box of each target's best cell and the boxes of its next
    ``cells - 1`` best cells, by fused score: 0 where they agree, towards 1 where they disagree.

    score: [N, H, W] fused score; reg: [N, 4, H, W] (l, r, t, b) crop px; centers_xy: [H, W, 2].
    Returns float [N] in [0, 1].
    """
    score = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
    reg = np.maximum(np.nan_to_num(np.asarray(reg, dtype=np.float64), nan=0.0, posinf=0.0), 0.0)
    return _spread(score, predicted_boxes(reg, np.asarray(centers_xy, dtype=np.float64)), cells)


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
        spread=_spread(score, (cx, cy, w, h), SPREAD_CELLS),
    )

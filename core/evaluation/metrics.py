"""One-pass-evaluation metrics, pure numpy, numerically equal to the got10k toolkit.

Conventions (so numbers compare with published ones):
- Boxes are 0-based x, y, w, h; a box's centre is x + (w - 1) / 2 (got10k ``center_error``).
- IoU is got10k ``rect_iou``: intersection / (union + eps), clipped to [0, 1].
- Success curve: fraction of frames with IoU > t for t in linspace(0, 1, 21); success AUC is
  its mean (got10k ``ExperimentOTB``). SR0.5 / SR0.75 are IoU > 0.5 / > 0.75 and AO is the mean
  IoU (got10k ``ExperimentGOT10k``).
- Precision curve: fraction with centre error <= t px for t = 0..50; P@20 is its value at 20.
- Normalised precision (LaSOT, as pytracking computes it): the centre offset divided per axis by
  the ground-truth width and height, its length compared with t in 0, 0.01, ..., 0.5; reported as
  the mean of that curve (the LaSOT "normalised precision AUC"); the curve's value at 0.2 is kept
  as ``norm_precision_at_0_2``.
- Frames where the target is absent (ground truth NaN, zero width or height, or flagged absent)
  are left out. The caller decides about the first frame: ``run_ope`` stores the init box there,
  so it is counted, as ExperimentOTB and shared/tools/ope.py do.
- A prediction that is not finite (a tracker that gave up) scores IoU 0 and an infinite error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUCCESS_THRESHOLDS: np.ndarray = np.linspace(0, 1, 21)
PRECISION_THRESHOLDS: np.ndarray = np.arange(0, 51, dtype=np.float64)
NORM_PRECISION_THRESHOLDS: np.ndarray = np.arange(0, 51, dtype=np.float64) / 100.0
PRECISION_AT = 20  # px
NORM_PRECISION_AT = 0.2


def _as_boxes(boxes: np.ndarray) -> np.ndarray:
    array = np.asarray(boxes, dtype=np.float64)
    return array.reshape(-1, 4) if array.ndim == 1 else array


def iou(pred_xywh: np.ndarray, gt_xywh: np.ndarray) -> np.ndarray:
    """Per-row IoU of two Nx4 x,y,w,h arrays (got10k ``rect_iou`` without bounds); non-finite -> 0."""
    pred, gt = _as_boxes(pred_xywh), _as_boxes(gt_xywh)
    if pred.shape != gt.shape:
        raise ValueError(f"iou needs boxes of the same shape, got {pred.shape} and {gt.shape}")
    x1 = np.maximum(pred[:, 0], gt[:, 0])
    y1 = np.maximum(pred[:, 1], gt[:, 1])
    x2 = np.minimum(pred[:, 0] + pred[:, 2], gt[:, 0] + gt[:, 2])
    y2 = np.minimum(pred[:, 1] + pred[:, 3], gt[:, 1] + gt[:, 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        overlap = np.clip(inter / (union + np.finfo(float).eps), 0.0, 1.0)
    return np.where(np.isfinite(overlap), overlap, 0.0)


def _centres(boxes: np.ndarray) -> np.ndarray:
    return boxes[:, :2] + (boxes[:, 2:] - 1) / 2


def center_error(pred_xywh: np.ndarray, gt_xywh: np.ndarray) -> np.ndarray:
    """Per-row distance in px between box centres (got10k ``center_error``); non-finite -> inf."""
    pred, gt = _as_boxes(pred_xywh), _as_boxes(gt_xywh)
    error = np.sqrt(((_centres(pred) - _centres(gt)) ** 2).sum(axis=1))
    return np.where(np.isfinite(error), error, np.inf)


def normalized_center_error(pred_xywh: np.ndarray, gt_xywh: np.ndarray) -> np.ndarray:
    """Centre offset divided per axis by the ground-truth width/height, then its length (LaSOT)."""
    pred, gt = _as_boxes(pred_xywh), _as_boxes(gt_xywh)
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = (_centres(pred) - _centres(gt)) / gt[:, 2:]
        error = np.sqrt((offset**2).sum(axis=1))
    return np.where(np.isfinite(error), error, np.inf)


def success_curve(ious: np.ndarray, thresholds: np.ndarray = SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of frames whose IoU is strictly above each threshold."""
    values = np.asarray(ious, dtype=np.float64)[:, None]
    return np.greater(values, np.asarray(thresholds)[None, :]).mean(axis=0)


def precision_curve(errors: np.ndarray, thresholds: np.ndarray = PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of frames whose (possibly normalised) centre error is at most each threshold."""
    values = np.asarray(errors, dtype=np.float64)[:, None]
    return np.less_equal(values, np.asarray(thresholds)[None, :]).mean(axis=0)


def valid_frames(gt_xywh: np.ndarray, absent: np.ndarray | None = None) -> np.ndarray:
    """Bool mask of frames that count: finite ground truth with positive size, not flagged absent."""
    gt = _as_boxes(gt_xywh)
    keep = np.isfinite(gt).all(axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)
    if absent is not None:
        keep &= ~np.asarray(absent, dtype=bool)
    return keep


@dataclass(frozen=True)
class SequenceMetrics:
    """Every OPE metric of one sequence (or the mean over several); curves use the *_THRESHOLDS."""

    frames: int
    success_auc: float
    precision_20: float
    norm_precision: float
    norm_precision_at_0_2: float
    ao: float
    sr50: float
    sr75: float
    success_curve: np.ndarray
    precision_curve: np.ndarray
    norm_precision_curve: np.ndarray

    def summary(self) -> dict[str, float | int]:
        """The scalar metrics as plain floats (JSON-ready)."""
        return {
            "frames": self.frames,
            "success_auc": self.success_auc,
            "precision_20": self.precision_20,
            "norm_precision": self.norm_precision,
            "norm_precision_at_0_2": self.norm_precision_at_0_2,
            "ao": self.ao,
            "sr50": self.sr50,
            "sr75": self.sr75,
        }


def _index_of(thresholds: np.ndarray, value: float) -> int:
    return int(np.argmin(np.abs(thresholds - value)))


def metrics_from_errors(ious: np.ndarray, errors: np.ndarray, norm_errors: np.ndarray) -> SequenceMetrics:
    """All metrics from per-frame IoUs and (normalised) centre errors of the counted frames."""
    ious = np.asarray(ious, dtype=np.float64)
    if len(ious) == 0:
        nan_curve = np.full(len(SUCCESS_THRESHOLDS), np.nan)
        nan = float("nan")
        return SequenceMetrics(0, nan, nan, nan, nan, nan, nan, nan, nan_curve,
                               np.full(len(PRECISION_THRESHOLDS), np.nan),
                               np.full(len(NORM_PRECISION_THRESHOLDS), np.nan))
    succ = success_curve(ious)
    prec = precision_curve(errors)
    norm_prec = precision_curve(norm_errors, NORM_PRECISION_THRESHOLDS)
    return SequenceMetrics(
        frames=len(ious),
        success_auc=float(succ.mean()),
        precision_20=float(prec[_index_of(PRECISION_THRESHOLDS, PRECISION_AT)]),
        norm_precision=float(norm_prec.mean()),
        norm_precision_at_0_2=float(norm_prec[_index_of(NORM_PRECISION_THRESHOLDS, NORM_PRECISION_AT)]),
        ao=float(ious.mean()),
        sr50=float((ious > 0.5).mean()),
        sr75=float((ious > 0.75).mean()),
        success_curve=succ,
        precision_curve=prec,
        norm_precision_curve=norm_prec,
    )


def sequence_metrics(pred_xywh: np.ndarray, gt_xywh: np.ndarray, absent: np.ndarray | None = None) -> SequenceMetrics:
    """Metrics of one sequence's predictions against its ground truth, absent frames left out."""
    pred, gt = _as_boxes(pred_xywh), _as_boxes(gt_xywh)
    if pred.shape != gt.shape:
        raise ValueError(f"predictions {pred.shape} and ground truth {gt.shape} differ in length")
    keep = valid_frames(gt, absent)
    pred, gt = pred[keep], gt[keep]
    return metrics_from_errors(iou(pred, gt), center_error(pred, gt), normalized_center_error(pred, gt))


def mean_metrics(per_sequence: list[SequenceMetrics], pooled_ious: np.ndarray | None = None) -> SequenceMetrics:
    """The summary over sequences, each toolkit's way.

    Success, precision and normalised precision: curves averaged over sequences, then scored
    (ExperimentOTB; also what pytracking does for LaSOT), so every sequence weighs the same.
    AO and SR: over all frames of all sequences pooled (ExperimentGOT10k) when ``pooled_ious``
    is given, else the mean of the per-sequence values.
    """
    scored = [m for m in per_sequence if m.frames > 0]
    if not scored:
        return metrics_from_errors(np.empty(0), np.empty(0), np.empty(0))
    succ = np.mean([m.success_curve for m in scored], axis=0)
    prec = np.mean([m.precision_curve for m in scored], axis=0)
    norm_prec = np.mean([m.norm_precision_curve for m in scored], axis=0)
    if pooled_ious is not None and len(pooled_ious):
        pooled = np.asarray(pooled_ious, dtype=np.float64)
        ao, sr50, sr75 = float(pooled.mean()), float((pooled > 0.5).mean()), float((pooled > 0.75).mean())
    else:
        ao = float(np.mean([m.ao for m in scored]))
        sr50 = float(np.mean([m.sr50 for m in scored]))
        sr75 = float(np.mean([m.sr75 for m in scored]))
    return SequenceMetrics(
        frames=int(sum(m.frames for m in scored)),
        success_auc=float(succ.mean()),
        precision_20=float(prec[_index_of(PRECISION_THRESHOLDS, PRECISION_AT)]),
        norm_precision=float(norm_prec.mean()),
        norm_precision_at_0_2=float(norm_prec[_index_of(NORM_PRECISION_THRESHOLDS, NORM_PRECISION_AT)]),
        ao=ao,
        sr50=sr50,
        sr75=sr75,
        success_curve=succ,
        precision_curve=prec,
        norm_precision_curve=norm_prec,
    )

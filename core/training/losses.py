"""SiamCross objective (paper eq. 11): 1.0·BCE(cls) + 1.0·BCE(align) + 1.1·IoU(reg).

BCE terms are balanced like SiamBAN's: the mean over positive cells and the mean over
negative cells are averaged (labels -1 are ignored), so the few positives are not
drowned by hundreds of negatives. The IoU loss is UnitBox's -ln(IoU) (the
scale-invariant loss the paper cites), averaged over regression-positive cells.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from core.model.geometry import box_iou_ltrb
from core.model.siamcross import HeadOutput

from .labels import Targets, align_labels


@dataclass(frozen=True)
class LossTerms:
    """The total loss (for backward) and each weighted-free term (for logging)."""

    total: Tensor
    cls: Tensor
    align: Tensor
    reg: Tensor
    distill: Tensor | None = None

    def as_floats(self) -> dict[str, float]:
        names = ("total", "cls", "align", "reg") + (("distill",) if self.distill is not None else ())
        return {name: float(getattr(self, name).detach()) for name in names}

    def with_distillation(self, term: Tensor, weight: float) -> LossTerms:
        """These terms plus ``weight`` x a distillation term (kept separately for logging)."""
        return LossTerms(self.total + weight * term, self.cls, self.align, self.reg, term.detach())


def distillation_bce(student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
    """BCE of the student's classification map against the teacher's probabilities, every cell.

    Why: a network fine-tuned from a tracker trained on millions of frames forgets what the few
    thousand training pairs here do not show; the teacher's soft map on the same pair (where it
    is sure, where it hesitates between the target and a look-alike) keeps that knowledge while
    the ground-truth terms correct it (learning without forgetting)."""
    return F.binary_cross_entropy_with_logits(student_logits, torch.sigmoid(teacher_logits.detach()))


def balanced_bce(logits: Tensor, labels: Tensor) -> Tensor:
    """0.5·mean BCE over positives + 0.5·mean BCE over negatives; -1 labels ignored.
    Without positives (negative pairs only) it is the mean over the negatives."""
    pos = labels == 1
    neg = labels == 0
    losses = F.binary_cross_entropy_with_logits(logits, labels.clamp(min=0), reduction="none")
    zero = logits.sum() * 0.0
    pos_loss = losses[pos].mean() if pos.any() else zero
    neg_loss = losses[neg].mean() if neg.any() else zero
    if pos.any() and neg.any():
        return 0.5 * (pos_loss + neg_loss)
    return pos_loss + neg_loss


def iou_loss(pred_reg: Tensor, target_reg: Tensor, weight: Tensor, eps: float = 1e-6) -> Tensor:
    """-ln IoU averaged over cells with weight > 0 (0 when there are none)."""
    mask = weight[:, 0] > 0
    if not mask.any():
        return pred_reg.sum() * 0.0
    pred = pred_reg.permute(0, 2, 3, 1)[mask]
    target = target_reg.permute(0, 2, 3, 1)[mask]
    return -torch.log(box_iou_ltrb(pred, target).clamp(min=eps)).mean()


class SiamCrossLoss:
    """Callable objective: ``SiamCrossLoss()(output, targets) -> LossTerms``."""

    def __init__(self, cls_weight: float = 1.0, align_weight: float = 1.0, reg_weight: float = 1.1,
                 align_iou_threshold: float = 0.6):
        self.cls_weight = cls_weight
        self.align_weight = align_weight
        self.reg_weight = reg_weight
        self.align_iou_threshold = align_iou_threshold

    def __call__(self, output: HeadOutput, targets: Targets) -> LossTerms:
        cls = balanced_bce(output.cls_logits, targets.cls)
        align = balanced_bce(output.align_logits, align_labels(output.reg, targets, self.align_iou_threshold))
        reg = iou_loss(output.reg, targets.reg, targets.reg_weight)
        total = self.cls_weight * cls + self.align_weight * align + self.reg_weight * reg
        return LossTerms(total=total, cls=cls.detach(), align=align.detach(), reg=reg.detach())

"""Label assignment for SiamCross training (outside the network, pure tensor code).

cls (SiamBAN ellipse labels): with the search box centre (cx, cy) and size (w, h),
cells inside the ellipse of semi-axes (w/4, h/4) are positive (1), cells outside the
ellipse of semi-axes (w/2, h/2) are negative (0), cells in between are ignored (-1).
reg: (l, r, t, b) distances from every location to the box sides; the regression loss
is applied (reg_weight 1) at cells inside the box and within ``radius`` pixels of the
box centre (the paper's 16 px); when a tiny box leaves no such cell, the cell nearest to
the centre is used so every positive pair trains the regression.
align: a cell is an align candidate when it is inside the box of a positive pair; its
label is 1 when the box regressed there has IoU > threshold with the ground truth, else
0 (binary, like the cls branch; see ``align_targets``).
Negative pairs (template and search of different objects) and absent targets (NaN box)
have every cls/align label 0 and no regression.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from core.model.geometry import box_iou_ltrb

IGNORE = -1.0


@dataclass(frozen=True)
class Targets:
    """Training targets on the HxW output grid.

    cls: [B, 1, H, W] in {1, 0, -1 ignore}; reg: [B, 4, H, W] (l, r, t, b) pixels to the
    ground-truth box (meaningful where reg_weight > 0); reg_weight: [B, 1, H, W] in {0, 1};
    align_candidates: [B, 1, H, W] in {0, 1}, where the align label may become 1.
    """

    cls: Tensor
    reg: Tensor
    reg_weight: Tensor
    align_candidates: Tensor


def _ellipse_value(dx: Tensor, dy: Tensor, ax: Tensor, ay: Tensor) -> Tensor:
    return (dx / ax.clamp(min=1e-6)) ** 2 + (dy / ay.clamp(min=1e-6)) ** 2


def build_targets(search_boxes_xyxy: Tensor, locations: Tensor, positive: Tensor | None = None,
                  radius: float = 16.0) -> Targets:
    """search_boxes_xyxy [B, 4] (x1, y1, x2, y2 search-crop px; NaN rows = absent),
    locations [H, W, 2] (``SiamCrossNet.locations()``), positive [B] bool (False for
    negative pairs; default all True) -> Targets."""
    boxes = search_boxes_xyxy.float()
    batch = boxes.shape[0]
    device = boxes.device
    if positive is None:
        positive = torch.ones(batch, dtype=torch.bool, device=device)
    present = torch.isfinite(boxes).all(dim=1) & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    use = (positive.to(device) & present)[:, None, None]  # [B, 1, 1]
    boxes = torch.where(present[:, None], boxes, torch.zeros_like(boxes))
    lx = locations[..., 0].to(device)[None]  # [1, H, W]
    ly = locations[..., 1].to(device)[None]
    x1, y1, x2, y2 = (boxes[:, i, None, None] for i in range(4))
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    dx, dy = lx - cx, ly - cy
    inner = _ellipse_value(dx, dy, w / 4, h / 4) <= 1.0
    outer = _ellipse_value(dx, dy, w / 2, h / 2) <= 1.0
    cls = torch.full_like(dx, IGNORE)
    cls = torch.where(outer, cls, torch.zeros_like(cls))
    cls = torch.where(inner, torch.ones_like(cls), cls)
    cls = torch.where(use, cls, torch.zeros_like(cls))

    reg = torch.stack((lx - x1, x2 - lx, ly - y1, y2 - ly), dim=1)  # [B, 4, H, W]
    inside = (reg > 0).all(dim=1)
    distance = torch.sqrt(dx ** 2 + dy ** 2)
    reg_pos = inside & (distance <= radius)
    nearest = distance.flatten(1).argmin(dim=1)
    fallback = torch.zeros_like(reg_pos).flatten(1)
    fallback[torch.arange(batch, device=device), nearest] = True
    fallback = fallback.view_as(reg_pos) & ~reg_pos.flatten(1).any(dim=1)[:, None, None]
    reg_pos = (reg_pos | fallback) & use
    reg = torch.where(reg_pos[:, None], reg.clamp(min=1e-3), reg)
    return Targets(cls=cls[:, None], reg=reg, reg_weight=reg_pos[:, None].float(),
                   align_candidates=(inside & use)[:, None].float())


def align_labels(pred_reg: Tensor, targets: Targets, iou_threshold: float = 0.6) -> Tensor:
    """Binary align labels [B, 1, H, W]: 1 at candidates whose regressed box has
    IoU > iou_threshold with the ground truth, else 0 (the prediction is detached)."""
    iou = box_iou_ltrb(pred_reg.detach().permute(0, 2, 3, 1), targets.reg.permute(0, 2, 3, 1))[:, None]
    return ((iou > iou_threshold) & (targets.align_candidates > 0)).float()


def align_targets(pred_reg: Tensor, gt_boxes: Tensor, locations: Tensor, iou_threshold: float = 0.6,
                  positive: Tensor | None = None) -> Tensor:
    """Align labels from the regression output and ground-truth boxes directly.

    pred_reg [B, 4, H, W] (l, r, t, b px), gt_boxes [B, 4] x1,y1,x2,y2, locations [H, W, 2]
    -> [B, 1, H, W] in {0, 1}.
    """
    return align_labels(pred_reg, build_targets(gt_boxes, locations, positive), iou_threshold)

"""Per-target online adaptation: the tracker learns from the boxes a person drew for this target.

Why: every box a person draws says what this target looks like in this video and how this
person frames it, and every correction also says where the tracker went wrong. Two things
can be learnt, both from the track's keyframes (by default only the classifier: the effort
simulator found the box convention no help, see README "Learning from corrections"):

1. The box convention. Most corrections are not lost targets but boxes that frame the target
   differently from the person (wider, shorter, shifted: a face box with or without hair, a
   person box with or without the arms), consistently for one target. Per target we measure
   the network's box on each keyframe's own view against the drawn box and keep the shrunk
   mean of the differences (log width, log height, centre offset in box sizes); tracked boxes
   are reported through it, while the tracker keeps searching in its own convention.
2. The classifier. The offline classifier scores each response cell with one linear layer over the cls tower's
features (``heads.cls_logits``). Per target we refit that layer, a logistic regression on the
tower features of the track's keyframe views, pulled towards the offline weights by an L2
prior (so a few views move it a little, and where the views say nothing it stays the offline
classifier). Positives are the cells on the true box, negatives the rest of each view, and
the cells under a box the tracker wrongly held count extra: the distractor it jumped to.

Costs: tracking costs nothing more (the adapted layer replaces the offline one, same
arithmetic); a refit is one network pass per view plus a few Newton steps on a
(channels + 1)-dimensional problem. A track with a single keyframe and no correction is not
adapted at all. The state is a pure function of the track's keyframes, so undo and reopening
a project rebuild it from the boxes; nothing opaque is stored.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from core.model.geometry import ellipse_mask

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Evidence:
    """One view a person confirmed: a frame, the target's true box there (x, y, w, h), and the
    boxes the tracker wrongly held there (before the person corrected it)."""

    frame_bgr: np.ndarray
    box_xywh: Box
    wrong_boxes: tuple[Box, ...] = ()


@dataclass(frozen=True)
class AdaptationConfig:
    """prior: L2 weight pulling the refit towards the offline layer (per view, so more views
    move it further); refit_classifier / calibrate_boxes: which of the two is learnt;
    calibration_prior_views: how many views' worth of "no difference" the box calibration starts
    from; hard_negative_weight: how much more a cell under a wrongly held box counts
    than any other background cell; max_views: the most recent keyframes used (bounds a refit's
    cost); newton_steps: iterations of the logistic regression."""

    prior: float = 1.0
    hard_negative_weight: float = 4.0
    max_views: int = 6  # the keyframes nearest to a pass's start
    newton_steps: int = 6
    refit_classifier: bool = True
    calibrate_boxes: bool = False  # on its own it changed nothing, with the refit it cost corrections
    calibration_prior_views: float = 1.0


@dataclass(frozen=True)
class BoxCalibration:
    """How this person's boxes differ from the network's for one target: drawn = network box
    with width x exp(log_w), height x exp(log_h), centre moved by (dx, dy) network-box sizes."""

    log_w: float = 0.0
    log_h: float = 0.0
    dx: float = 0.0
    dy: float = 0.0

    def to_drawn(self, center: tuple[float, float],
                 size: tuple[float, float]) -> tuple[tuple[float, float], tuple[float, float]]:
        """A box in the network's convention (centre, size) as the person would draw it."""
        (cx, cy), (w, h) = center, size
        return (cx + self.dx * w, cy + self.dy * h), (w * float(np.exp(self.log_w)), h * float(np.exp(self.log_h)))

    def to_network(self, center: tuple[float, float],
                   size: tuple[float, float]) -> tuple[tuple[float, float], tuple[float, float]]:
        """Inverse of ``to_drawn``: a drawn box in the network's convention."""
        (cx, cy), (w, h) = center, size
        w_net, h_net = w / float(np.exp(self.log_w)), h / float(np.exp(self.log_h))
        return (cx - self.dx * w_net, cy - self.dy * h_net), (w_net, h_net)


def calibrate(drawn: list[tuple[float, float, float, float]], predicted: list[tuple[float, float, float, float]],
              prior_views: float) -> BoxCalibration:
    """The shrunk mean difference between drawn and predicted boxes (both x, y, w, h in one view's
    pixels): sums over the views divided by (views + prior_views), so one view moves it part way."""
    residuals = []
    for (x, y, w, h), (px, py, pw, ph) in zip(drawn, predicted):
        if min(w, h, pw, ph) <= 0:
            continue
        residuals.append((np.log(w / pw), np.log(h / ph),
                          (x + w / 2 - px - pw / 2) / pw, (y + h / 2 - py - ph / 2) / ph))
    if not residuals:
        return BoxCalibration()
    total = np.sum(residuals, axis=0) / (len(residuals) + prior_views)
    return BoxCalibration(*(float(v) for v in total))


@dataclass(frozen=True)
class AdaptedClassifier:
    """What a target learnt from its keyframes: a refitted last classification layer (logits =
    weight · features + bias; None keeps the offline layer) and its box calibration.

    views: how many keyframe views it was fitted on; wrong_views: how many wrongly held boxes
    (from corrections) served as hard negatives."""

    weight: Tensor | None
    bias: Tensor | None
    views: int
    wrong_views: int
    calibration: BoxCalibration = BoxCalibration()


@dataclass(frozen=True)
class ViewLabels:
    """Labels of one view on the response grid: positive / negative cells and their weights."""

    labels: Tensor  # [H, W] 1 positive, 0 negative, -1 ignored
    weights: Tensor  # [H, W] per-cell weight (hard negatives > 1)


def nearest_keyframes(keyframes: list[int], anchor: int, count: int) -> list[int]:
    """The ``count`` keyframes nearest to the frame a pass starts from (ties: the earlier first);
    the pass's own keyframe is first. Nearby views look most like what the pass will see."""
    return sorted(keyframes, key=lambda f: (abs(f - anchor), f))[:count]


def adaptation_views(keyframes: list[int], corrections: int, count: int) -> int:
    """How many keyframe views a pass of a track learns from (0: it is not adapted): a track with
    one keyframe and no correction learns nothing; otherwise its nearest ``count`` keyframes."""
    if len(keyframes) < 2 and corrections == 0:
        return 0
    return min(len(keyframes), count)


def view_labels(true_xyxy: np.ndarray, wrong_xyxy: list[np.ndarray], cells: Tensor, hard_weight: float) -> ViewLabels:
    """Labels of a view from its boxes in crop pixels (x1, y1, x2, y2) and the cell centres [H, W, 2].

    As the offline training labels: positive inside the ellipse of semi-axes (w/4, h/4) around the
    true box, negative outside (w/2, h/2), ignored in between; negatives inside the ellipse
    (w/4, h/4) of a wrongly held box weigh ``hard_weight``.
    """
    xs, ys = cells[0, :, 0], cells[:, 0, 1]
    box = torch.as_tensor(np.asarray(true_xyxy, dtype=np.float32))[None]
    inner = ellipse_mask(box, xs, ys, scale=0.25)[0] > 0
    outer = ellipse_mask(box, xs, ys, scale=0.5)[0] > 0
    labels = torch.full(inner.shape, -1.0)
    labels[~outer] = 0.0
    labels[inner] = 1.0
    weights = torch.ones(inner.shape)
    for wrong in wrong_xyxy:
        hard = ellipse_mask(torch.as_tensor(np.asarray(wrong, dtype=np.float32))[None], xs, ys, scale=0.25)[0] > 0
        weights[hard & (labels == 0)] = hard_weight
    return ViewLabels(labels, weights)


def fit_classifier(features: Tensor, views: list[ViewLabels], prior_weight: Tensor, prior_bias: Tensor,
                   config: AdaptationConfig) -> tuple[Tensor, Tensor]:
    """L2-regularised logistic regression of the cells' labels on their features, by Newton steps.

    features [N, C, H, W] (one map per view), prior_weight [C], prior_bias [] -> (weight [C], bias []).
    Positives and negatives of all views are balanced to equal total weight (as the offline loss),
    and the prior pulls towards the offline layer with strength ``config.prior`` x views.
    """
    count, channels = features.shape[:2]
    x = features.permute(0, 2, 3, 1).reshape(-1, channels).double()
    x = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)  # bias column
    labels = torch.stack([v.labels for v in views]).reshape(-1).double()
    weights = torch.stack([v.weights for v in views]).reshape(-1).double()
    keep = labels >= 0
    x, labels, weights = x[keep], labels[keep], weights[keep]
    positive = labels > 0.5
    if not positive.any() or positive.all():
        return prior_weight.clone(), prior_bias.clone()
    weights = torch.where(positive, weights / weights[positive].sum(), weights / weights[~positive].sum())
    prior = torch.cat([prior_weight.double().reshape(-1), prior_bias.double().reshape(1)])
    strength = float(config.prior) / count
    theta = prior.clone()
    eye = torch.eye(channels + 1, dtype=x.dtype)
    eye[-1, -1] = 0.1  # the bias moves more freely: the views fix the operating point
    for _ in range(config.newton_steps):
        p = torch.sigmoid(x @ theta)
        gradient = x.T @ (weights * (p - labels)) + strength * eye @ (theta - prior)
        hessian = (x * (weights * p * (1 - p))[:, None]).T @ x + strength * eye
        theta = theta - torch.linalg.solve(hessian + 1e-9 * torch.eye(channels + 1, dtype=x.dtype), gradient)
    return theta[:-1].to(prior_weight.dtype), theta[-1].to(prior_bias.dtype)


def adapted_logits(features: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """Cls logits [N, 1, H, W] of features [N, C, H, W] under per-target layers weight [N, C], bias [N]."""
    return torch.einsum("nchw,nc->nhw", features, weight.to(features))[:, None] + bias.to(features)[:, None, None, None]

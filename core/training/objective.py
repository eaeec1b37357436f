"""The SiamCross objective ("actor"): batch -> forward -> labels -> loss terms.

The trainer hands a batch and the (possibly DDP-wrapped) model to the objective and
gets ``LossTerms(total, cls, align, reg)`` back; labels and losses live in labels.py /
losses.py, the loop in trainer.py. Two kinds of batch arrive here:
- image pairs (``template``, ``search`` uint8 crops) for the full network;
- cached backbone features (``template_feat_<level>``, ``search_feat_<level>``) for
  ``HeadsOnFeatures``, the frozen-backbone fast path (feature_cache.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..model import HeadOutput, SiamCrossNet, TemplateEncoding
from ..model.mobile_backbone import load_converted_heads
from .labels import build_targets
from .losses import LossTerms, SiamCrossLoss, distillation_bce
from .trainer import ParamGroup


class HeadsOnFeatures(nn.Module):
    """Neck, SCAN, xcorr and heads of ``net`` applied to precomputed backbone features.

    template features arrive already centre-cropped (cropping commutes with the neck's
    1x1 conv + BatchNorm), search features full size; the result equals
    ``net(template, template_box, search)`` for the crops the features came from.
    """

    def __init__(self, net: SiamCrossNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, template_features: list[Tensor], template_box: Tensor,
                search_features: list[Tensor]) -> HeadOutput:
        net = self.net
        template = net.neck_features(template_features)
        mask = net.template_mask(template_box).to(template[0].dtype)
        return net.decode(TemplateEncoding(tuple(template), mask), net.neck_features(search_features))


@dataclass
class SiamCrossObjective:
    """Callable ``(model, batch) -> LossTerms`` for image batches or cached-feature batches.

    locations: ``net.locations()`` (search-crop pixel of each output cell).
    radius: regression positives lie within this many pixels of the box centre (paper: 16).
    """

    locations: Tensor
    loss: SiamCrossLoss
    radius: float = 16.0
    teacher: nn.Module | None = None
    distill_weight: float = 0.0

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> LossTerms:
        inputs = self.inputs(batch)
        output = model(*inputs)
        targets = build_targets(batch["search_box"], self.locations.to(batch["search_box"].device),
                                positive=batch["positive"], radius=self.radius)
        terms = self.loss(_float_output(output), targets)
        if self.teacher is None or self.distill_weight <= 0:
            return terms
        with torch.no_grad():
            teacher_logits = self.teacher(*inputs).cls_logits.float()
        return terms.with_distillation(distillation_bce(output.cls_logits.float(), teacher_logits),
                                       self.distill_weight)

    @staticmethod
    def inputs(batch: dict[str, Tensor]) -> tuple:
        if "search" in batch:  # raw uint8 crops -> float BGR 0..255, as the tracker feeds them
            return batch["template"].float(), batch["template_box"], batch["search"].float()
        levels = sorted(int(k.rsplit("_", 1)[1]) for k in batch if k.startswith("search_feat_"))
        template = [batch[f"template_feat_{i}"].float() for i in levels]
        search = [batch[f"search_feat_{i}"].float() for i in levels]
        return template, batch["template_box"], search


def _float_output(output: HeadOutput) -> HeadOutput:
    """Losses in fp32 even when the forward ran under autocast (BCE/log IoU need the range)."""
    return HeadOutput(output.cls_logits.float(), output.align_logits.float(), output.reg.float())


def backbone_stages(backbone: nn.Module) -> list[list[nn.Parameter]]:
    """The backbone's parameters grouped by stage, input side first.

    A backbone that names its stages (NanoTrack v2: ``stages()``) is taken at its word; ResNet:
    ``layer1``..``layer4``; otherwise each direct child with parameters is a stage.
    """
    stages = getattr(backbone, "stages", None)
    if stages is not None:
        return list(stages())
    layers = [getattr(backbone, f"layer{i}") for i in range(1, 5) if hasattr(backbone, f"layer{i}")]
    children = layers or [c for c in backbone.children() if any(True for _ in c.parameters())]
    return [list(c.parameters()) for c in children]


def siamcross_groups(net: SiamCrossNet, unfreeze_epoch: int, unfreeze_stages: int, backbone_lr_scale: float,
                     pretrained_head_lr_scale: float = 1.0) -> list[ParamGroup]:
    """Neck + heads from epoch 0; the backbone's last ``unfreeze_stages`` stages from ``unfreeze_epoch``
    at ``backbone_lr_scale`` x the lr (SiamRPN++); the earlier stages stay frozen.

    With ``pretrained_head_lr_scale`` != 1, head tensors that came from a converted trained head
    (NanoTrack v2's, ``load_converted_heads``) train at that scale, and the modules the paper
    adds (SCAN, attention gates, ADCA) at the full rate: they start from nothing.
    """
    heads = net.head_parameters()
    pretrained_names = set(load_converted_heads()) if pretrained_head_lr_scale != 1.0 and \
        net.config.backbone == "nanotrack_v2" else set()
    pretrained_ids = {id(p) for n, p in net.named_parameters() if n in pretrained_names and not n.endswith("gate")}
    groups = [ParamGroup("neck+heads", tuple(p for p in heads if id(p) not in pretrained_ids))]
    if pretrained_ids:
        groups.append(ParamGroup("pretrained heads", tuple(p for p in heads if id(p) in pretrained_ids),
                                 lr_scale=pretrained_head_lr_scale))
    if unfreeze_epoch >= 0 and unfreeze_stages > 0:
        stages = backbone_stages(net.backbone)[-unfreeze_stages:]
        params = tuple(p for stage in stages for p in stage)
        groups.append(ParamGroup("backbone", params, lr_scale=backbone_lr_scale, trainable_from=unfreeze_epoch))
    return groups

"""Cross-correlation branches, level fusion and the cls / reg / align heads.

Every size is a constructor argument (SiamBAN's head shape); nothing reads a global
config. Per level and per branch (cls, reg): adjust convs on template and search, then
a depthwise xcorr; levels are fused with learnable softmax weights *before* the towers,
so the towers and OAIN run once whatever the number of levels.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .geometry import xcorr_depthwise
from .oain import ADCA, ChannelAttention, SpatialInteraction


def conv_bn_relu(in_ch: int, out_ch: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


def separable_conv(channels: int) -> nn.Sequential:
    """3x3 depthwise + 1x1 pointwise, each with BN and ReLU (lite towers)."""
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels, channels, 1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
    )


def tower(channels: int, depth: int, separable: bool) -> nn.Sequential:
    layers = [separable_conv(channels) if separable else conv_bn_relu(channels, channels, 3)
              for _ in range(depth)]
    return nn.Sequential(*layers)


class DepthwiseXCorr(nn.Module):
    """Adjust template and search separately, then depthwise cross-correlate."""

    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.template_adjust = conv_bn_relu(channels, channels, kernel)
        self.search_adjust = conv_bn_relu(channels, channels, kernel)

    def forward(self, template: Tensor, search: Tensor) -> Tensor:
        return xcorr_depthwise(self.search_adjust(search), self.template_adjust(template))


class LevelFusion(nn.Module):
    """Weighted sum of per-level maps with softmax-normalised learnable weights."""

    def __init__(self, levels: int):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(levels))

    def forward(self, maps: list[Tensor]) -> Tensor:
        if len(maps) == 1:
            return maps[0]
        weights = self.weights.softmax(dim=0)
        return sum(w * m for w, m in zip(weights, maps))


class OAINHeads(nn.Module):
    """PCA + cls head, reg head (l, r, t, b pixels) and the ADCA align branch."""

    def __init__(self, channels: int, depth: int, separable: bool, stride: int,
                 gammas: tuple[float, float, float, float], reduction: int,
                 detach_offsets: bool, reg_init_size: float, max_size: float,
                 adca_channels: int | None = None):
        super().__init__()
        self.stride = stride
        self.channel_attention = ChannelAttention(channels, reduction)
        self.spatial = SpatialInteraction(gammas)
        self.cls_tower = tower(channels, depth, separable)
        self.reg_tower = tower(channels, depth, separable)
        self.cls_logits = nn.Conv2d(channels, 1, 3, padding=1)
        self.reg_raw = nn.Conv2d(channels, 4, 3, padding=1)
        self.reg_scale = nn.Parameter(torch.ones(1))
        self.adca = ADCA(channels, stride, detach_offsets, adca_channels)
        assert self.cls_logits.bias is not None and self.reg_raw.bias is not None  # built with biases
        nn.init.normal_(self.reg_raw.weight, std=0.01)
        nn.init.constant_(self.reg_raw.bias, math.log(reg_init_size / stride))
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        nn.init.zeros_(self.cls_logits.bias)
        self.log_max = math.log(max_size / stride)

    def forward(self, cls_features: Tensor, reg_features: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """-> (cls logits [B,1,H,W], align logits [B,1,H,W], reg [B,4,H,W] pixels >= 0, the cls
        tower's output that the logits are a linear layer of [B,C,H,W])."""
        cls_attended = self.channel_attention(cls_features)
        reg_attended = self.spatial(reg_features, cls_attended)
        tower_out = self.cls_tower(cls_attended)
        cls = self.cls_logits(tower_out)
        raw = self.reg_scale * self.reg_raw(self.reg_tower(reg_attended))
        reg = self.stride * torch.exp(raw.clamp(max=self.log_max))
        align = self.adca(reg_attended, reg)
        return cls, align, reg, tower_out

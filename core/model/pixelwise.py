"""Pixel-wise correlation and the mobile OAIN heads of siamcross-lite (stride-16 features).

Why pixel-wise: a depthwise xcorr of an 8x8 template over a 16x16 search map leaves a
9x9 response, too coarse at stride 16; the pixel-wise correlation (as NanoTrack v2, and
Alpha-Refine's) keeps the 16x16 search grid and turns every template position into one
channel, so the heads see *where in the template* each search cell matches.

The heads follow the paper's OAIN: PCA channel attention on the classification
correlation, its spatial interaction feeding the regression branch, and the ADCA align
branch on the box regressed at each cell. Every module the paper adds to a plain head
starts as the identity (gates at 0, as SCAN's α and β), so the network can start from
NanoTrack v2's trained head (``benchmarks/convert_nanotrack_v2.py``) and learn how much
of each to use.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .oain import ADCA, SpatialInteraction


class PixelwiseXCorr(nn.Module):
    """1x1 adjust convs, then every template position dotted with every search position:
    template [B, C, Hz, Wz], search [B, C, Hx, Wx] -> [B, Hz*Wz, Hx, Wx]."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.template_adjust = nn.Conv2d(channels, channels, 1)
        self.search_adjust = nn.Conv2d(channels, channels, 1)

    def forward(self, template: Tensor, search: Tensor) -> Tensor:
        kernel = self.template_adjust(template).flatten(2)  # [B, C, Nz]
        adjusted = self.search_adjust(search)
        batch, _, height, width = adjusted.shape
        return torch.bmm(kernel.transpose(1, 2), adjusted.flatten(2)).reshape(batch, -1, height, width)


class GatedChannelAttention(nn.Module):
    """PCA's channel attention σ(MLP(avg F) + g·MLP(max F)) ⊗ F with a shared MLP.

    g = 1 is the paper's form; a network converted from an average-pool-only attention
    starts at g = 0 (the same outputs) and learns g.
    """

    def __init__(self, channels: int, hidden: int, max_gate: float = 1.0) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.max_gate = nn.Parameter(torch.full((1,), float(max_gate)))

    def mlp(self, pooled: Tensor) -> Tensor:
        return self.fc2(torch.relu(self.fc1(pooled)))

    def forward(self, features: Tensor) -> Tensor:
        avg = features.mean(dim=(2, 3), keepdim=True)
        peak = features.amax(dim=(2, 3), keepdim=True)
        return torch.sigmoid(self.mlp(avg) + self.max_gate * self.mlp(peak)) * features


def mobile_tower(in_channels: int, channels: int, depth: int) -> nn.Sequential:
    """``depth`` x (3x3 depthwise, 1x1 pointwise, ReLU6); the first widens to ``channels``."""
    layers: list[nn.Module] = []
    width = in_channels
    for _ in range(depth):
        layers += [nn.Conv2d(width, width, 3, padding=1, groups=width, bias=False),
                   nn.Conv2d(width, channels, 1), nn.ReLU6(inplace=True)]
        width = channels
    return nn.Sequential(*layers)


class MobileOAINHeads(nn.Module):
    """PCA + cls tower, reg tower (l, r, t, b pixels) and ADCA on the pixel-wise correlations.

    cls_corr, reg_corr [B, N, H, W] (N = template positions) -> (cls logits [B,1,H,W],
    align logits [B,1,H,W], reg [B,4,H,W] pixels > 0). The regression input is
    F_reg^C + δ·Σγ_i S_i ⊗ F_cls^C: the paper's spatial interaction as a residual with
    gate δ (0 for a converted head).
    """

    def __init__(self, corr_channels: int, channels: int, depth: int, stride: int,
                 gammas: tuple[float, float, float, float], adca_channels: int | None,
                 max_size: float, gate_init: float = 1.0) -> None:
        super().__init__()
        self.cls_attention = GatedChannelAttention(corr_channels, corr_channels, gate_init)
        self.reg_attention = GatedChannelAttention(corr_channels, corr_channels, gate_init)
        self.spatial = SpatialInteraction(gammas)
        self.spatial_gate = nn.Parameter(torch.full((1,), float(gate_init)))
        self.cls_tower = mobile_tower(corr_channels, channels, depth)
        self.reg_tower = mobile_tower(corr_channels, channels, depth)
        self.cls_logits = nn.Conv2d(channels, 1, 1)
        self.reg_raw = nn.Conv2d(channels, 4, 1)
        self.adca = ADCA(corr_channels, stride, detach_offsets=True, width=adca_channels)
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        assert self.cls_logits.bias is not None and self.reg_raw.bias is not None  # built with biases
        nn.init.zeros_(self.cls_logits.bias)
        nn.init.normal_(self.reg_raw.weight, std=0.01)
        nn.init.constant_(self.reg_raw.bias, math.log(2.0 * stride))
        self.log_max = math.log(max_size)

    def forward(self, cls_corr: Tensor, reg_corr: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """-> (cls logits, align logits, reg, the cls tower output the logits are a linear layer of)."""
        cls_attended = self.cls_attention(cls_corr)
        reg_attended = self.reg_attention(reg_corr)
        reg_features = reg_attended + self.spatial_gate * self.spatial(reg_attended, cls_attended)
        tower_out = self.cls_tower(cls_attended)
        cls = self.cls_logits(tower_out)
        reg = torch.exp(self.reg_raw(self.reg_tower(reg_features)).clamp(max=self.log_max))
        align = self.adca(reg_features, reg)
        return cls, align, reg, tower_out

"""OAIN (paper section 3.3): PCA channel + spatial interaction, and the ADCA align branch."""
from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import deform_conv2d

from .geometry import box_deform_offsets, deform_conv2d_by_sampling


class ChannelAttention(nn.Module):
    """PCA channel part (eq. 8): F_cls^C = σ(MLP(avg(F)) + MLP(max(F))) ⊗ F, shared MLP."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=False),
        )

    def forward(self, features: Tensor) -> Tensor:
        avg = features.mean(dim=(2, 3), keepdim=True)
        peak = features.amax(dim=(2, 3), keepdim=True)
        return torch.sigmoid(self.mlp(avg) + self.mlp(peak)) * features


class SpatialInteraction(nn.Module):
    """PCA spatial part (eq. 9): four SLP heads on the pooled regression descriptors.

    S_i = σ(SLP_i(AvgPool_c(F_reg) + MaxPool_c(F_reg))) ⊗ F_cls^C and
    F_reg^S = Σ γ_i S_i, each SLP a 7x7 conv with padding 3. As the paper writes it, the
    regression branch enters only through these spatial maps; the channels come from
    the classification features, which suppresses the background the regression
    features pick up.
    """

    def __init__(self, gammas: tuple[float, float, float, float]):
        super().__init__()
        self.slps = nn.ModuleList(nn.Conv2d(1, 1, 7, padding=3) for _ in gammas)
        self.gammas: Tensor
        self.register_buffer("gammas", torch.tensor(gammas, dtype=torch.float32), persistent=False)

    def spatial_maps(self, reg_features: Tensor) -> Tensor:
        """The four sigmoid maps [B, 4, H, W] (exposed for overlays and tests). The four SLPs read
        the same descriptor, so they run as one 4-channel convolution (a quarter of the ops)."""
        descriptor = reg_features.mean(dim=1, keepdim=True) + reg_features.amax(dim=1, keepdim=True)
        # cast: torch types ModuleList items as plain Modules, whose attributes read as Tensor | Module
        weight = torch.cat([cast(Tensor, slp.weight) for slp in self.slps])
        bias = torch.cat([cast(Tensor, slp.bias) for slp in self.slps])
        return torch.sigmoid(F.conv2d(descriptor, weight, bias, padding=3))

    def forward(self, reg_features: Tensor, cls_attended: Tensor) -> Tensor:
        maps = self.spatial_maps(reg_features)
        weight = (maps * self.gammas.view(1, -1, 1, 1)).sum(dim=1, keepdim=True)
        return weight * cls_attended  # Σ γ_i (σ_i ⊗ F) = (Σ γ_i σ_i) ⊗ F


class ADCA(nn.Module):
    """Adaptive deformable cross-align: a 3x3 deformable conv whose kernel points sit on
    the box regressed at each cell, then a 1x1 conv to one align logit per cell
    (optionally after a 1x1 channel reduction, for the lite config)."""

    def __init__(self, channels: int, stride: int, detach_offsets: bool = True, width: int | None = None):
        super().__init__()
        width = width or channels
        self.stride = stride
        self.detach_offsets = detach_offsets
        self.reduce = (nn.Identity() if width == channels else
                       nn.Sequential(nn.Conv2d(channels, width, 1, bias=False), nn.BatchNorm2d(width),
                                     nn.ReLU(inplace=True)))
        self.weight = nn.Parameter(torch.empty(width, width, 3, 3))
        nn.init.kaiming_uniform_(self.weight, a=1.0)
        self.bias = nn.Parameter(torch.zeros(width))
        self.post = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.logits = nn.Conv2d(width, 1, 1)

    @staticmethod
    def uses_torchvision_kernel(device: torch.device) -> bool:
        """torchvision.ops.deform_conv2d on CUDA; elsewhere the grid_sample version."""
        return device.type == "cuda"

    def offsets(self, reg: Tensor) -> Tensor:
        """reg [B, 4, H, W] (l, r, t, b) pixels -> deform offsets [B, 18, H, W] in cells."""
        source = reg.detach() if self.detach_offsets else reg
        return box_deform_offsets(source, self.stride, kernel_size=3)

    def forward(self, features: Tensor, reg: Tensor) -> Tensor:
        reduced, offsets = self.reduce(features), self.offsets(reg)
        if self.uses_torchvision_kernel(reduced.device):
            aligned = deform_conv2d(reduced, offsets, self.weight, self.bias, padding=(1, 1))
        else:  # identical result (tested); faster than torchvision's CPU kernel, and runs on MPS
            aligned = deform_conv2d_by_sampling(reduced, offsets, self.weight, self.bias)
        return self.logits(self.post(aligned))

"""SCAN: the Siamese cross-aware neck (paper section 3.2), one instance per feature level.

Search side (look-up table, eqs. 3-5): A = softmax_z(f(x)ᵀ f(z) / sqrt(C)) [Nx, Nz]
compares every search position with every template position; V [Nz, 1] is the binary
inscribed-ellipse mask of the target on the template grid; M = A V [Nx, 1] is, per
search position, the attention mass that falls on the target; f(x) <- α M ⊕ f(x)
(broadcast over channels).

Template side (eqs. 6-7), our reading: the association map is learned from the search
features instead of the template itself (as SiamAttn's cross attention), and for the
shapes of eq. 7 to agree A' must be C x C. We pool f(x) onto the template grid
(f̃(x) [C, Nz]) and take A' = softmax(f̃(x) f̃(z)ᵀ / sqrt(Nz)) [C, C]: channel i of the
search context chooses which template channels to mix; f(z) <- β A' f̃(z) ⊕ f(z). So the
template is re-expressed in the channels the current search context responds to.
α and β start at 0, so an untrained SCAN is the identity.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SCAN(nn.Module):
    """Cross-aware attention between one level's template and search features."""

    def __init__(self) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(1))
        self.beta = nn.Parameter(torch.zeros(1))

    def forward(self, template: Tensor, search: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """template [B, C, Hz, Wz], search [B, C, Hx, Wx], mask [B, 1, Hz, Wz] in {0, 1}
        -> (template', search') with unchanged shapes."""
        batch, channels, hz, wz = template.shape
        hx, wx = search.shape[2:]
        z = template.flatten(2)  # [B, C, Nz]
        x = search.flatten(2)  # [B, C, Nx]
        # search side: look-up table attention over template positions
        affinity = torch.bmm(x.transpose(1, 2), z) / math.sqrt(channels)  # [B, Nx, Nz]
        lut = torch.bmm(affinity.softmax(dim=-1), mask.flatten(2).transpose(1, 2).to(x))  # [B, Nx, 1]
        search_out = search + self.alpha * lut.transpose(1, 2).reshape(batch, 1, hx, wx)
        # template side: channel cross attention from the search context
        context = F.adaptive_avg_pool2d(search, (hz, wz)).flatten(2)  # [B, C, Nz]
        channel_affinity = torch.bmm(context, z.transpose(1, 2)) / math.sqrt(hz * wz)  # [B, C, C]
        mixed = torch.bmm(channel_affinity.softmax(dim=-1), z).reshape(batch, channels, hz, wz)
        template_out = template + self.beta * mixed
        return template_out, search_out

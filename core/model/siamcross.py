"""SiamCrossNet: backbone -> neck -> SCAN -> xcorr (depthwise for r50, pixel-wise for lite) -> OAIN heads.

The network is stateless: ``encode_template`` returns a TemplateEncoding that the
tracker keeps per target, ``encode_search`` runs once per search crop, and ``decode``
combines them, so many targets batch naturally (``TemplateEncoding.cat``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .backbones import build_backbone
from .config import ModelConfig
from .geometry import centred_locations, ellipse_mask, grid_centres, output_locations
from .heads import DepthwiseXCorr, LevelFusion, OAINHeads
from .mobile_backbone import load_converted_heads
from .pixelwise import MobileOAINHeads, PixelwiseXCorr
from .scan import SCAN


@dataclass(frozen=True)
class HeadOutput:
    """Raw outputs on the HxW response grid (see ``SiamCrossNet.locations``).

    cls_logits, align_logits: [B, 1, H, W] logits; reg: [B, 4, H, W] distances
    (l, r, t, b) in search-crop pixels from each location to the box sides, >= 0.
    """

    cls_logits: Tensor
    align_logits: Tensor
    reg: Tensor
    cls_features: Tensor | None = None  # the cls tower output, kept only when decode is asked to

    def fused_score(self, omega: float) -> Tensor:
        """((1 - ω) σ(cls) + σ(align)) / (2 - ω), [B, 1, H, W] in [0, 1]."""
        return ((1.0 - omega) * torch.sigmoid(self.cls_logits) + torch.sigmoid(self.align_logits)) / (2.0 - omega)

    def stacked_maps(self, omega: float) -> Tensor:
        """[B, 7, H, W]: σ(cls), σ(align), the fused score, then reg l, r, t, b (the layout
        the tracker copies to the host in one transfer)."""
        return torch.cat([torch.sigmoid(self.cls_logits), torch.sigmoid(self.align_logits),
                          self.fused_score(omega), self.reg], dim=1)


@dataclass(frozen=True)
class TemplateEncoding:
    """Per-target template state: cropped neck features per level and the target's
    inscribed-ellipse mask on the template grid ([B, 1, Hz, Wz], SCAN's LUT values)."""

    features: tuple[Tensor, ...]
    mask: Tensor

    @property
    def batch_size(self) -> int:
        return int(self.mask.shape[0])

    @classmethod
    def cat(cls, encodings: list[TemplateEncoding]) -> TemplateEncoding:
        """Stack several targets' encodings into one batch (same model, same device)."""
        if not encodings:
            raise ValueError("TemplateEncoding.cat needs at least one encoding")
        levels = len(encodings[0].features)
        return cls(
            features=tuple(torch.cat([e.features[i] for e in encodings]) for i in range(levels)),
            mask=torch.cat([e.mask for e in encodings]),
        )

    def index(self, i: int) -> TemplateEncoding:
        """Target i as a batch of one."""
        return TemplateEncoding(tuple(f[i:i + 1] for f in self.features), self.mask[i:i + 1])

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> TemplateEncoding:
        return TemplateEncoding(tuple(f.to(device=device, dtype=dtype) for f in self.features),
                                self.mask.to(device=device, dtype=dtype))


class SiamCrossNet(nn.Module):
    """The SiamCross network for one ModelConfig.

    Inputs are float tensors of raw BGR pixels 0..255: templates [B, 3, 127, 127] with
    the target box [B, 4] (x1, y1, x2, y2 in template-crop pixels), search crops
    [B, 3, 255, 255]. Outputs are HeadOutput on a config.output_size square grid.
    """

    offline_classifier: tuple[Tensor, Tensor]
    """The trained last classification layer, set by core.tracking.runtime.runner before
    inference preparation hides it (adaptation's prior)."""

    def __init__(self, config: ModelConfig, pretrained_backbone: bool = True):
        super().__init__()
        self.config = config
        backbone = build_backbone(config.backbone, pretrained_backbone)
        self.backbone: nn.Module = backbone  # inference may put a folded or traced copy here
        channels = config.neck_channels
        level_channels = [backbone.out_channels[i] for i in config.backbone_levels]
        self.neck = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, channels, 1, bias=False), nn.BatchNorm2d(channels))
            if config.neck_reduce else nn.Identity()
            for c in level_channels
        )
        levels = len(level_channels)
        self.scan = nn.ModuleList(SCAN() for _ in range(levels))
        if config.correlation == "pixelwise":
            self.cls_xcorr = nn.ModuleList(PixelwiseXCorr(channels) for _ in range(levels))
            self.reg_xcorr = nn.ModuleList(PixelwiseXCorr(channels) for _ in range(levels))
            self.heads: nn.Module = MobileOAINHeads(
                config.template_crop ** 2, config.head_channels, config.head_convs, config.stride,
                config.gammas, config.adca_channels, max_size=float(config.search_size))
            locations = centred_locations(config.output_size, config.stride, config.search_size)
        else:
            self.cls_xcorr = nn.ModuleList(DepthwiseXCorr(channels, config.adjust_kernel) for _ in range(levels))
            self.reg_xcorr = nn.ModuleList(DepthwiseXCorr(channels, config.adjust_kernel) for _ in range(levels))
            self.heads = OAINHeads(channels, config.head_convs, config.separable, config.stride, config.gammas,
                                   config.pca_reduction, config.detach_offsets, config.reg_init_size,
                                   max_size=float(config.search_size), adca_channels=config.adca_channels)
            locations = output_locations(config.output_size, config.stride, config.template_size,
                                         config.template_crop_start)
        self.cls_fusion = LevelFusion(levels)
        self.reg_fusion = LevelFusion(levels)
        self._locations: Tensor
        self.register_buffer("_locations", locations, persistent=False)
        if pretrained_backbone and config.backbone == "nanotrack_v2" and config.correlation == "pixelwise":
            self.load_state_dict(load_converted_heads(), strict=False)

    # -- stages (also timed separately by the benchmark) --------------------------------
    def backbone_features(self, images: Tensor) -> list[Tensor]:
        outputs = self.backbone(images)
        return [outputs[i] for i in self.config.backbone_levels]

    def neck_features(self, features: list[Tensor]) -> list[Tensor]:
        return [reduce(f) for reduce, f in zip(self.neck, features)]

    def crop_template(self, features: list[Tensor]) -> list[Tensor]:
        start, size = self.config.template_crop_start, self.config.template_crop
        return [f[:, :, start:start + size, start:start + size] for f in features]

    def template_mask(self, template_box: Tensor) -> Tensor:
        """Inscribed-ellipse mask of the box on the cropped template grid, [B, 1, Hz, Wz]."""
        cfg = self.config
        centres = grid_centres(cfg.template_crop, cfg.stride, cfg.stride * cfg.template_crop_start)
        centres = centres.to(template_box.device)
        return ellipse_mask(template_box.float(), centres, centres, scale=0.5)[:, None]

    # -- public API -----------------------------------------------------------------------
    def encode_template(self, template: Tensor, template_box: Tensor) -> TemplateEncoding:
        """template [B, 3, T, T] BGR 0..255, template_box [B, 4] x1,y1,x2,y2 template px."""
        features = self.crop_template(self.neck_features(self.backbone_features(template)))
        mask = self.template_mask(template_box).to(features[0].dtype)
        return TemplateEncoding(tuple(features), mask)

    def encode_search(self, search: Tensor) -> list[Tensor]:
        """search [B, 3, S, S] BGR 0..255 -> neck features per level [B, C, Hx, Wx]."""
        return self.neck_features(self.backbone_features(search))

    def decode(self, template: TemplateEncoding, search_features: list[Tensor],
               keep_cls_features: bool = False) -> HeadOutput:
        """SCAN, xcorr and heads. A search batch of 1 is shared by all template targets.
        keep_cls_features: also return the cls tower output (online adaptation refits the
        linear layer on it, core.tracking.adaptation)."""
        batch = template.batch_size
        if search_features[0].shape[0] == 1 and batch > 1:
            search_features = [f.expand(batch, -1, -1, -1) for f in search_features]
        cls_maps, reg_maps = [], []
        for level, (z, x) in enumerate(zip(template.features, search_features)):
            z, x = self.scan[level](z, x, template.mask)
            cls_maps.append(self.cls_xcorr[level](z, x))
            reg_maps.append(self.reg_xcorr[level](z, x))
        cls, align, reg, tower_out = self.heads(self.cls_fusion(cls_maps), self.reg_fusion(reg_maps))
        return HeadOutput(cls_logits=cls, align_logits=align, reg=reg,
                          cls_features=tower_out if keep_cls_features else None)

    def forward(self, template: Tensor, template_box: Tensor, search: Tensor) -> HeadOutput:
        return self.decode(self.encode_template(template, template_box), self.encode_search(search))

    def locations(self) -> Tensor:
        """Search-crop pixel (x, y) of every output cell, [H, W, 2]."""
        return self._locations

    def backbone_parameters(self) -> list[nn.Parameter]:
        return list(self.backbone.parameters())

    def head_parameters(self) -> list[nn.Parameter]:
        """Everything but the backbone (neck, SCAN, xcorr, OAIN heads)."""
        backbone = {id(p) for p in self.backbone.parameters()}
        return [p for p in self.parameters() if id(p) not in backbone]

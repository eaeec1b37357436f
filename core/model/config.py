"""Typed configuration of one SiamCross model (no global config singleton).

A config travels with its weights file (``to_dict``/``from_dict``), so a file always
says how to rebuild the network it belongs to.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class PostprocessConfig:
    """Tracker post-processing knobs that belong to a trained model (SiamBAN-style).

    window_influence: weight of the cosine window on the fused score map.
    penalty_k: scale/aspect-ratio change penalty.
    size_lr: learning rate of the box size update.
    score_threshold: below this fused score a result is reported as uncertain.
    """

    window_influence: float = 0.42
    penalty_k: float = 0.04
    size_lr: float = 0.35
    score_threshold: float = 0.3


BACKBONES = ("nanotrack_v2", "resnet50")
"""The backbones this version builds (core.model.backbones.build_backbone)."""

RETIRED_KEYS = frozenset({"dilate_deep"})
"""Config keys that files of earlier versions carry and nothing reads any more: dilate_deep
chose how the retired EfficientNet-Lite0 backbone reached stride 8 (ResNet-50 is always
dilated, NanoTrack v2 never)."""


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to build a SiamCrossNet.

    Geometry: template/search crops are square (template_size, search_size) in pixels;
    features have ``stride`` pixels per cell and cell ``c`` is centred on pixel
    ``stride * c``; the template feature map is cropped to ``template_crop`` cells starting
    at cell ``template_crop_start``. Depthwise (r50): SiamRPN++ crops 7x7 of 15x15; our padded
    backbone gives 16x16, we crop 8x8 from cell 4 so the grid stays symmetric and the output
    map is 25x25 with its middle cell on the search-crop centre. Pixel-wise (lite): the whole
    8x8 template map (stride 16, crop from cell 0) and a 16x16 output on the search grid.

    backbone: one of BACKBONES; backbone_levels: which backbone outputs feed the
    neck (indices into the backbone's ``out_channels``).
    correlation: "depthwise" (the paper's per-channel xcorr of a cropped template, then
    OAINHeads) or "pixelwise" (every template position a channel on the full search grid,
    then MobileOAINHeads; for stride-16 features, whose 9x9 depthwise response is too coarse).
    head_channels: tower width of the pixel-wise heads; neck_reduce: a 1x1 conv + BN to
    ``neck_channels`` per level (off when the backbone is already narrow).
    neck_channels: width after the 1x1 reduction; adjust_kernel: kernel of the per-branch
    adjust convs before the depthwise xcorr; head_convs / separable: the cls/reg towers.
    omega: weight of the cls branch in the fused score ((1-ω)σ(cls)+σ(align))/(2-ω).
    gammas: weights of the four SLP spatial-attention heads of PCA.
    adca_channels: width of the ADCA deformable conv; None keeps the neck width, a
    smaller value adds a 1x1 reduction first (deformable sampling dominates on CPU).
    detach_offsets: the ADCA offsets come from the regression output with gradients
    stopped, so the align loss cannot bend the box regression: the paper trains ADCA
    "as an independent branch", which we read as no align gradient into the reg head.
    """

    name: str
    backbone: str
    backbone_levels: tuple[int, ...]
    neck_channels: int
    correlation: str = "depthwise"
    head_channels: int = 96
    neck_reduce: bool = True
    adjust_kernel: int = 1
    head_convs: int = 2
    separable: bool = True
    template_size: int = 127
    search_size: int = 255
    stride: int = 8
    template_crop: int = 8
    template_crop_start: int = 4
    context_amount: float = 0.5
    omega: float = 0.5
    gammas: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 0.05)
    pca_reduction: int = 16
    detach_offsets: bool = True
    adca_channels: int | None = None
    reg_init_size: float = 32.0
    postprocess: PostprocessConfig = field(default_factory=PostprocessConfig)

    @property
    def search_feature_size(self) -> int:
        """Cells per side of the search feature map (padded convs: ceil(S / stride))."""
        return -(-self.search_size // self.stride)

    @property
    def template_feature_size(self) -> int:
        return -(-self.template_size // self.stride)

    @property
    def output_size(self) -> int:
        """Cells per side of the response maps (pixel-wise: the search grid itself)."""
        if self.correlation == "pixelwise":
            return self.search_feature_size
        return self.search_feature_size - self.template_crop + 1

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/torch-safe dict (lists instead of tuples, nested postprocess)."""
        data = asdict(self)
        data["backbone_levels"] = list(self.backbone_levels)
        data["gammas"] = list(self.gammas)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Inverse of ``to_dict``; unknown keys and backbones are an error (another version's
        file), the retired keys of earlier files are dropped."""
        values = {k: v for k, v in data.items() if k not in RETIRED_KEYS}
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        if values.get("backbone") not in BACKBONES:
            raise ValueError(f"unknown backbone {values.get('backbone')!r}")
        values["backbone_levels"] = tuple(values["backbone_levels"])
        if "gammas" in values:
            values["gammas"] = tuple(float(g) for g in values["gammas"])
        if "postprocess" in values and isinstance(values["postprocess"], dict):
            values["postprocess"] = PostprocessConfig(**values["postprocess"])
        return cls(**values)

    def with_postprocess(self, **changes: Any) -> ModelConfig:
        return replace(self, postprocess=replace(self.postprocess, **changes))


def lite_config() -> ModelConfig:
    """siamcross-lite: NanoTrack v2's tracking-trained backbone (48 channels, stride 16) under
    SCAN, pixel-wise correlation and the mobile OAIN heads (16x16 response maps; see
    core/model/pixelwise.py)."""
    return ModelConfig(
        name="siamcross-lite",
        backbone="nanotrack_v2",
        backbone_levels=(0,),
        neck_channels=48,
        neck_reduce=False,
        correlation="pixelwise",
        head_convs=6,
        head_channels=96,
        stride=16,
        template_crop=8,
        template_crop_start=0,
        adca_channels=32,
        postprocess=PostprocessConfig(window_influence=0.455, penalty_k=0.055, size_lr=0.37),
    )


def r50_config() -> ModelConfig:
    """siamcross-r50: the paper's configuration (ResNet-50 layers 2-4, 256 channels)."""
    return ModelConfig(
        name="siamcross-r50",
        backbone="resnet50",
        backbone_levels=(0, 1, 2),
        neck_channels=256,
        adjust_kernel=3,
        head_convs=3,
        separable=False,
    )


NAMED_CONFIGS = {"lite": lite_config, "r50": r50_config}

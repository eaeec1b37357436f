"""The SiamCross network (paper: SCAN neck, depthwise xcorr, OAIN heads with PCA + ADCA).

    from core.model import lite_config, SiamCrossNet, load_model
    net = load_model("lite", device="cpu")
    template = net.encode_template(z, box)     # once per target
    out = net.decode(template, net.encode_search(x))
"""
from .config import ModelConfig, PostprocessConfig, lite_config, r50_config
from .siamcross import HeadOutput, SiamCrossNet, TemplateEncoding
from .weights import load_model, load_weights, save_weights

__all__ = [
    "HeadOutput",
    "ModelConfig",
    "PostprocessConfig",
    "SiamCrossNet",
    "TemplateEncoding",
    "lite_config",
    "load_model",
    "load_weights",
    "r50_config",
    "save_weights",
]

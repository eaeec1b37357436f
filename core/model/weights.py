"""Weights files: a versioned dict with the config, loaded only with weights_only=True.

File layout: {"format_version": 1, "config": ModelConfig.to_dict(), "state_dict": ...,
"meta": {...}, "includes_backbone": bool}. A file holds the neck and heads, and the
backbone too when it was fine-tuned (``includes_backbone`` True); without it the backbone
comes from its pretrained weights. The shipped lite file holds the whole network, its
fine-tuned NanoTrack v2 backbone included. Every problem a user can cause is a ModelError
with one sentence.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelError
from ..temp_files import clean_stale_temps, temp_path
from .config import NAMED_CONFIGS, ModelConfig
from .siamcross import SiamCrossNet

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MODELS_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"
DEFAULT_FILES = {"lite": MODELS_DIR / "siamcross-lite.pt", "r50": MODELS_DIR / "siamcross-r50.pt"}


def save_weights(net: SiamCrossNet, path: str | Path, include_backbone: bool = False,
                 meta: dict[str, Any] | None = None) -> Path:
    """Write ``net`` to ``path`` (atomically: temp file then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()
             if include_backbone or not k.startswith("backbone.")}
    payload = {
        "format_version": FORMAT_VERSION,
        "config": net.config.to_dict(),
        "state_dict": state,
        "includes_backbone": include_backbone,
        "meta": dict(meta or {}),
    }
    return save_torch_atomically(payload, path)


def save_torch_atomically(payload: dict[str, Any], path: Path) -> Path:
    """torch.save to a temp file beside path, then rename: a crash never leaves half a file.

    Weights files and training checkpoints both go through here. The temp file is
    ``.<name>.<pid>.tmp``; those a killed save left (its process gone) are removed first, and so
    is an hour-old ``<name>.tmp`` of the versions before.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(path, legacy_names=(path.name + ".tmp",))
    tmp = temp_path(path)
    try:
        torch.save(payload, tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_weights_file(path: str | Path) -> dict[str, Any]:
    """The checked payload of a weights file (ModelError for anything unusable)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model weights file not found: {path}.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated zip, pickle of another kind, ...
        raise ModelError(f"Model weights file {path.name} is truncated or not a SiamCross weights file.") from error
    if not isinstance(payload, dict) or "format_version" not in payload:
        raise ModelError(f"{path.name} is not a SiamCross weights file (no format_version).")
    if payload["format_version"] != FORMAT_VERSION:
        raise ModelError(f"{path.name} has weights format {payload['format_version']}, "
                         f"this version reads format {FORMAT_VERSION}.")
    if not isinstance(payload.get("state_dict"), dict) or not isinstance(payload.get("config"), dict):
        raise ModelError(f"{path.name} is missing its config or state dict.")
    return payload


def config_of(payload: dict[str, Any], path: Path) -> ModelConfig:
    try:
        return ModelConfig.from_dict(payload["config"])
    except (TypeError, ValueError, KeyError) as error:
        raise ModelError(f"{path.name} holds a model config this version cannot read.") from error


def load_weights(net: SiamCrossNet, path: str | Path) -> dict[str, Any]:
    """Load a weights file into an existing network of the same config; returns meta."""
    path = Path(path)
    payload = read_weights_file(path)
    config = config_of(payload, path)
    if (config.name, config.backbone) != (net.config.name, net.config.backbone):
        raise ModelError(f"{path.name} holds {config.name} weights, not {net.config.name}.")
    state = payload["state_dict"]
    own = net.state_dict()
    wrong_shape = [k for k, v in state.items() if k in own and tuple(v.shape) != tuple(own[k].shape)]
    unexpected = [k for k in state if k not in own]
    missing = [k for k in own if k not in state and not k.startswith("backbone.")]
    if wrong_shape or unexpected or missing:
        raise ModelError(f"{path.name} does not match the {net.config.name} network "
                         f"({len(wrong_shape) + len(unexpected) + len(missing)} tensors differ).")
    net.load_state_dict(state, strict=False)
    return dict(payload.get("meta", {}))


def load_model(name_or_path: str | Path, device: str | torch.device = "cpu") -> SiamCrossNet:
    """"lite" / "r50" (bundled weights if present) or a weights file path -> eval-mode net.

    Without a bundled file, a named model is built from what is pretrained, with a warning:
    r50 from its ImageNet backbone with untrained heads (meaningless scores), lite as the
    converted NanoTrack v2 network with SiamCross's additions untrained.
    """
    key = str(name_or_path)
    if key in NAMED_CONFIGS:
        config = NAMED_CONFIGS[key]()
        default = DEFAULT_FILES[key]
        if default.is_file():
            payload = read_weights_file(default)
            file_config = config_of(payload, default)
            if file_config.name != config.name:
                raise ModelError(f"{default.name} holds {file_config.name} weights, not {config.name}.")
            net = SiamCrossNet(file_config, pretrained_backbone=not payload.get("includes_backbone", False))
            load_weights(net, default)
        else:
            warnings.warn(f"No trained weights for {config.name} ({default} is missing): "
                          "the heads are untrained, so tracking results are meaningless.", stacklevel=2)
            net = SiamCrossNet(config, pretrained_backbone=True)
    else:
        path = Path(name_or_path)
        payload = read_weights_file(path)
        net = SiamCrossNet(config_of(payload, path), pretrained_backbone=not payload.get("includes_backbone", False))
        load_weights(net, path)
    return net.to(device).eval()

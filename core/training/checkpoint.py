"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model, optimizer and grad-scaler state, the step/epoch position,
the RNG states and the training config (so it says how to rebuild its run). It is written
atomically (temporary file + rename) and read with ``torch.load(weights_only=True)``: only
tensors and plain containers, never pickled code.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ModelError
from ..model.weights import save_torch_atomically

CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class TrainPosition:
    """Where a run stands: ``step`` optimizer steps done, ``epoch`` and steps into it."""

    step: int = 0
    epoch: int = 0
    step_in_epoch: int = 0


def save_checkpoint(
    path: str | Path,
    *,
    model_state: dict[str, torch.Tensor],
    optimizer_state: dict[str, Any],
    scaler_state: dict[str, Any] | None,
    position: TrainPosition,
    config: dict[str, Any],
    model_config: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": CHECKPOINT_FORMAT,
        "kind": "siamcross-train-checkpoint",
        "config": config,
        "model_config": model_config,
        "model": model_state,
        "optimizer": optimizer_state,
        "scaler": scaler_state,
        "position": {"step": position.step, "epoch": position.epoch, "step_in_epoch": position.step_in_epoch},
        "rng": {"torch": torch.get_rng_state(), "numpy": _numpy_state()},
        "extra": extra or {},
    }
    return save_torch_atomically(payload, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by ``save_checkpoint`` (ModelError with one sentence if not)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Checkpoint {path} does not exist.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, ValueError, OSError) as error:
        raise ModelError(f"Checkpoint {path} cannot be read ({type(error).__name__}); it may be truncated.") from None
    if not isinstance(payload, dict) or payload.get("kind") != "siamcross-train-checkpoint":
        raise ModelError(f"{path} is not a SiamCross training checkpoint.")
    if payload.get("format_version") != CHECKPOINT_FORMAT:
        raise ModelError(f"Checkpoint {path} has format {payload.get('format_version')}, "
                         f"this version reads {CHECKPOINT_FORMAT}.")
    return payload


def position_of(payload: dict[str, Any]) -> TrainPosition:
    p = payload["position"]
    return TrainPosition(int(p["step"]), int(p["epoch"]), int(p["step_in_epoch"]))


def restore_rng(payload: dict[str, Any]) -> None:
    torch.set_rng_state(payload["rng"]["torch"])
    np.random.set_state(_numpy_from_saved(payload["rng"]["numpy"]))


def _numpy_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def _numpy_from_saved(state: dict[str, Any]) -> tuple:
    keys = state["keys"].numpy().astype(np.uint32)
    return (state["name"], keys, state["pos"], state["has_gauss"], state["cached"])

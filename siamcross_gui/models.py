"""Which models and devices the app offers: only those that can really run here.

A named model is offered when its bundled weights file exists (resources/models, as
core.model.weights knows them); one without weights would track with untrained heads and
replace boxes with junk, so the worker refuses it (ModelNotTrained) instead of warning on a
terminal nobody reads. Devices come from core.tracking.runtime.device: CUDA or MPS only where present.
"""
from __future__ import annotations

from pathlib import Path

from core.errors import ModelError


class ModelNotTrained(ModelError):
    """A named model whose weights file is missing: it would track with untrained heads."""


def _weights_files() -> dict[str, Path]:
    from core.model import weights
    from core.model.config import NAMED_CONFIGS

    files = getattr(weights, "DEFAULT_FILES", {})
    return {name: Path(path) for name, path in files.items() if name in NAMED_CONFIGS}


def available_models() -> list[str]:
    """Named models whose weights file exists, in core.model.weights' order."""
    return [name for name, path in _weights_files().items() if path.is_file()]


def is_named_model(model: str) -> bool:
    return model in _weights_files()


def check_model_usable(model: str) -> None:
    """ModelNotTrained for a named model without weights; paths and trained names pass."""
    files = _weights_files()
    if model in files and not files[model].is_file():
        offered = ", ".join(available_models()) or "none"
        raise ModelNotTrained(f"The model '{model}' has no trained weights ({files[model].name} is missing), so it "
                              f"would track with untrained heads; choose another model in Settings ({offered}).")


def available_devices() -> list[str]:
    from core.tracking.runtime.device import available_devices as devices

    return devices()

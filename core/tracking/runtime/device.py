"""Which torch device and precision the tracker runs on.

``"auto"`` picks CUDA (half precision: Siamese trackers lose nothing measurable in
fp16 and run about twice as fast), then Apple MPS, then the CPU. The choice is made
once, at the command-line or GUI edge, and passed in; nothing below hard-codes a device.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from .process import prefer_sleeping_threads

prefer_sleeping_threads()

import torch  # noqa: E402  (after the OpenMP policy)

from core.errors import UserError  # noqa: E402

log = logging.getLogger(__name__)


class DeviceError(UserError):
    """The requested device does not exist on this machine or is not a device name."""


@dataclass(frozen=True)
class DeviceChoice:
    """A torch device and whether the network runs in half precision on it."""

    device: torch.device
    half: bool

    @property
    def dtype(self) -> torch.dtype:
        return torch.float16 if self.half else torch.float32

    def __str__(self) -> str:
        return f"{self.device}{' (fp16)' if self.half else ''}"


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(spec: str | torch.device = "auto", half: bool | None = None) -> DeviceChoice:
    """Turn "auto" / "cpu" / "cuda" / "cuda:1" / "mps" into a DeviceChoice.

    half=None means "half precision on CUDA, full precision elsewhere"; half=True on a
    CPU is refused because CPU fp16 convolutions are slower than fp32, not faster.
    """
    text = str(spec).strip().lower()
    if text == "auto":
        if torch.cuda.is_available():
            device = torch.device("cuda")
        elif _mps_available():
            device = torch.device("mps")
        else:
            device = torch.device("cpu")
    else:
        try:
            device = torch.device(text)
        except (RuntimeError, ValueError):
            raise DeviceError(f"'{spec}' is not a device; use auto, cpu, cuda, cuda:N or mps.") from None
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise DeviceError(f"device '{spec}' was requested but this machine has no usable CUDA GPU.")
            index = device.index or 0
            if index >= torch.cuda.device_count():
                raise DeviceError(
                    f"device '{spec}' was requested but this machine has only {torch.cuda.device_count()} CUDA GPU(s).")
        elif device.type == "mps" and not _mps_available():
            raise DeviceError(f"device '{spec}' was requested but Apple MPS is not available here.")
        elif device.type not in ("cpu", "cuda", "mps"):
            raise DeviceError(f"'{spec}' is not a device; use auto, cpu, cuda, cuda:N or mps.")
    use_half = device.type == "cuda" if half is None else bool(half)
    if use_half and device.type == "cpu":
        raise DeviceError("half precision is only supported on a GPU; use full precision on the CPU.")
    return DeviceChoice(device=device, half=use_half)


def cpu_fallback() -> DeviceChoice:
    """The device to continue on after the GPU ran out of memory."""
    return DeviceChoice(device=torch.device("cpu"), half=False)


def is_out_of_memory(error: BaseException) -> bool:
    """True for a GPU out-of-memory error (CUDA or MPS), which the tracker survives on the CPU."""
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def available_devices() -> list[str]:
    """The device names that work on this machine, for a user to pick from: "auto", "cpu", then
    "cuda" (and "cuda:N" for each further GPU) and "mps" only where they exist."""
    names = ["auto", "cpu"]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        names += ["cuda"] + [f"cuda:{i}" for i in range(1, count)]
    if _mps_available():
        names.append("mps")
    return names

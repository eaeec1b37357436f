"""NetworkRunner: the network as a tracker runs it, on its device, in passes, surviving the GPU.

It owns the device choice, the network prepared for inference (``inference``), the passes of
one tracking step (``passes``: how many targets per pass, side by side or one after another)
and the move to the CPU when the GPU runs out of memory or lacks an operator. A tracker gives
it uint8 crops and steps to run; it gives back tensors on the device. ``generation`` counts
device moves: template encodings made before a move must be made again.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch

from core.model import SiamCrossNet, TemplateEncoding

from .device import DeviceChoice, cpu_fallback, is_out_of_memory, resolve_device
from .inference import InferencePrep, prepare_for_inference, use_cpu_speedups
from .passes import PassRunner, is_small, split_evenly
from .process import keep_freed_memory

log = logging.getLogger(__name__)

T = TypeVar("T")

CPU_MAX_BATCH = 4
"""Targets per network pass on a CPU. Beyond a few targets a bigger batch buys nothing on a
CPU (a batch of many targets ran slower than passes of four, its activations mapped afresh
every frame), and the cap bounds memory; with a small net the passes of one frame run side by
side, one per core (``passes``)."""


def offline_classifier(net: SiamCrossNet) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The trained last classification layer (weight [C], bias []) on the CPU: adaptation's prior.
    Read once and kept on the net, because preparing it for inference turns its heads into a
    frozen trace whose layers cannot be read back. None for a stand-in net without such a layer
    (it cannot be adapted)."""
    kept = getattr(net, "offline_classifier", None)
    if kept is None:
        layer = getattr(getattr(net, "heads", None), "cls_logits", None)
        if layer is None:
            return None
        kept = (layer.weight.detach().reshape(-1).float().cpu().clone(),
                layer.bias.detach().reshape(()).float().cpu().clone())
        net.offline_classifier = kept
    return kept


class NetworkRunner:
    """Runs a ``SiamCrossNet`` for a tracker.

    fuse=True prepares the net for inference only (``prepare_for_inference``: BatchNorms
    folded; on a CPU, lite channels-last and r50's backbone on fused oneDNN kernels), so only
    pass it for a net the tracker owns. max_batch caps the targets of one pass (None:
    CPU_MAX_BATCH on a CPU, no cap on a GPU); parallel_passes runs passes side by side on
    single-threaded lanes (None: for a small net on a CPU).
    """

    def __init__(self, net: SiamCrossNet, device: DeviceChoice | str = "auto", fuse: bool = False,
                 max_batch: int | None = None, parallel_passes: bool | None = None) -> None:
        self._choice = device if isinstance(device, DeviceChoice) else resolve_device(device)
        self._requested_batch = max_batch
        self._parallel_request = parallel_passes
        net.eval()
        self.offline_classifier = offline_classifier(net)
        if fuse:
            self._net, self._prep = prepare_for_inference(net, self._choice.device, self._choice.dtype)
        else:
            self._net, self._prep = net.to(device=self._choice.device, dtype=self._choice.dtype), InferencePrep()
        self._use_device()
        self.generation = 0

    @property
    def device(self) -> DeviceChoice:
        return self._choice

    @property
    def net(self) -> SiamCrossNet:
        return self._net

    @property
    def prep(self) -> InferencePrep:
        """Which inference-only speed-ups were applied to the net."""
        return self._prep

    @property
    def lanes(self) -> int:
        """Network passes run side by side, each on one thread (1: one after another)."""
        return self._passes.workers

    @property
    def one_thread_per_pass(self) -> bool:
        """True where each network pass runs on a single thread (small nets on a CPU)."""
        return self._passes.parallel

    def run(self, step: Callable[[], T]) -> T:
        """Run one tracking step; if the GPU runs out of memory, or lacks an operator (MPS has no
        deformable convolution in some torchvision builds), continue on the CPU with a warning."""
        try:
            return self._stepped(step)
        except (RuntimeError, NotImplementedError) as error:
            if self._choice.device.type == "cpu":
                raise
            if is_out_of_memory(error):
                log.warning("GPU out of memory on %s; tracking continues on the CPU (slower).", self._choice)
            elif isinstance(error, NotImplementedError):
                log.warning("%s cannot run the network (%s); tracking continues on the CPU.", self._choice, error)
            else:
                raise
            self._move_to_cpu()
            return self._stepped(step)

    def map_passes(self, count: int, one_pass: Callable[[range], T]) -> list[T]:
        """``one_pass`` over the index ranges of ``count`` targets that make this step's passes
        (at most max_batch targets each, spread evenly over the lanes), results in order."""
        return self._passes.map(one_pass, split_evenly(count, self._max_batch, self._passes.workers))

    def to_input(self, crops: np.ndarray) -> torch.Tensor:
        """uint8 [N, S, S, 3] crops -> float [N, 3, S, S] on the device (uploaded as uint8)."""
        tensor = torch.from_numpy(crops).to(self._choice.device, non_blocking=True)
        return tensor.permute(0, 3, 1, 2).to(self._choice.dtype)

    def encode_template(self, crop: np.ndarray, box_xyxy: np.ndarray) -> TemplateEncoding:
        """Template encoding of one uint8 template crop and its x1, y1, x2, y2 box (crop px)."""
        with torch.inference_mode():
            z = self.to_input(crop[None])
            box = torch.as_tensor(box_xyxy[None], dtype=self._choice.dtype, device=self._choice.device)
            return self._net.encode_template(z, box)

    def _stepped(self, step: Callable[[], T]) -> T:
        with self._passes.step():
            return step()

    def _use_device(self) -> None:
        """Batch cap, passes and process settings for the current device."""
        if self._choice.device.type == "cpu":
            keep_freed_memory()
        if self._requested_batch is not None:
            self._max_batch: int | None = max(1, int(self._requested_batch))
        else:
            self._max_batch = CPU_MAX_BATCH if self._choice.device.type == "cpu" else None
        parallel = self._parallel_request
        if parallel is None:
            parallel = self._choice.device.type == "cpu" and is_small(self._net)
        self._passes = PassRunner(parallel)

    def _move_to_cpu(self) -> None:
        self._choice = cpu_fallback()
        self._passes.close()
        self._use_device()
        self._net.to(device=self._choice.device, dtype=self._choice.dtype)
        if self._prep.backbone_fused:  # prepared by this runner: run as one built on the CPU runs
            self._net, self._prep = use_cpu_speedups(self._net, self._prep)
        self.generation += 1
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

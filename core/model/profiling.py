"""Size, FLOPs and per-stage timings of SiamCross models (used by `siamcross bench`).

Library code: it measures and returns frozen results; printing is the caller's job.
FLOPs come from torch.utils.flop_counter (2 FLOPs per multiply-add) over
encode_template + encode_search + decode at batch 1; torchvision's deform_conv2d (used
on CUDA) is not known to the counter, so there its multiply-adds are added analytically.

Timings are only worth reporting for the net users run: the tracker folds BatchNorm and
swaps CPU kernels into its net (core.tracking.runtime), which the flop counter cannot
see into. So size and FLOPs can be measured on the plain net first (``measure_size``) and
handed to ``profile_model`` with the prepared one. Inputs are laid out as the tracker's
(uint8 HWC crops permuted to NCHW, i.e. channels-last strides).
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import cast

import torch
from torch.utils.flop_counter import FlopCounterMode

from .config import ModelConfig
from .oain import ADCA
from .siamcross import HeadOutput, SiamCrossNet


@dataclass(frozen=True)
class ModelProfile:
    """One model on this machine. Times are medians over ``repeats`` runs in ms at batch 1;
    backbone/neck/heads are the per-frame stages on a search crop (heads = SCAN, xcorr and
    OAIN), template_ms the one-off template encoding, postprocess_ms the tracker's
    decision (None when not timed). frame_cpu_ms is this process's
    CPU time per frame (all threads): unlike wall time it does not grow when other
    processes share the machine, so it is the number to compare across runs."""

    name: str
    params_total: int
    params_trainable: int
    gflops: float
    backbone_ms: float
    neck_ms: float
    heads_ms: float
    postprocess_ms: float | None
    frame_ms: float
    frame_cpu_ms: float
    template_ms: float
    threads: int
    repeats: int
    device: str
    setup: str = ""
    """How the timed net was prepared (e.g. "shipped weights, as the tracker runs them")."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ModelSize:
    """Parameters and GFLOPs (one template + one search crop + decode, batch 1) of a net."""

    params_total: int
    params_trainable: int
    gflops: float


def _crops(size: int, gen: torch.Generator, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A random uint8 crop [1, S, S, 3] as the tracker feeds it: permuted to [1, 3, S, S]."""
    pixels = torch.randint(0, 256, (1, size, size, 3), generator=gen, dtype=torch.uint8)
    return pixels.to(device).permute(0, 3, 1, 2).to(dtype)


def _inputs(config: ModelConfig, device: torch.device,
            dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    z = _crops(config.template_size, gen, device, dtype)
    x = _crops(config.search_size, gen, device, dtype)
    c = (config.template_size - 1) / 2
    box = torch.tensor([[c - 24, c - 32, c + 24, c + 32]], device=device, dtype=dtype)
    return z, box, x


def count_parameters(net: torch.nn.Module) -> tuple[int, int]:
    total = sum(p.numel() for p in net.parameters())
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    return total, trainable


def count_gflops(net: SiamCrossNet) -> float:
    """GFLOPs of one template + one search crop + decode at batch 1 (of a plain net: the
    counter does not see into fused CPU kernels)."""
    config = net.config
    first = next(net.parameters())
    z, box, x = _inputs(config, first.device, first.dtype)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        net.decode(net.encode_template(z, box), net.encode_search(x))
    adca = cast(ADCA, net.heads.adca)  # torch types a submodule's attributes as Tensor | Module
    width = adca.weight.shape[0]
    deform_flops = 2 * width * width * 9 * config.output_size ** 2
    if not adca.uses_torchvision_kernel(z.device):
        deform_flops = 0  # the grid_sample version's matmul is already counted
    return (counter.get_total_flops() + deform_flops) / 1e9


def measure_size(net: SiamCrossNet) -> ModelSize:
    """Parameters and GFLOPs of ``net`` as built (measure before any inference preparation)."""
    total, trainable = count_parameters(net)
    return ModelSize(total, trainable, round(count_gflops(net), 3))


def _median_ms(fn: Callable[[], object], repeats: int, warmup: int = 2,
               clock: Callable[[], float] = time.perf_counter) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append((clock() - start) * 1e3)
    return statistics.median(times)


def profile_model(net: SiamCrossNet, repeats: int = 20, size: ModelSize | None = None,
                  setup: str = "", postprocess: Callable[[HeadOutput], object] | None = None) -> ModelProfile:
    """Measure ``net`` (put in eval mode) on its own device and in its own precision.

    size: parameters and FLOPs measured on the plain net before it was prepared for
    inference (None measures ``net`` itself); setup: how ``net`` was prepared, for the report;
    postprocess: the tracker's decision on one output of ``net``, timed as postprocess_ms
    (None: not timed).
    """
    net.eval()
    first = next(net.parameters())
    device = first.device
    z, box, x = _inputs(net.config, device, first.dtype)
    size = size if size is not None else measure_size(net)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def timed(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            result = fn()
            sync()
            return result
        return run

    with torch.inference_mode():
        template = net.encode_template(z, box)
        backbone_out = net.backbone_features(x)
        search = net.neck_features(backbone_out)
        out = net.decode(template, search)
        backbone_ms = _median_ms(timed(lambda: net.backbone_features(x)), repeats)
        neck_ms = _median_ms(timed(lambda: net.neck_features(backbone_out)), repeats)
        heads_ms = _median_ms(timed(lambda: net.decode(template, search)), repeats)
        frame = timed(lambda: net.decode(template, net.encode_search(x)))
        frame_ms = _median_ms(frame, repeats)
        frame_cpu_ms = _median_ms(frame, repeats, clock=time.process_time)
        template_ms = _median_ms(timed(lambda: net.encode_template(z, box)), repeats)
        postprocess_ms = _median_ms(lambda: postprocess(out), repeats) if postprocess is not None else None
    return ModelProfile(
        name=net.config.name, params_total=size.params_total, params_trainable=size.params_trainable,
        gflops=round(size.gflops, 3),
        backbone_ms=round(backbone_ms, 2), neck_ms=round(neck_ms, 2), heads_ms=round(heads_ms, 2),
        postprocess_ms=None if postprocess_ms is None else round(postprocess_ms, 2),
        frame_ms=round(frame_ms, 2), frame_cpu_ms=round(frame_cpu_ms, 2), template_ms=round(template_ms, 2),
        threads=torch.get_num_threads(), repeats=repeats, device=str(device), setup=setup,
    )


def format_table(profiles: list[ModelProfile]) -> str:
    """A plain-text table, one row per model."""
    header = ("model", "params", "trainable", "GFLOPs", "backbone", "neck", "heads", "post", "frame", "frame-cpu",
              "template")
    rows = [header]
    for p in profiles:
        post = "-" if p.postprocess_ms is None else f"{p.postprocess_ms:.2f}"
        rows.append((p.name, f"{p.params_total / 1e6:.2f}M", f"{p.params_trainable / 1e6:.2f}M", f"{p.gflops:.2f}",
                     f"{p.backbone_ms:.1f}", f"{p.neck_ms:.2f}", f"{p.heads_ms:.1f}", post, f"{p.frame_ms:.1f}",
                     f"{p.frame_cpu_ms:.1f}", f"{p.template_ms:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    if profiles:
        p = profiles[0]
        threads = "/".join(sorted({str(q.threads) for q in profiles}, key=int))
        lines.append(f"(ms: median of {p.repeats} runs, batch 1, {p.device}, {threads} threads "
                     "(each model as the tracker runs it); "
                     "frame = backbone + neck + heads on one search crop; frame-cpu = its CPU time, all threads)")
        lines.extend(f"({q.name}: {q.setup})" for q in profiles if q.setup)
    return "\n".join(lines)

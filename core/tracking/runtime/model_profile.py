"""Profile a named model as users run it: shipped weights, prepared the way the tracker prepares them.

Shared by `siamcross bench` and benchmarks/model_bench.py so both print the same numbers
(an unprepared net is slower than what the tracker runs: ``NetworkRunner`` with fuse=True).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import nullcontext

import numpy as np
import torch

from core.model import HeadOutput, SiamCrossNet, load_model
from core.model.config import NAMED_CONFIGS
from core.model.profiling import ModelProfile, measure_size, profile_model
from core.model.weights import DEFAULT_FILES

from ..postprocess import cosine_window, decide
from .passes import torch_threads
from .runner import NetworkRunner


def decision_timer(net: SiamCrossNet) -> Callable[[HeadOutput], object]:
    """The tracker's decision (core.tracking.postprocess) on one output of ``net``, for timing."""
    post = net.config.postprocess
    cells = net.locations().detach().cpu().double().numpy()
    size = net.config.output_size
    window = cosine_window(size, size)
    previous = np.array([[48.0, 64.0]], dtype=np.float32)

    def run(out: HeadOutput) -> object:
        score = out.fused_score(net.config.omega)[:, 0].float().cpu().numpy()
        reg = out.reg.float().cpu().numpy()
        return decide(score, reg, cells, previous, window, post.window_influence, post.penalty_k, post.size_lr)

    return run


def profile_named(name: str, repeats: int, prepared: bool = True, device: str = "cpu") -> ModelProfile:
    """Profile config ``name`` on ``device``: its shipped weights (prepared as the tracker does
    unless ``prepared`` is False) when the weights file exists, else a random plain net."""
    if not DEFAULT_FILES[name].is_file():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = SiamCrossNet(NAMED_CONFIGS[name](), pretrained_backbone=False).to(torch.device(device))
        return profile_model(net, repeats=repeats, setup="random weights, plain net (no shipped weights)",
                             postprocess=decision_timer(net))
    net = load_model(name, torch.device(device))
    size = measure_size(net)
    if not prepared:
        return profile_model(net, repeats=repeats, size=size, setup=f"{DEFAULT_FILES[name].name}, plain net",
                             postprocess=decision_timer(net))
    runner = NetworkRunner(net, device, fuse=True)
    prep = runner.prep
    one_thread = runner.one_thread_per_pass
    setup = (f"{DEFAULT_FILES[name].name} as the tracker runs it: backbone BN folded {prep.backbone_fused}, "
             f"{prep.batchnorms_folded} head BNs folded, oneDNN CPU kernels {prep.cpu_kernels}, "
             f"channels-last {prep.channels_last}, "
             f"{'one thread per pass (core/tracking/runtime/passes.py)' if one_thread else 'torch threads per pass'}")
    with torch_threads(1) if one_thread else nullcontext():
        return profile_model(runner.net, repeats=repeats, size=size, setup=setup,
                             postprocess=decision_timer(runner.net))

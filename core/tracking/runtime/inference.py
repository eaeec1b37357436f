"""Inference-only speed-ups of a network the tracker owns (never of one used for training).

Steps that all leave the outputs equal to the plain network up to float rounding:

1. ``fold_batchnorms`` (any device, in the weights' own precision, before a cast to fp16):
   every BatchNorm goes into the convolution before it. In the backbone torch.fx does it
   on the traced module (ResNet-50's; NanoTrack v2's convs come with their BatchNorms
   already folded); in the neck, xcorr adjust convs, towers and the ADCA reduce they are
   Conv+BN pairs of a Sequential, and ADCA's BatchNorm after the deformable conv folds into
   the deformable weights (the deformable conv is linear in them). A backbone that cannot
   be traced stays unfused, so this can only make tracking faster.
2. On a CPU, one of two (``InferencePrep`` says which):
   - a backbone in ``CHANNELS_LAST_BACKBONES`` (NanoTrack v2, siamcross-lite): the whole
     net in channels-last memory, where its depthwise convs have their fastest kernels;
   - any other (ResNet-50), float32 only: ``use_cpu_kernels`` makes every backbone conv
     one oneDNN primitive with its activation / residual add fused and its weights
     pre-packed (core.tracking.runtime.cpu_kernels), and the input normalisation goes into the
     first conv (core.tracking.runtime.input_fold). It is checked once against the folded backbone
     on a random crop and dropped, with a log line, if the operators are missing or disagree.
"""
from __future__ import annotations

import copy
import logging
import warnings
from dataclasses import dataclass, replace
from typing import TypeGuard, TypeVar

import torch
from torch import Tensor, fx, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from core.model.oain import ADCA

from .cpu_kernels import fuse_graph_convs, onednn_available
from .input_fold import fold_input_normalisation

log = logging.getLogger(__name__)

M = TypeVar("M", bound=nn.Module)

CHECK_RTOL = 1e-3
"""How far (relative to the feature scale) a CPU-kernel backbone may differ from the folded
one on the check crop. Float rounding gives ~1e-6; a wrong rewrite gives O(1)."""


@dataclass(frozen=True)
class InferencePrep:
    """What ``prepare_for_inference`` did to a net: backbone folded by torch.fx, BatchNorms
    folded outside the backbone, backbone convs on fused oneDNN kernels, net in channels-last
    memory (at most one of the last two)."""

    backbone_fused: bool = False
    batchnorms_folded: int = 0
    cpu_kernels: bool = False
    channels_last: bool = False
    traced: bool = False


CHANNELS_LAST_BACKBONES = frozenset({"nanotrack_v2"})
"""Backbones that run fastest on a CPU as plain convolutions in channels-last memory: mostly
depthwise convs, whose channels-last CPU kernels beat both the default layout and the fused
oneDNN ones for this network (see benchmarks/REPORT.md)."""


def fuse_backbone(net: nn.Module) -> bool:
    """Replace ``net.backbone`` by a Conv+BN-folded copy (eval mode); True when it was folded."""
    backbone = getattr(net, "backbone", None)
    if backbone is None or backbone.training:
        return False
    try:
        from torch.fx.experimental.optimization import fuse

        fused = fuse(backbone)
    except Exception as error:  # tracing limits vary by torch version; unfused is still correct
        log.info("backbone left unfused (%s: %s)", type(error).__name__, error)
        return False
    _keep_backbone_attributes(backbone, fused)
    net.backbone = fused
    return True


def _keep_backbone_attributes(source: nn.Module, target: nn.Module) -> None:
    for name in ("out_channels", "level_blocks"):
        if hasattr(source, name):
            setattr(target, name, getattr(source, name))


def _foldable(bn: nn.Module) -> TypeGuard[nn.BatchNorm2d]:
    return (isinstance(bn, nn.BatchNorm2d) and not bn.training and bn.track_running_stats
            and bn.running_mean is not None and bn.running_var is not None)


def fold_sequential_batchnorms(root: nn.Module) -> int:
    """Fold each Conv2d directly followed by an eval BatchNorm2d inside any nn.Sequential of
    ``root`` (the BN becomes Identity); returns how many were folded."""
    folded = 0
    for module in list(root.modules()):
        if not isinstance(module, nn.Sequential):
            continue
        for index in range(len(module) - 1):
            conv, bn = module[index], module[index + 1]
            if type(conv) is nn.Conv2d and _foldable(bn) and conv.out_channels == bn.num_features:
                module[index] = fuse_conv_bn_eval(conv, bn)
                module[index + 1] = nn.Identity()
                folded += 1
    return folded


def fold_adca_batchnorm(adca: ADCA) -> bool:
    """Fold ADCA's BatchNorm after the deformable conv into its weight and bias.

    BN(W * s + b) = (γ / σ) W * s + (γ / σ)(b - μ) + β for every sampled patch s, whichever
    deformable kernel (torchvision's or the grid_sample one) computes W * s.
    """
    post = adca.post
    if not isinstance(post, nn.Sequential) or len(post) == 0:
        return False
    bn = post[0]
    if not _foldable(bn):
        return False
    mean, var = bn.running_mean, bn.running_var
    if mean is None or var is None:  # _foldable checked them; this narrows the types
        return False
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(var + bn.eps) if bn.affine else 1.0 / torch.sqrt(var + bn.eps)
        shift = bn.bias if bn.affine else torch.zeros_like(scale)
        bias = adca.bias if adca.bias is not None else torch.zeros_like(scale)
        adca.weight.copy_(adca.weight * scale.view(-1, 1, 1, 1))
        new_bias = (bias - mean) * scale + shift
        if adca.bias is None:
            adca.bias = nn.Parameter(new_bias)
        else:
            adca.bias.copy_(new_bias)
    post[0] = nn.Identity()
    return True


def fold_batchnorms(net: nn.Module) -> tuple[bool, int]:
    """Every BatchNorm of an eval-mode net folded into its conv: (backbone fused, BNs folded
    outside the backbone). The net then serves inference only."""
    backbone_fused = fuse_backbone(net)
    folded = 0
    for name, child in net.named_children():
        if name != "backbone":
            folded += fold_sequential_batchnorms(child)
    folded += sum(fold_adca_batchnorm(m) for m in net.modules() if isinstance(m, ADCA))
    return backbone_fused, folded


def _check_input(net: nn.Module) -> Tensor:
    size = int(getattr(getattr(net, "config", None), "search_size", 255))
    generator = torch.Generator().manual_seed(0)
    return torch.rand(1, 3, size, size, generator=generator) * 255.0


def _agree(outputs: list[Tensor], reference: list[Tensor]) -> bool:
    if len(outputs) != len(reference):
        return False
    for out, ref in zip(outputs, reference):
        if out.shape != ref.shape or not torch.isfinite(out).all():
            return False
        scale = float(ref.abs().max()) or 1.0
        if float((out - ref).abs().max()) > CHECK_RTOL * scale:
            return False
    return True


def use_cpu_kernels(net: nn.Module) -> bool:
    """Move a folded float32 CPU backbone onto fused, pre-packed oneDNN convs (its input
    normalisation folded into the first one); True when done.

    Only for a backbone that torch.fx folded (a GraphModule) and only on the CPU in float32;
    the new backbone must reproduce the old on a random crop, else the old one stays.
    """
    backbone = getattr(net, "backbone", None)
    if not isinstance(backbone, fx.GraphModule) or not onednn_available():
        return False
    params = list(backbone.parameters())
    if not params or any(p.device.type != "cpu" or p.dtype != torch.float32 for p in params):
        return False
    try:
        candidate = copy.deepcopy(backbone)
        fold_input_normalisation(candidate)
        if fuse_graph_convs(candidate) == 0:
            return False
        _keep_backbone_attributes(backbone, candidate)
        crop = _check_input(net)
        with torch.inference_mode():
            ok = _agree(list(candidate(crop)), list(backbone(crop)))
    except Exception as error:  # missing or broken oneDNN operators: the folded backbone is correct
        log.info("CPU kernels not used (%s: %s)", type(error).__name__, error)
        return False
    if not ok:
        log.warning("fused CPU kernels disagree with the reference backbone here; not used")
        return False
    net.backbone = candidate
    return True


class _TracedBackbone(nn.Module):
    """A frozen TorchScript trace of a backbone, returning a list as the eager one does."""

    def __init__(self, traced: torch.jit.ScriptModule, source: nn.Module) -> None:
        super().__init__()
        self.traced = traced
        _keep_backbone_attributes(source, self)

    def forward(self, images: Tensor) -> list[Tensor]:
        return list(self.traced(images))


def trace_for_cpu(net: nn.Module) -> bool:
    """Run the backbone and the heads as frozen TorchScript traces (True when done).

    Why: a small net on a CPU spends much of its time in Python module calls and per-op
    dispatch, which a frozen trace skips; the arithmetic is the same. The traces are checked
    against the eager modules on random inputs at two batch sizes, and dropped if they differ.
    """
    config = getattr(net, "config", None)
    if config is None:
        return False
    try:
        generator = torch.Generator().manual_seed(0)
        crops = [torch.rand(b, config.search_size, config.search_size, 3, generator=generator).permute(0, 3, 1, 2)
                 * 255.0 for b in (1, 3)]
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch marks jit.trace deprecated; it is what runs fastest here
            eager_backbone, eager_heads = net.get_submodule("backbone"), net.get_submodule("heads")
            backbone = _TracedBackbone(torch.jit.freeze(torch.jit.trace(eager_backbone, crops[0]).eval()),
                                       eager_backbone)
            features = [eager_backbone(c) for c in crops]
            corr = [(torch.rand(c.shape[0], config.template_crop ** 2, config.output_size, config.output_size,
                                generator=generator) * 4.0).contiguous(memory_format=torch.channels_last)
                    for c in crops]
            heads = torch.jit.freeze(torch.jit.trace(eager_heads, (corr[0], corr[0])).eval())
            ok = all(_agree(backbone(c), f) for c, f in zip(crops, features)) and \
                all(_agree(list(heads(x, x)), list(eager_heads(x, x))) for x in corr)
    except Exception as error:  # tracing limits vary by torch version; the eager net is correct
        log.info("TorchScript traces not used (%s: %s)", type(error).__name__, error)
        return False
    if not ok:
        log.warning("TorchScript traces disagree with the eager network here; not used")
        return False
    net.backbone, net.heads = backbone, heads
    return True


def use_cpu_speedups(net: M, prep: InferencePrep) -> tuple[M, InferencePrep]:
    """For a prepared net now on the CPU: channels-last memory and frozen traces for a backbone
    in CHANNELS_LAST_BACKBONES, else the fused oneDNN kernels (float32, folded backbone only).
    Also what a GPU tracker that falls back to the CPU applies, so it runs as one built there."""
    if getattr(getattr(net, "config", None), "backbone", None) in CHANNELS_LAST_BACKBONES:
        net = net.to(memory_format=torch.channels_last)
        traced = trace_for_cpu(net)
        return net, replace(prep, cpu_kernels=False, channels_last=True, traced=traced)
    return net, replace(prep, cpu_kernels=use_cpu_kernels(net), channels_last=False)


def prepare_for_inference(net: M, device: torch.device, dtype: torch.dtype) -> tuple[M, InferencePrep]:
    """Fold (in the weights' own precision), move to device/dtype, then use the CPU speed-ups
    (``use_cpu_speedups``; never on CUDA or MPS). The net is changed in place and returned; it
    serves inference only from now on."""
    net.eval()
    backbone_fused, folded = fold_batchnorms(net)
    net = net.to(device=device, dtype=dtype)
    prep = InferencePrep(backbone_fused, folded)
    return use_cpu_speedups(net, prep) if device.type == "cpu" else (net, prep)

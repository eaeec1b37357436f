"""Inference-only speed-ups (core.tracking.runtime.inference, core.tracking.runtime.cpu_kernels) change no output.

The optimised tracker (from_pretrained: every BatchNorm folded, lite channels-last on a CPU)
is compared with the plain, unfolded shipped net on a real sequence; each fold and each fused
oneDNN kernel (what r50's backbone runs on a CPU) is also checked alone on inputs where a wrong
fold shows (BatchNorm statistics far from identity).
"""
from __future__ import annotations

import copy
import dataclasses
import operator
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from support.datasets import read_sequence
from support.models import depthwise_config
from support.paths import PROJECT_ROOT
from torch import fx, nn

from core.model import SiamCrossNet, load_model, r50_config
from core.model.oain import ADCA
from core.tracking import SiamCrossTracker
from core.tracking.runtime import inference
from core.tracking.runtime.cpu_kernels import RELU, RELU6, OneDNNConv, fuse_graph_convs, onednn_available
from core.tracking.runtime.device import DeviceChoice
from core.tracking.runtime.inference import (
    fold_adca_batchnorm,
    fold_batchnorms,
    fold_sequential_batchnorms,
    prepare_for_inference,
    use_cpu_kernels,
)

needs_onednn = pytest.mark.skipif(not onednn_available(), reason="this torch build has no oneDNN kernels")


def shipped_net() -> SiamCrossNet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_model("lite", "cpu")


def scramble_batchnorms(module: nn.Module, seed: int = 0) -> None:
    """BatchNorm statistics and affine terms far from identity, so a wrong fold shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in module.modules():
            if isinstance(bn, nn.BatchNorm2d):
                n = bn.num_features
                bn.running_mean.copy_(torch.randn(n, generator=gen))
                bn.running_var.copy_(torch.rand(n, generator=gen) * 3 + 0.2)
                bn.weight.copy_(torch.randn(n, generator=gen))
                bn.bias.copy_(torch.randn(n, generator=gen))


@pytest.fixture(scope="module")
def car4(seqs_dir):
    return read_sequence(seqs_dir, "Car4", 12)


@pytest.fixture(scope="module")
def trackers() -> tuple[SiamCrossTracker, SiamCrossTracker]:
    """(optimised as users get it, plain shipped net with no fold at all)."""
    fast = SiamCrossTracker.from_pretrained("lite", device="cpu")
    plain = SiamCrossTracker(shipped_net(), "cpu", fuse=False)
    return fast, plain


def assert_same_result(fast, plain) -> None:
    for name in ("cls", "align", "score"):
        np.testing.assert_allclose(getattr(fast.maps, name), getattr(plain.maps, name), atol=2e-5, err_msg=name)
    np.testing.assert_allclose(fast.maps.reg, plain.maps.reg, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(fast.box_xywh, plain.box_xywh, atol=1e-3)
    assert fast.score == pytest.approx(plain.score, abs=2e-5)


def test_from_pretrained_folds_every_batchnorm_and_runs_lite_channels_last(trackers):
    fast, plain = trackers
    prep = fast.inference_prep
    assert prep.backbone_fused and prep.batchnorms_folded == 2  # ADCA's reduce and post (the backbone has none)
    assert prep.channels_last and not prep.cpu_kernels
    assert not any(isinstance(m, (nn.BatchNorm2d, OneDNNConv)) for m in fast.net.modules())
    assert prep.traced and isinstance(fast.net.heads, torch.jit.ScriptModule)  # frozen TorchScript
    assert fast.net.cls_xcorr[0].search_adjust.weight.is_contiguous(memory_format=torch.channels_last)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in plain.net.modules()) == 2  # untouched
    assert not plain.inference_prep.backbone_fused and plain.inference_prep.batchnorms_folded == 0
    assert not plain.inference_prep.channels_last


def test_optimised_tracker_gives_the_plain_nets_maps_and_boxes_on_a_real_sequence(trackers, car4):
    """Both trackers see the same search window every frame (the plain tracker's state), so
    the maps and boxes must agree to float rounding on every frame; free-running, rounding
    differences would compound through the state and hide nothing but also prove nothing."""
    fast, plain = trackers
    frames, box = car4
    mine, reference = fast.init_target(frames[0], box), plain.init_target(frames[0], box)
    for feature, expected in zip(mine.template.features, reference.template.features):
        torch.testing.assert_close(feature, expected, rtol=1e-4, atol=1e-4)
    for frame in frames[1:]:
        mine.center_xy, mine.size_wh = reference.center_xy, reference.size_wh
        (got,), (want,) = fast.track_many(frame, [mine]), plain.track_many(frame, [reference])
        assert_same_result(got, want)
        assert want.score > 0.5  # the shipped model really tracks Car4: the maps are not flat


def test_batched_targets_match_the_plain_net_one_by_one(trackers, car4):
    fast, plain = trackers
    frames, box = car4
    boxes = [box, (20.0, 30.0, 60.0, 50.0), (200.0, 100.0, 40.0, 80.0)]
    mine = [fast.init_target(frames[0], b) for b in boxes]
    theirs = [plain.init_target(frames[0], b) for b in boxes]
    got = fast.track_many(frames[1], mine)
    for want_state, result in zip(theirs, got):
        (want,) = plain.track_many(frames[1], [want_state])
        assert_same_result(result, want)


def test_half_precision_net_gets_the_folds_but_not_the_cpu_kernels(car4):
    half = SiamCrossTracker(shipped_net(), DeviceChoice(torch.device("cpu"), half=True), fuse=True)
    assert half.inference_prep.batchnorms_folded == 2 and not half.inference_prep.cpu_kernels
    assert not any(isinstance(m, OneDNNConv) for m in half.net.modules())
    frames, box = car4
    state = half.init_target(frames[0], box)
    (result,) = half.track_many(frames[1], [state])
    assert 0.0 <= result.score <= 1.0 and np.isfinite(result.maps.reg).all()


def test_off_the_cpu_only_the_folds_apply():
    """On CUDA or MPS the folds apply and neither the oneDNN kernels nor channels-last do (a meta
    device stands in for the GPU here: it has the device logic and no arithmetic)."""
    net, prep = prepare_for_inference(shipped_net(), torch.device("meta"), torch.float16)
    assert prep.backbone_fused and prep.batchnorms_folded == 2 and not prep.cpu_kernels and not prep.channels_last
    assert not any(isinstance(m, (OneDNNConv, nn.BatchNorm2d)) for m in net.modules())
    assert {p.device.type for p in net.parameters()} == {"meta"} and next(net.parameters()).dtype == torch.float16


# -- each fold alone -----------------------------------------------------------------------------
def test_sequential_folds_keep_the_heads_outputs():
    torch.manual_seed(0)
    net = SiamCrossNet(depthwise_config(), pretrained_backbone=False).eval()  # r50's BN-heavy neck and heads
    scramble_batchnorms(net)
    z, x = torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255
    box = torch.tensor([[30.0, 40.0, 90.0, 80.0], [50.0, 50.0, 70.0, 70.0]])
    with torch.inference_mode():
        expected = net(z, box, x)
        before = net.neck_features(net.backbone_features(x))
    folded = sum(fold_sequential_batchnorms(child) for name, child in net.named_children() if name != "backbone")
    assert folded == 14  # neck 1, xcorr 4, towers 8, ADCA reduce 1 (ADCA's post BN follows no conv)
    with torch.inference_mode():
        got = net(z, box, x)
        after = net.neck_features(net.backbone_features(x))
    for a, b in zip(after, before):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    for name in ("cls_logits", "align_logits", "reg"):
        torch.testing.assert_close(getattr(got, name), getattr(expected, name), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("torchvision_kernel", [False, True])
def test_adca_fold_is_exact_for_both_deformable_kernels(monkeypatch, torchvision_kernel):
    monkeypatch.setattr(ADCA, "uses_torchvision_kernel", staticmethod(lambda device: torchvision_kernel))
    torch.manual_seed(1)
    adca = ADCA(24, stride=8, width=16).eval()
    scramble_batchnorms(adca, seed=3)
    features = torch.randn(2, 24, 9, 9)
    reg = torch.rand(2, 4, 9, 9) * 40 + 4
    with torch.inference_mode():
        expected = adca(features, reg)
        without_post_bn = adca.logits(F.relu(_deform(adca, features, reg)))
    assert (expected - without_post_bn).abs().max() > 0.1  # the BN matters: a dropped fold would fail
    assert fold_adca_batchnorm(adca)
    assert isinstance(adca.post[0], nn.Identity)
    with torch.inference_mode():
        torch.testing.assert_close(adca(features, reg), expected, rtol=1e-4, atol=1e-5)
    assert not fold_adca_batchnorm(adca)  # nothing left to fold


def _deform(adca: ADCA, features: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
    from core.model.geometry import deform_conv2d_by_sampling

    return deform_conv2d_by_sampling(adca.reduce(features), adca.offsets(reg), adca.weight, adca.bias)


def test_fold_batchnorms_skips_a_training_net():
    net = SiamCrossNet(depthwise_config(), pretrained_backbone=False)  # train mode
    assert fold_batchnorms(net) == (False, 0)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()) == 15
    net.eval()
    assert fold_batchnorms(net) == (True, 15)  # the same net in eval mode: all of them


# -- fused oneDNN kernels -------------------------------------------------------------------------
@needs_onednn
@pytest.mark.parametrize("kwargs, activation, residual", [
    (dict(in_channels=8, out_channels=16, kernel_size=1), RELU6, False),
    (dict(in_channels=8, out_channels=8, kernel_size=3, padding=1), None, True),
    (dict(in_channels=16, out_channels=16, kernel_size=5, padding=4, dilation=2, groups=16), RELU6, False),
    (dict(in_channels=3, out_channels=8, kernel_size=3, stride=2, padding=1, bias=False), RELU, False),
    (dict(in_channels=8, out_channels=8, kernel_size=1), RELU, True),
])
def test_onednn_conv_equals_conv_then_add_then_activation(kwargs, activation, residual):
    torch.manual_seed(2)
    conv = nn.Conv2d(**kwargs).eval()
    fused = OneDNNConv(conv, activation, residual)
    x = torch.randn(3, kwargs["in_channels"], 17, 17) * 4
    with torch.inference_mode():
        expected = conv(x)
        other = torch.randn_like(expected) * 4 if residual else None
        if residual:
            expected = expected + other
        if activation is RELU6:
            expected = F.relu6(expected)
        elif activation is RELU:
            expected = F.relu(expected)
        got = fused(x, other) if residual else fused(x)
        channels_last = fused(x.contiguous(memory_format=torch.channels_last), other) if residual else \
            fused(x.contiguous(memory_format=torch.channels_last))
    assert fused._packed is not None  # really took the oneDNN path
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(channels_last, expected, rtol=1e-5, atol=1e-5)


@needs_onednn
def test_onednn_conv_follows_weight_changes_copies_and_other_dtypes():
    torch.manual_seed(3)
    conv = nn.Conv2d(4, 6, 3, padding=1)
    fused = OneDNNConv(conv, RELU6)
    x = torch.randn(1, 4, 8, 8)
    with torch.inference_mode():
        fused(x)
    with torch.no_grad():
        conv.weight.mul_(2)
        fused.weight.mul_(2)  # e.g. load_state_dict: the packed copy must follow
    clone = copy.deepcopy(fused)
    with torch.inference_mode():
        expected = F.relu6(conv(x))
        torch.testing.assert_close(fused(x), expected)
        torch.testing.assert_close(clone(x), expected)
        torch.testing.assert_close(fused.double()(x.double()), expected.double(), rtol=1e-5, atol=1e-5)
    with torch.enable_grad():  # gradients go through the plain conv
        assert fused.float()(x.requires_grad_()).sum().grad_fn is not None


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 1)
        self.c, self.d = nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 8, 1)
        self.e = nn.Conv2d(8, 4, 1)
        self.act = nn.ReLU()

    def forward(self, x):
        x = F.relu6(self.a(x))
        y = self.b(x) + x  # residual add: into b
        z = self.c(y)  # its add's other operand is computed after c: nothing absorbed into c
        late = self.d(y)
        w = self.act(operator.add(z, late))  # into d: residual z, then ReLU
        v = self.e(w)  # two users: nothing absorbed
        return [v + 1.0, F.relu(v)]


@needs_onednn
def test_graph_rewrite_absorbs_only_safe_patterns():
    torch.manual_seed(4)
    module = _Tiny().eval()
    traced = fx.symbolic_trace(module)
    assert fuse_graph_convs(traced) == 5
    kinds = {name: (m.activation, m.residual) for name, m in traced.named_modules() if isinstance(m, OneDNNConv)}
    assert kinds == {"a": (RELU6, False), "b": (None, True), "c": (None, False), "d": (RELU, True),
                     "e": (None, False)}
    x = torch.randn(2, 3, 12, 12)
    with torch.inference_mode():
        for got, expected in zip(traced(x), module(x)):
            torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def small_r50() -> SiamCrossNet:
    """r50 (random weights, BatchNorms away from identity) on 127 px search crops: the backbone
    the oneDNN kernels serve, at a quarter of the cost of a real search crop."""
    torch.manual_seed(5)
    net = SiamCrossNet(dataclasses.replace(r50_config(), search_size=127), pretrained_backbone=False).eval()
    gen = torch.Generator().manual_seed(6)
    with torch.no_grad():  # gently: fifty scrambled layers would overflow
        for bn in net.backbone.modules():
            if isinstance(bn, nn.BatchNorm2d):
                n = bn.num_features
                bn.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                bn.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                bn.weight.copy_(1.0 + 0.2 * torch.randn(n, generator=gen))
                bn.bias.copy_(0.1 * torch.randn(n, generator=gen))
    return net


@needs_onednn
@pytest.mark.slow
def test_r50_backbone_runs_on_fused_cpu_kernels_with_the_plain_outputs():
    plain = small_r50()
    fast, prep = prepare_for_inference(copy.deepcopy(plain), torch.device("cpu"), torch.float32)
    assert prep.backbone_fused and prep.cpu_kernels and not prep.channels_last
    assert sum(isinstance(m, OneDNNConv) for m in fast.backbone.modules()) == 53  # every conv of ResNet-50
    x = torch.rand(1, 3, 127, 127, generator=torch.Generator().manual_seed(7)) * 255
    with torch.inference_mode():
        got, expected = fast.backbone_features(x), plain.backbone_features(x)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-3 * float(b.abs().max()))


@needs_onednn
@pytest.mark.slow
def test_cpu_kernels_that_disagree_are_not_used(monkeypatch):
    net = small_r50()
    fold_batchnorms(net)
    folded = net.backbone

    def corrupt(graph_module):
        count = fuse_graph_convs(graph_module)
        stem = graph_module.get_submodule("conv1")
        with torch.no_grad():
            stem.bias.add_(1.0)  # a fold that is off by a constant
        return count

    monkeypatch.setattr(inference, "fuse_graph_convs", corrupt)
    assert not use_cpu_kernels(net)
    assert net.backbone is folded
    monkeypatch.setattr(inference, "fuse_graph_convs", fuse_graph_convs)
    monkeypatch.setattr(inference, "onednn_available", lambda: False)
    assert not use_cpu_kernels(net) and net.backbone is folded


# -- the model benchmark times what users run ------------------------------------------------------
def test_model_bench_times_the_shipped_lite_weights_as_the_tracker_prepares_them(tmp_path):
    import json
    import subprocess
    import sys

    from core.model.profiling import count_gflops, count_parameters

    root = PROJECT_ROOT
    rows = {}
    for flag in ("", "--unprepared"):
        out = tmp_path / f"bench{flag}.json"
        subprocess.run([sys.executable, "-m", "benchmarks.model_bench", "--configs", "lite", "--repeats", "1",
                        "--out", str(out), *([flag] if flag else [])], cwd=root, check=True, capture_output=True)
        (rows[flag],) = json.loads(out.read_text())["models"]
    prepared, unprepared = rows[""], rows["--unprepared"]
    plain = shipped_net()
    assert (prepared["params_total"], prepared["params_trainable"]) == count_parameters(plain)
    assert prepared["gflops"] == unprepared["gflops"] == pytest.approx(count_gflops(plain), abs=1e-3)
    assert prepared["setup"].startswith("siamcross-lite.pt as the tracker runs it")
    assert "oneDNN CPU kernels False, channels-last True" in prepared["setup"]
    assert "2 head BNs folded" in prepared["setup"]
    assert unprepared["setup"] == "siamcross-lite.pt, plain net"
    assert prepared["backbone_ms"] > 0 and prepared["heads_ms"] > 0

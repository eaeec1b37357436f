"""SiamCrossNet: shapes for both configs, batching of targets, SCAN, OAIN, gradients."""
from __future__ import annotations

import json

import pytest
import torch
from support.models import depthwise_config

from core.model import HeadOutput, ModelConfig, SiamCrossNet, TemplateEncoding, lite_config, r50_config
from core.model.scan import SCAN
from core.training.labels import build_targets
from core.training.losses import SiamCrossLoss

pytestmark = pytest.mark.usefixtures("one_torch_thread")


TEMPLATE_BOX = torch.tensor([[40.0, 30.0, 88.0, 98.0]])


@pytest.fixture(scope="module")
def lite_net() -> SiamCrossNet:
    torch.manual_seed(0)
    return SiamCrossNet(lite_config(), pretrained_backbone=False).eval()


@pytest.fixture(scope="module")
def depthwise_net() -> SiamCrossNet:
    torch.manual_seed(0)
    return SiamCrossNet(depthwise_config(), pretrained_backbone=False).eval()


def _images(batch: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, 3, 127, 127, generator=gen) * 255,
            torch.rand(batch, 3, 255, 255, generator=gen) * 255)


def test_lite_output_shapes_and_ranges(lite_net):
    z, x = _images(2)
    with torch.inference_mode():
        out = lite_net(z, TEMPLATE_BOX.expand(2, 4), x)
    assert isinstance(out, HeadOutput)
    assert out.cls_logits.shape == (2, 1, 16, 16)
    assert out.align_logits.shape == (2, 1, 16, 16)
    assert out.reg.shape == (2, 4, 16, 16)
    assert lite_net.locations().shape == (16, 16, 2)
    assert (out.reg >= 0).all() and (out.reg <= 255).all()
    score = out.fused_score(lite_net.config.omega)
    assert score.shape == (2, 1, 16, 16) and (score >= 0).all() and (score <= 1).all()


def test_search_features_have_the_size_the_config_promises(lite_net):
    cfg = lite_net.config
    z, x = _images(1)
    with torch.inference_mode():
        search = lite_net.encode_search(x)
        template = lite_net.encode_template(z, TEMPLATE_BOX)
    assert (cfg.search_feature_size, cfg.template_feature_size, cfg.output_size) == (16, 8, 16)
    assert [tuple(f.shape) for f in search] == [(1, 48, 16, 16)]  # one level, the backbone's 48 channels
    assert [tuple(f.shape) for f in template.features] == [(1, 48, 8, 8)]  # the whole template map
    assert template.mask.shape == (1, 1, 8, 8) and template.mask.sum() > 0


def test_depthwise_path_output_shapes(depthwise_net):
    z, x = _images(2)
    with torch.inference_mode():
        out = depthwise_net(z, TEMPLATE_BOX.expand(2, 4), x)
    assert depthwise_net.config.output_size == 9
    assert out.cls_logits.shape == out.align_logits.shape == (2, 1, 9, 9) and out.reg.shape == (2, 4, 9, 9)
    assert depthwise_net.locations()[4, 4].tolist() == [127.0, 127.0]  # the middle cell on the search centre


@pytest.mark.slow
def test_r50_output_shapes():
    net = SiamCrossNet(r50_config(), pretrained_backbone=False).eval()
    z, x = _images(1)
    with torch.inference_mode():
        search = net.encode_search(x)
        out = net(z, TEMPLATE_BOX, x)
    assert [tuple(f.shape) for f in search] == [(1, 256, 32, 32)] * 3
    assert out.cls_logits.shape == (1, 1, 25, 25)
    assert out.align_logits.shape == (1, 1, 25, 25)
    assert out.reg.shape == (1, 4, 25, 25)


def test_fused_score_follows_the_paper_formula():
    cls = torch.tensor([[[[2.0, -1.0]]]])
    align = torch.tensor([[[[0.5, 3.0]]]])
    out = HeadOutput(cls, align, torch.zeros(1, 4, 1, 2))
    omega = 0.3
    expected = ((1 - omega) * torch.sigmoid(cls) + torch.sigmoid(align)) / (2 - omega)
    assert torch.allclose(out.fused_score(omega), expected)
    saturated = HeadOutput(torch.full((1, 1, 1, 1), 50.0), torch.full((1, 1, 1, 1), 50.0), torch.zeros(1, 4, 1, 1))
    assert torch.isclose(saturated.fused_score(omega), torch.tensor(1.0))


def test_batched_targets_equal_one_at_a_time(lite_net):
    z, x = _images(3, seed=5)
    boxes = torch.tensor([[40.0, 30.0, 88.0, 98.0], [20.0, 50.0, 100.0, 80.0], [50.0, 50.0, 70.0, 70.0]])
    with torch.inference_mode():
        encodings = [lite_net.encode_template(z[i:i + 1], boxes[i:i + 1]) for i in range(3)]
        batch = TemplateEncoding.cat(encodings)
        search = lite_net.encode_search(x[:1])  # one search crop shared by all targets
        together = lite_net.decode(batch, search)
        for i in range(3):
            alone = lite_net.decode(batch.index(i), search)
            assert torch.allclose(alone.cls_logits, together.cls_logits[i:i + 1], atol=1e-4)
            assert torch.allclose(alone.reg, together.reg[i:i + 1], atol=1e-3)
            assert torch.allclose(alone.align_logits, together.align_logits[i:i + 1], atol=1e-4)
    assert batch.batch_size == 3 and torch.equal(batch.index(1).mask, encodings[1].mask)


def test_config_round_trips_through_json():
    for cfg in (lite_config(), r50_config().with_postprocess(window_influence=0.3)):
        again = ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
        assert again == cfg
    with pytest.raises(ValueError):
        ModelConfig.from_dict({**lite_config().to_dict(), "surprise": 1})


def test_configs_of_earlier_files_lose_retired_keys_and_retired_backbones_are_refused():
    earlier = {**lite_config().to_dict(), "dilate_deep": True}  # what files before its removal carry
    assert ModelConfig.from_dict(earlier) == lite_config()
    with pytest.raises(ValueError, match="backbone"):
        ModelConfig.from_dict({**earlier, "backbone": "efficientnet_lite0"})


def test_scan_is_identity_at_init_and_lut_favours_target_like_search_cells():
    scan = SCAN()
    target, background = torch.zeros(4), torch.zeros(4)
    target[0], background[1] = 3.0, 3.0
    template = background.view(1, 4, 1, 1).repeat(1, 1, 4, 4)
    template[:, :, 1:3, 1:3] = target.view(1, 4, 1, 1)
    mask = torch.zeros(1, 1, 4, 4)
    mask[:, :, 1:3, 1:3] = 1
    search = background.view(1, 4, 1, 1).repeat(1, 1, 6, 6)
    search[:, :, 2, 4] = target
    z_out, x_out = scan(template, search, mask)
    assert torch.equal(z_out, template) and torch.equal(x_out, search)
    with torch.no_grad():
        scan.alpha.fill_(1.0)
        scan.beta.fill_(1.0)
    z_out, x_out = scan(template, search, mask)
    lut = (x_out - search)[0, 0]  # the same map added to every channel
    assert torch.allclose(x_out - search, lut.expand(1, 4, 6, 6), atol=1e-5)
    assert lut.argmax() == 2 * 6 + 4 and lut[2, 4] > 0.9 and lut[0, 0] < 0.1
    assert z_out.shape == template.shape and not torch.equal(z_out, template)


def _forward_with_frozen_backbone(net: SiamCrossNet, z: torch.Tensor, box: torch.Tensor,
                                  x: torch.Tensor) -> HeadOutput:
    """Everything after the backbone with autograd (backbone backward is slow on CPU)."""
    with torch.no_grad():
        z_backbone, x_backbone = net.backbone_features(z), net.backbone_features(x)
    template = TemplateEncoding(tuple(net.crop_template(net.neck_features(z_backbone))), net.template_mask(box))
    return net.decode(template, net.neck_features(x_backbone))


def _loss_gradients(net: SiamCrossNet) -> dict[str, torch.Tensor | None]:
    net.train()
    net.zero_grad()
    z, x = _images(2, seed=9)
    with torch.no_grad():  # non-zero α, β so gradients flow through both SCAN sides
        for scan in net.scan:
            scan.alpha.fill_(0.5)
            scan.beta.fill_(0.5)
    out = _forward_with_frozen_backbone(net, z, TEMPLATE_BOX.expand(2, 4), x)
    targets = build_targets(torch.tensor([[100.0, 90.0, 160.0, 170.0], [60.0, 60.0, 200.0, 150.0]]),
                            net.locations())
    SiamCrossLoss()(out, targets).total.backward()
    net.eval()
    return {name: p.grad for name, p in net.named_parameters()}


GRADIENT_PARAMETERS = {
    "lite_net": [
        "scan.0.alpha", "scan.0.beta", *(f"heads.spatial.slps.{i}.weight" for i in range(4)),
        "heads.reg_raw.weight", "heads.reg_tower.0.weight",  # the offsets' source
        "heads.adca.weight", "heads.adca.logits.weight", "heads.cls_attention.fc1.weight",
        "heads.cls_attention.max_gate", "heads.reg_attention.fc1.weight", "heads.spatial_gate",
        "cls_xcorr.0.template_adjust.weight", "reg_xcorr.0.search_adjust.weight",
    ],
    "depthwise_net": [
        "scan.0.alpha", "scan.0.beta", *(f"heads.spatial.slps.{i}.weight" for i in range(4)),
        "heads.reg_raw.weight", "heads.reg_tower.0.0.weight",  # the offsets' source
        "heads.adca.weight", "heads.adca.logits.weight", "heads.channel_attention.mlp.0.weight",
        "neck.0.0.weight",
    ],
}


@pytest.mark.parametrize("net_name", sorted(GRADIENT_PARAMETERS))
def test_gradients_reach_scan_slp_heads_and_the_offset_source(net_name, request):
    grads = _loss_gradients(request.getfixturevalue(net_name))
    silent = [name for name in GRADIENT_PARAMETERS[net_name]
              if grads[name] is None or not bool(grads[name].abs().sum() > 0)]
    assert silent == []


@pytest.mark.parametrize("net_name", ["lite_net", "depthwise_net"])
def test_align_loss_does_not_bend_the_regression_through_detached_offsets(net_name, request):
    """With detach_offsets the align branch alone gives the reg layer no gradient."""
    net = request.getfixturevalue(net_name)
    net.train()
    net.zero_grad()
    z, x = _images(1, seed=4)
    out = _forward_with_frozen_backbone(net, z, TEMPLATE_BOX, x)
    out.align_logits.sum().backward()
    assert net.heads.reg_raw.weight.grad is None or net.heads.reg_raw.weight.grad.abs().sum() == 0
    assert net.heads.adca.weight.grad.abs().sum() > 0
    net.eval()


def test_half_precision_forward_keeps_dtypes_consistent():
    """The tracker runs fp16 on CUDA; every buffer and mask must follow the net's dtype."""
    torch.manual_seed(0)
    net = SiamCrossNet(lite_config(), pretrained_backbone=True).eval()
    z, x = _images(1)
    with torch.inference_mode():
        reference = net(z, TEMPLATE_BOX, x)
        half = net.half()(z.half(), TEMPLATE_BOX, x.half())
    assert half.cls_logits.dtype == half.reg.dtype == half.align_logits.dtype == torch.float16
    assert torch.isfinite(half.reg).all() and torch.isfinite(half.cls_logits).all()
    assert torch.allclose(half.cls_logits.float(), reference.cls_logits, atol=0.05)
    assert torch.allclose(half.reg.float(), reference.reg, rtol=0.1, atol=1.0)


def _receptive_centre(net: SiamCrossNet, level: int, cell: int) -> tuple[float, float]:
    """Gradient-weighted centre (y, x) in pixels of what one feature cell looks at."""
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(1, 3, 255, 255, generator=gen) * 255).requires_grad_()
    net.backbone_features(x)[level][0, :, cell, cell].sum().backward()
    weight = x.grad.abs().sum(dim=1)[0]
    weight = weight / weight.sum()
    pixels = torch.arange(255, dtype=torch.float32)
    return float((weight.sum(dim=1) * pixels).sum()), float((weight.sum(dim=0) * pixels).sum())


def test_feature_cell_c_looks_at_pixel_stride_times_c():
    """The geometry every label and location relies on (random init, so no learned bias)."""
    torch.manual_seed(0)
    net = SiamCrossNet(lite_config(), pretrained_backbone=False).eval()
    cell = 8
    cy, cx = _receptive_centre(net, 0, cell)
    expected = net.config.stride * cell
    assert abs(cy - expected) < 2.5 and abs(cx - expected) < 2.5, (cy, cx)

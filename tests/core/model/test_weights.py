"""Weights: the lite backbone loads from the converted NanoTrack v2 file, the shipped lite file
holds the whole network, files round-trip, bad files fail clearly."""
from __future__ import annotations

import pytest
import torch

from core.errors import ModelError
from core.model import SiamCrossNet, lite_config, load_model, load_weights, r50_config, save_weights
from core.model import weights as weights_module
from core.model.mobile_backbone import WEIGHTS_FILE, NanoTrackV2Backbone, load_converted_heads

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_every_lite_backbone_tensor_comes_from_the_converted_file():
    backbone = NanoTrackV2Backbone()
    loaded = backbone.load_pretrained()
    own = backbone.state_dict()
    assert sorted(own) == loaded  # every tensor was found by name
    source = torch.load(WEIGHTS_FILE, map_location="cpu", weights_only=True)["backbone"]
    for name, tensor in own.items():
        assert torch.equal(tensor, source[name]), name


def test_a_pretrained_lite_starts_from_nanotracks_head():
    net = SiamCrossNet(lite_config(), pretrained_backbone=True)
    state = net.state_dict()
    heads = load_converted_heads()
    assert heads and all(torch.equal(state[name], tensor) for name, tensor in heads.items())


def test_the_shipped_lite_file_holds_the_whole_network():
    payload = weights_module.read_weights_file(weights_module.DEFAULT_FILES["lite"])
    config = weights_module.config_of(payload, weights_module.DEFAULT_FILES["lite"])
    assert (config.name, config.backbone, config.correlation) == ("siamcross-lite", "nanotrack_v2", "pixelwise")
    assert payload["includes_backbone"] is True
    net = load_model("lite")
    assert sorted(payload["state_dict"]) == sorted(net.state_dict())  # fine-tuned backbone included
    assert torch.equal(net.backbone.stem[0].weight, payload["state_dict"]["backbone.stem.0.weight"])


@pytest.fixture(scope="module")
def lite_net() -> SiamCrossNet:
    torch.manual_seed(0)
    net = SiamCrossNet(lite_config(), pretrained_backbone=True).eval()
    with torch.no_grad():  # make the heads distinguishable from a fresh init
        for scan in net.scan:
            scan.alpha.fill_(0.7)
        net.heads.spatial_gate.fill_(1.3)
    return net


def _output(net: SiamCrossNet):
    gen = torch.Generator().manual_seed(2)
    z = torch.rand(1, 3, 127, 127, generator=gen) * 255
    x = torch.rand(1, 3, 255, 255, generator=gen) * 255
    with torch.inference_mode():
        return net(z, torch.tensor([[40.0, 30.0, 88.0, 98.0]]), x)


def test_heads_only_file_round_trips_and_is_small(lite_net, tmp_path):
    path = save_weights(lite_net, tmp_path / "lite.pt", include_backbone=False, meta={"epoch": 3})
    assert path.stat().st_size < 3_000_000
    payload = torch.load(path, weights_only=True)
    assert payload["format_version"] == 1 and not any(k.startswith("backbone.") for k in payload["state_dict"])
    again = load_model(path)
    assert again.config == lite_net.config and not again.training
    before, after = _output(lite_net), _output(again)
    assert torch.allclose(before.cls_logits, after.cls_logits, atol=1e-5)
    assert torch.allclose(before.reg, after.reg, atol=1e-4)
    fresh = SiamCrossNet(lite_config(), pretrained_backbone=True).eval()
    assert load_weights(fresh, path) == {"epoch": 3}
    assert torch.equal(fresh.scan[0].alpha, lite_net.scan[0].alpha)


def test_file_with_backbone_round_trips(lite_net, tmp_path):
    path = save_weights(lite_net, tmp_path / "full.pt", include_backbone=True)
    assert path.stat().st_size < 30_000_000
    again = load_model(path)
    assert torch.equal(again.backbone.stem[0].weight, lite_net.backbone.stem[0].weight)
    assert torch.allclose(_output(lite_net).align_logits, _output(again).align_logits, atol=1e-5)


def test_missing_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "nothing.pt")


def test_truncated_file_is_a_model_error(lite_net, tmp_path):
    path = save_weights(lite_net, tmp_path / "lite.pt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated"):
        load_model(path)


def test_weights_of_another_config_are_refused(tmp_path):
    r50_heads = SiamCrossNet(r50_config(), pretrained_backbone=False)
    path = save_weights(r50_heads, tmp_path / "r50.pt", include_backbone=False)
    lite = SiamCrossNet(lite_config(), pretrained_backbone=False)
    with pytest.raises(ModelError, match="siamcross-r50"):
        load_weights(lite, path)


def test_other_format_version_is_refused(lite_net, tmp_path):
    path = save_weights(lite_net, tmp_path / "lite.pt")
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = 2
    torch.save(payload, path)
    with pytest.raises(ModelError, match="format 2"):
        load_model(path)


def test_a_plain_state_dict_is_refused(lite_net, tmp_path):
    path = tmp_path / "plain.pt"
    torch.save(lite_net.state_dict(), path)
    with pytest.raises(ModelError):
        load_model(path)


def test_named_model_without_bundled_weights_warns_untrained(tmp_path, monkeypatch):
    monkeypatch.setitem(weights_module.DEFAULT_FILES, "lite", tmp_path / "absent.pt")
    with pytest.warns(UserWarning, match="untrained"):
        net = load_model("lite")
    assert net.config.name == "siamcross-lite" and not net.training


def test_named_model_uses_the_bundled_file(lite_net, tmp_path, monkeypatch):
    bundled = save_weights(lite_net, tmp_path / "siamcross-lite.pt")
    monkeypatch.setitem(weights_module.DEFAULT_FILES, "lite", bundled)
    net = load_model("lite")
    assert torch.equal(net.heads.spatial_gate, lite_net.heads.spatial_gate)
    r50_file = save_weights(SiamCrossNet(r50_config(), pretrained_backbone=False), tmp_path / "r50.pt")
    monkeypatch.setitem(weights_module.DEFAULT_FILES, "lite", r50_file)
    with pytest.raises(ModelError):
        load_model("lite")


def test_r50_backbone_reads_torchvision_weights_only_from_the_hub_cache(tmp_path, monkeypatch):
    from torchvision.models import ResNet50_Weights, resnet50

    from core.model.backbones import ResNet50Backbone, build_backbone

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.warns(UserWarning, match="random init"):
        build_backbone("resnet50", pretrained=True)
    torch.manual_seed(7)
    reference = resnet50(weights=None)  # a torchvision state dict, fc included
    checkpoint = tmp_path / "checkpoints" / ResNet50_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[1]
    checkpoint.parent.mkdir()
    torch.save(reference.state_dict(), checkpoint)
    backbone = ResNet50Backbone()
    loaded = backbone.load_pretrained()
    assert loaded == sorted(backbone.state_dict())
    assert torch.equal(backbone.layer4[2].conv3.weight, reference.layer4[2].conv3.weight)
    assert backbone.layer4[0].conv2.dilation == (4, 4) and backbone.layer3[0].conv2.dilation == (2, 2)


def test_a_file_missing_head_tensors_is_refused(lite_net, tmp_path):
    path = save_weights(lite_net, tmp_path / "lite.pt")
    payload = torch.load(path, weights_only=True)
    del payload["state_dict"]["heads.adca.weight"]
    torch.save(payload, path)
    with pytest.raises(ModelError, match="does not match"):
        load_model(path)


def test_a_file_of_the_retired_efficientnet_lite_is_refused(lite_net, tmp_path):
    path = save_weights(lite_net, tmp_path / "old-lite.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"].update(backbone="efficientnet_lite0", dilate_deep=True)
    torch.save(payload, path)
    with pytest.raises(ModelError, match="cannot read"):
        load_model(path)

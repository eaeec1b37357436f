"""Objective, frozen-backbone feature cache and parameter groups against the real SiamCross net."""
from __future__ import annotations

import pytest
import torch

from core.model import SiamCrossNet, lite_config
from core.training.config import CacheConfig, DataConfig, DataSource, TrainConfig
from core.training.feature_cache import CACHE_EPOCH, CachedPairs, build_feature_cache, cache_key
from core.training.losses import SiamCrossLoss
from core.training.objective import HeadsOnFeatures, SiamCrossObjective, backbone_stages, siamcross_groups
from core.training.sampler import PairSampler, collate, load_training_data, pair_to_tensors


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return SiamCrossNet(lite_config(), pretrained_backbone=True).eval()


@pytest.fixture(scope="module")
def tiny(train_dir, tmp_path_factory):
    data_config = DataConfig(sources=(DataSource(str(train_dir), only=("Gull1", "BMX3")),), negative_fraction=0.3)
    cache_dir = tmp_path_factory.mktemp("features")
    cache = CacheConfig(enabled=True, pairs=6, dir=str(cache_dir), batch_size=4)
    config = TrainConfig(seed=9, data=data_config, cache=cache)
    data = load_training_data(data_config)
    return config, PairSampler(data, data_config, config.augment, seed=config.seed)


def test_cached_features_give_the_same_outputs_as_the_full_network(net, tiny):
    config, sampler = tiny
    reports = []
    cache = build_feature_cache(config, net, sampler, on_progress=lambda done, total: reports.append((done, total)))
    assert reports[-1] == (6, 6) and cache.done == 6
    cached = collate([CachedPairs(cache)[i] for i in range(3)])
    images = collate([pair_to_tensors(sampler.sample(CACHE_EPOCH, i)) for i in range(3)])
    assert torch.equal(cached["search_box"], images["search_box"])
    assert torch.equal(cached["positive"], images["positive"])
    heads = HeadsOnFeatures(net).eval()
    with torch.no_grad():
        from_cache = heads(*SiamCrossObjective.inputs(cached))
        from_images = net(*SiamCrossObjective.inputs(images))
    for a, b in ((from_cache.cls_logits, from_images.cls_logits), (from_cache.reg, from_images.reg)):
        assert torch.allclose(a, b, rtol=0.02, atol=0.05)  # fp16 storage of the features
    # the objective on cached features: finite terms, gradients in the neck and heads only
    heads.train()
    terms = SiamCrossObjective(net.locations(), SiamCrossLoss())(heads, cached)
    assert all(torch.isfinite(getattr(terms, name)) for name in ("total", "cls", "align", "reg"))
    net.zero_grad()
    terms.total.backward()
    assert all(p.grad is None for p in net.backbone.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.head_parameters())
    # a second call finds the finished cache and computes nothing
    reports.clear()
    build_feature_cache(config, net, sampler, on_progress=lambda done, total: reports.append(done))
    assert reports == []


def test_cache_key_changes_with_what_shapes_the_features(net, tiny):
    config, _ = tiny
    import dataclasses
    other_lr = dataclasses.replace(config, optim=dataclasses.replace(config.optim, lr=1.0))
    assert cache_key(config, net) == cache_key(other_lr, net)
    assert cache_key(config, net) != cache_key(dataclasses.replace(config, seed=10), net)
    assert cache_key(config, net) != cache_key(
        dataclasses.replace(config, augment=dataclasses.replace(config.augment, flip=0.0)), net)


def test_groups_unfreeze_only_the_last_backbone_stages(net):
    stages = backbone_stages(net.backbone)  # NanoTrack v2's: to stride 8, the 40-channel blocks, the 48-channel ones
    assert len(stages) == 3
    assert sorted(id(p) for s in stages for p in s) == sorted(id(p) for p in net.backbone.parameters())
    groups = siamcross_groups(net, unfreeze_epoch=10, unfreeze_stages=2, backbone_lr_scale=0.1)
    heads, backbone = groups
    assert {id(p) for p in heads.params} == {id(p) for p in net.head_parameters()}
    assert (backbone.lr_scale, backbone.trainable_from) == (0.1, 10)
    assert {id(p) for p in backbone.params} == {id(p) for s in stages[-2:] for p in s}
    assert not {id(p) for p in backbone.params} & {id(p) for p in stages[0]}
    assert len(siamcross_groups(net, unfreeze_epoch=-1, unfreeze_stages=2, backbone_lr_scale=0.1)) == 1

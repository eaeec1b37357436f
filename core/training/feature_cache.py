"""Frozen-backbone fast path: backbone features of augmented pairs, computed once, on disk.

With the backbone frozen, its output for a given augmented crop never changes, yet it is
most of the cost of a training step on a CPU. So ``build_feature_cache`` pushes ``pairs``
augmented pairs from the PairSampler through the frozen backbone once and stores the
features as fp16 ``.npy`` memmaps (templates already centre-cropped); ``CachedPairs``
serves them to the trainer, which then trains only the neck and the heads
(``HeadsOnFeatures``) for many epochs. A build interrupted half-way continues where it
stopped; a cache is keyed by everything that shapes its content (backbone, data,
augmentation, seed, size), so a changed config never reads stale features.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..model import SiamCrossNet
from .config import TrainConfig
from .sampler import PairSampler, collate, pair_to_tensors

log = logging.getLogger(__name__)

CACHE_EPOCH = 1_000_003  # the sampler "epoch" the cached pairs are drawn from (never a training epoch)


@dataclass(frozen=True)
class CacheLayout:
    """Shapes of one cache: per level the template (cropped) and search feature shapes."""

    template_shapes: tuple[tuple[int, int, int], ...]
    search_shapes: tuple[tuple[int, int, int], ...]


def cache_key(config: TrainConfig, net: SiamCrossNet) -> str:
    """Hash of what determines the cached features (not the optimizer or schedule)."""
    content = {
        "model": net.config.to_dict(),
        "data": config.to_dict()["data"],
        "augment": config.to_dict()["augment"],
        "seed": config.seed,
        "pairs": config.cache.pairs,
        "version": 1,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def layout_of(net: SiamCrossNet) -> CacheLayout:
    cfg = net.config
    with torch.no_grad():
        z = net.crop_template(net.backbone_features(torch.zeros(1, 3, cfg.template_size, cfg.template_size)))
        x = net.backbone_features(torch.zeros(1, 3, cfg.search_size, cfg.search_size))
    # mypy, next line: shapes are tuples of ints
    return CacheLayout(tuple(tuple(t.shape[1:]) for t in z), tuple(tuple(t.shape[1:]) for t in x))  # type: ignore[misc]


class FeatureCache:
    """The arrays of one cache folder (opened read-only for training, read-write for building)."""

    def __init__(self, folder: Path, count: int, layout: CacheLayout, mode: str = "r") -> None:
        self.folder = folder
        self.count = count
        self.layout = layout
        self.template = [self._array(f"template_{i}", (count, *s), np.float16, mode)
                         for i, s in enumerate(layout.template_shapes)]
        self.search = [self._array(f"search_{i}", (count, *s), np.float16, mode)
                       for i, s in enumerate(layout.search_shapes)]
        self.template_box = self._array("template_box", (count, 4), np.float32, mode)
        self.search_box = self._array("search_box", (count, 4), np.float32, mode)
        self.positive = self._array("positive", (count,), np.bool_, mode)

    def _array(self, name: str, shape: tuple[int, ...], dtype, mode: str) -> np.memmap:
        path = self.folder / f"{name}.npy"
        if mode == "w+" and path.exists():
            mode = "r+"
        return np.lib.format.open_memmap(path, mode=mode, dtype=dtype, shape=shape)

    @property
    def done(self) -> int:
        meta = self.folder / "meta.json"
        return int(json.loads(meta.read_text())["done"]) if meta.exists() else 0

    def mark_done(self, done: int, key: str) -> None:
        for array in [*self.template, *self.search, self.template_box, self.search_box, self.positive]:
            array.flush()
        tmp = self.folder / "meta.json.tmp"
        tmp.write_text(json.dumps({"done": done, "count": self.count, "key": key}))
        tmp.replace(self.folder / "meta.json")


def build_feature_cache(
    config: TrainConfig,
    net: SiamCrossNet,
    sampler: PairSampler,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    shard: tuple[int, int] = (0, 1),
) -> FeatureCache:
    """Compute (or finish) the cache for ``config``; returns it opened read-only when complete.

    shard=(rank, world): rank r fills pairs r, r+world, ... (ranks share the folder); the
    pairs are the sampler's pairs of epoch ``CACHE_EPOCH``, indices 0..pairs-1.
    """
    folder = cache_folder(config, net)
    folder.mkdir(parents=True, exist_ok=True)
    count = config.cache.pairs
    layout = layout_of(net)
    rank, world = shard
    cache = FeatureCache(folder, count, layout, mode="w+")
    done_file = folder / f"done_rank{rank}of{world}.json"
    start = json.loads(done_file.read_text())["next"] if done_file.exists() else 0
    if cache.done >= count:
        start = count
    mine = list(range(rank, count, world))
    batch_size = max(1, config.cache.batch_size)
    net.eval()
    position = next((k for k, i in enumerate(mine) if i >= start), len(mine))
    while position < len(mine):
        indices = mine[position:position + batch_size]
        batch = collate([pair_to_tensors(sampler.sample(CACHE_EPOCH, i)) for i in indices])
        with torch.no_grad():
            z = net.crop_template(net.backbone_features(batch["template"].float()))
            x = net.backbone_features(batch["search"].float())
        rows = np.asarray(indices)
        for level, features in enumerate(z):
            cache.template[level][rows] = features.numpy().astype(np.float16)
        for level, features in enumerate(x):
            cache.search[level][rows] = features.numpy().astype(np.float16)
        cache.template_box[rows] = batch["template_box"].numpy()
        cache.search_box[rows] = batch["search_box"].numpy()
        cache.positive[rows] = batch["positive"].numpy()
        position += len(indices)
        next_index = mine[position] if position < len(mine) else count
        for array in [*cache.template, *cache.search, cache.template_box, cache.search_box, cache.positive]:
            array.flush()
        done_file.write_text(json.dumps({"next": next_index}))
        if on_progress is not None:
            on_progress(min(position, len(mine)), len(mine))
        if should_stop is not None and should_stop():
            return cache
    if world == 1:
        cache.mark_done(count, folder.name)
    return FeatureCache(folder, count, layout, mode="r")


def cache_folder(config: TrainConfig, net: SiamCrossNet) -> Path:
    return Path(config.cache.dir).expanduser() / cache_key(config, net)


def finish_sharded_cache(config: TrainConfig, net: SiamCrossNet) -> None:
    """After every rank filled its shard: mark the cache complete (rank 0 only, then a barrier)."""
    cache = FeatureCache(cache_folder(config, net), config.cache.pairs, layout_of(net), mode="r+")
    cache.mark_done(config.cache.pairs, cache.folder.name)


def open_feature_cache(config: TrainConfig, net: SiamCrossNet) -> FeatureCache:
    """The finished cache of ``config``, read-only (every rank opens its own view)."""
    return FeatureCache(cache_folder(config, net), config.cache.pairs, layout_of(net), mode="r")


class CachedPairs(torch.utils.data.Dataset):
    """Cached pairs as trainer items: ``template_feat_<l>``, ``search_feat_<l>`` (fp16), boxes, positive."""

    def __init__(self, cache: FeatureCache) -> None:
        self.cache = cache

    def __len__(self) -> int:
        return self.cache.count

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        c = self.cache
        item = {f"template_feat_{i}": torch.from_numpy(np.array(a[index])) for i, a in enumerate(c.template)}
        item.update({f"search_feat_{i}": torch.from_numpy(np.array(a[index])) for i, a in enumerate(c.search)})
        item["template_box"] = torch.from_numpy(np.array(c.template_box[index]))
        item["search_box"] = torch.from_numpy(np.array(c.search_box[index]))
        item["positive"] = torch.tensor(bool(c.positive[index]))
        return item


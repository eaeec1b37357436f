"""Training pairs: a template crop and a search crop, positive or negative, reproducible by seed.

Three kinds of pair, as SiamRPN++ / SiamBAN / the SiamCross paper train:
- video pair: template and search frames of one sequence at most ``max_frame_gap`` apart;
- static pair: template and search cut from one COCO image around one object (the
  augmentation alone makes them differ);
- negative pair (``negative_fraction``): template and search around objects of different
  sequences or images; every label is negative (the tracker must learn "not here").

A frame where the target is absent (NaN box, absent flag) is never a positive. Pair
``index`` of ``epoch`` is a pure function of (seed, epoch, index): the same seed gives the
same batches in any process, with any number of data-loader workers, and after a resume.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from ..datasets import Sequence, load_sequences
from ..errors import FormatError, MediaError
from ..formats.coco_layout import read_instances
from ..tracking.crops import CropWindow, channel_mean, context_size, crop_window, search_size_for
from . import augment
from .config import AugmentConfig, DataConfig, DataSource

log = logging.getLogger(__name__)

TEMPLATE_SIZE = 127
SEARCH_SIZE = 255
CONTEXT_AMOUNT = 0.5


@dataclass(frozen=True)
class StaticImage:
    """One still image with its object boxes (0-based xywh), for static pairs."""

    path: Path
    boxes: np.ndarray  # float64 Kx4


@dataclass(frozen=True)
class PairSample:
    """One training pair. Images uint8 HxWx3 BGR; boxes x1, y1, x2, y2 float32 in crop pixels."""

    template: np.ndarray
    template_box: np.ndarray
    search: np.ndarray
    search_box: np.ndarray
    positive: bool
    kind: str  # "video" | "static" | "negative" | "hard_negative"
    origin: tuple[str, str] = ("", "")  # where template and search came from, "<name>#<frame or box>"


@dataclass
class TrainingData:
    """Everything pairs are drawn from: video sequences and still images, with source weights."""

    sequences: list[Sequence] = field(default_factory=list)
    images: list[StaticImage] = field(default_factory=list)
    video_weight: float = 0.0
    static_weight: float = 0.0

    def describe(self) -> str:
        frames = sum(int((~s.absent).sum()) for s in self.sequences)
        boxes = sum(len(i.boxes) for i in self.images)
        return (f"{len(self.sequences)} sequences ({frames} labelled frames), "
                f"{len(self.images)} still images ({boxes} boxes)")


def load_training_data(config: DataConfig) -> TrainingData:
    """Read every source of the config; the exclude file's names (validation split) are left out."""
    excluded = set(read_name_list(config.exclude_file)) if config.exclude_file else set()
    data = TrainingData()
    for source in config.sources:
        if source.layout == "coco":
            images = [i for i in read_coco_images(Path(source.path))
                      if _usable_boxes(i.boxes, config.min_box_side).any()]
            data.images.extend(images)
            data.static_weight += source.weight if images else 0.0
        else:
            sequences = _select(read_sequences(Path(source.path), source.layout), source, excluded)
            sequences = [s for s in sequences if _usable_boxes(s.boxes, config.min_box_side).sum() >= 2]
            data.sequences.extend(sequences)
            data.video_weight += source.weight if sequences else 0.0
    if not data.sequences and not data.images:
        raise FormatError("The training config names no usable sequences or images.")
    return data


def read_name_list(path: str | Path) -> list[str]:
    """One name per line; blank lines and lines starting with # are ignored."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise FormatError(f"Split file {path} does not exist.") from None
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _select(sequences: list[Sequence], source: DataSource, excluded: set[str]) -> list[Sequence]:
    drop = excluded | set(source.exclude)
    keep = set(source.only)
    return [s for s in sequences if s.name not in drop and (not keep or s.name in keep)]


def read_sequences(root: Path, layout: str) -> list[Sequence]:
    """Labelled sequences under ``root``, read by core.datasets (the same readers as eval)."""
    return list(load_sequences(root, layout))


def read_coco_images(root: Path) -> list[StaticImage]:
    """Still images with their non-crowd boxes from a COCO json (file or dataset folder).

    core.formats.coco_layout finds the instances file and image folder and groups the boxes per
    image (the same lookup eval and load_sequences use); images missing on disk are skipped.
    """
    coco = read_instances(root)
    images = []
    for image_id, boxes in coco.boxes.items():
        path = coco.path_of(image_id)
        if not path.is_file():
            log.warning("COCO image %s not found under %s", coco.file_names[image_id], coco.image_dir)
            continue
        images.append(StaticImage(path=path, boxes=boxes))
    return images


def _outside(box_xyxy: np.ndarray, size: int) -> bool:
    """True when a crop-pixel box lies wholly outside a size x size crop."""
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    return x2 <= 0.0 or y2 <= 0.0 or x1 >= size or y1 >= size


def _overlap(center: float, side: float, extent: int) -> float:
    """Length of [center - side/2, center + side/2] inside [0, extent]."""
    return max(0.0, min(center + side / 2.0, float(extent)) - max(center - side / 2.0, 0.0))


def _usable_boxes(boxes: np.ndarray, min_side: float) -> np.ndarray:
    finite = np.isfinite(boxes).all(axis=1)
    safe = np.where(finite[:, None], boxes, 0.0)
    return finite & (safe[:, 2] >= min_side) & (safe[:, 3] >= min_side)


class PairSampler:
    """Draws augmented pairs; ``sample(epoch, index)`` is deterministic for a given seed."""

    def __init__(self, data: TrainingData, config: DataConfig, augment_config: AugmentConfig, seed: int = 0) -> None:
        self.data = data
        self.config = config
        self.augment = augment_config
        self.seed = int(seed)
        self._valid = [np.flatnonzero(_usable_boxes(s.boxes, config.min_box_side) & ~s.absent) for s in data.sequences]
        self._image_boxes = [np.flatnonzero(_usable_boxes(i.boxes, config.min_box_side)) for i in data.images]
        total = data.video_weight + data.static_weight
        self._p_video = data.video_weight / total if total > 0 else 0.0
        self._last_read: tuple[tuple, np.ndarray] | None = None

    def rng(self, epoch: int, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(epoch), int(index)])

    def sample(self, epoch: int, index: int) -> PairSample:
        rng = self.rng(epoch, index)
        negative = rng.random() < self.config.negative_fraction
        template_handle, template_xywh = self._draw_object(rng)
        if negative and self.config.hard_negative_fraction > 0 and rng.random() < self.config.hard_negative_fraction:
            return self._hard_negative(rng, template_handle, template_xywh)
        if negative:
            search_handle, search_xywh, kind = *self._draw_object(rng, avoid=template_handle), "negative"
        else:
            search_handle, search_xywh, kind = self._partner(rng, template_handle, template_xywh)
        return self._make_pair(rng, template_handle, template_xywh, search_handle, search_xywh, not negative, kind)

    # -- drawing frames -------------------------------------------------------------
    def _draw_object(self, rng: np.random.Generator, avoid: tuple | None = None) -> tuple[tuple, np.ndarray]:
        """A random (image handle, box) from a sequence frame or a still image.

        The handle is (sequence index, frame) or ("img", image index, box index); ``avoid``
        keeps negatives off the template's own sequence or image.
        """
        for _ in range(20):
            if self.data.sequences and (not self.data.images or rng.random() < self._p_video):
                s = int(rng.integers(len(self.data.sequences)))
                frame = int(rng.choice(self._valid[s]))
                handle: tuple = ("seq", s, frame)
                box = self.data.sequences[s].boxes[frame]
            else:
                i = int(rng.integers(len(self.data.images)))
                b = int(rng.choice(self._image_boxes[i]))
                handle = ("img", i, b)
                box = self.data.images[i].boxes[b]
            if avoid is None or handle[:2] != avoid[:2]:
                return handle, box
        return handle, box

    def _partner(self, rng: np.random.Generator, handle: tuple, box: np.ndarray) -> tuple[tuple, np.ndarray, str]:
        """The search frame of a positive pair: a nearby frame of the sequence, or the same image."""
        if handle[0] == "img":
            return handle, box, "static"
        _, s, frame = handle
        valid = self._valid[s]
        gap = self.config.max_frame_gap
        near = valid[(valid >= frame - gap) & (valid <= frame + gap)]
        other = int(rng.choice(near))
        return ("seq", s, other), self.data.sequences[s].boxes[other], "video"

    def _hard_negative(self, rng: np.random.Generator, handle: tuple, box: np.ndarray) -> PairSample:
        """A negative from the template's own scene: the search crop (at the target's scale, as
        the tracker cuts it) is centred on another object of the image, or on background of a
        nearby frame, always with the target wholly outside the crop."""
        if handle[0] == "img":
            search_handle, target = handle, box
            others = [b for b in self._image_boxes[handle[1]] if b != handle[2]]
        else:
            search_handle, target, _ = self._partner(rng, handle, box)
            others = []
        x, y, w, h = (float(v) for v in target)
        side = search_size_for(context_size(w, h, CONTEXT_AMOUNT), TEMPLATE_SIZE, SEARCH_SIZE)
        side *= 1.0 + rng.uniform(-self.augment.search_scale, self.augment.search_scale)
        height, width = self._image_size(search_handle)
        window = None
        if others:
            ox, oy, ow, oh = self.data.images[handle[1]].boxes[int(rng.choice(others))]
            candidate = crop_window((ox + ow / 2.0, oy + oh / 2.0), side, SEARCH_SIZE)
            if _outside(candidate.box_to_crop_xyxy(target), SEARCH_SIZE):
                window = candidate
        if window is None:  # background: of 8 random directions, the crop that shows the most image
            reach = (side + max(w, h)) / 2.0
            best = -1.0
            for _ in range(8):
                angle = rng.uniform(0.0, 2.0 * math.pi)
                distance = reach * rng.uniform(1.05, 1.5) / max(abs(math.cos(angle)), abs(math.sin(angle)))
                center = (x + w / 2.0 + distance * math.cos(angle), y + h / 2.0 + distance * math.sin(angle))
                inside = _overlap(center[0], side, width) * _overlap(center[1], side, height)
                if inside > best:
                    best, window = inside, crop_window(center, side, SEARCH_SIZE)
        return self._make_pair(rng, handle, box, search_handle, target, False, "hard_negative", search_window=window)

    def _image_size(self, handle: tuple) -> tuple[int, int]:
        return self._read(handle).shape[:2]

    def _read(self, handle: tuple) -> np.ndarray:
        """The frame or image of ``handle``; the last one read is kept (a hard negative reads it twice)."""
        key = handle[:3] if handle[0] == "seq" else handle[:2]
        if self._last_read is not None and self._last_read[0] == key:
            return self._last_read[1]
        if handle[0] == "seq":
            image = self.data.sequences[handle[1]].read_frame(handle[2])
        else:
            path = self.data.images[handle[1]].path
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise MediaError(f"Cannot decode training image {path}.")
        self._last_read = (key, image)
        return image

    # -- cropping and augmenting ----------------------------------------------------
    def _make_pair(self, rng, t_handle, t_box, s_handle, s_box, positive: bool, kind: str,
                   search_window: CropWindow | None = None) -> PairSample:
        aug = self.augment
        t_image = self._read(t_handle)
        s_image = t_image if s_handle == t_handle else self._read(s_handle)
        t_window = augment.jittered_window(t_box, rng, TEMPLATE_SIZE, TEMPLATE_SIZE, CONTEXT_AMOUNT,
                                           aug.template_shift, aug.template_scale)
        s_window = search_window or augment.jittered_window(s_box, rng, SEARCH_SIZE, TEMPLATE_SIZE, CONTEXT_AMOUNT,
                                                            aug.search_shift, aug.search_scale)
        template, template_box = augment.cut(t_image, t_window, t_box, channel_mean(t_image))
        search, search_box = augment.cut(s_image, s_window, s_box, channel_mean(s_image))
        search, search_box = augment.stretch_aspect(search, search_box, augment.random_aspect(rng, aug.aspect))
        template = augment.color_jitter(template, rng, aug.color)
        search = augment.color_jitter(search, rng, aug.color)
        if rng.random() < aug.blur:
            search = augment.gaussian_blur(search, rng)
        if rng.random() < aug.grayscale:
            template, search = augment.to_grayscale(template), augment.to_grayscale(search)
        if rng.random() < aug.flip:
            template, template_box = augment.flip_horizontal(template, template_box)
            search, search_box = augment.flip_horizontal(search, search_box)
        return PairSample(template, template_box, search, search_box, positive, kind,
                          (self._describe(t_handle), self._describe(s_handle)))

    def _describe(self, handle: tuple) -> str:
        if handle[0] == "seq":
            return f"{self.data.sequences[handle[1]].name}#{handle[2]}"
        return f"{self.data.images[handle[1]].path.name}#{handle[2]}"


class PairDataset(torch.utils.data.Dataset):
    """``samples_per_epoch`` pairs of one epoch as tensors (set the epoch with ``set_epoch``).

    Items: template uint8 [3,127,127], template_box float32 [4], search uint8 [3,255,255],
    search_box float32 [4] (x1y1x2y2 crop px), positive bool. Images stay uint8 (4x less
    memory in the loader); the objective turns them into float 0..255 BGR on the device.
    """

    def __init__(self, sampler: PairSampler, length: int) -> None:
        self.sampler = sampler
        self.length = int(length)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        pair = self.sampler.sample(self.epoch, index)
        return pair_to_tensors(pair)


def pair_to_tensors(pair: PairSample) -> dict[str, torch.Tensor]:
    return {
        "template": torch.from_numpy(np.ascontiguousarray(pair.template.transpose(2, 0, 1))),
        "template_box": torch.from_numpy(pair.template_box.astype(np.float32)),
        "search": torch.from_numpy(np.ascontiguousarray(pair.search.transpose(2, 0, 1))),
        "search_box": torch.from_numpy(pair.search_box.astype(np.float32)),
        "positive": torch.tensor(bool(pair.positive)),
    }


def epoch_order(seed: int, epoch: int, length: int) -> np.ndarray:
    """The permutation of pair indices used in ``epoch`` (same in every rank)."""
    return np.random.default_rng([int(seed), int(epoch), 0x5EED]).permutation(length)


def shard(order: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """Rank ``rank``'s share of an epoch order, trimmed so every rank gets the same count."""
    usable = len(order) - len(order) % world_size
    return order[:usable][rank::world_size]


def collate(items: Seq[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}

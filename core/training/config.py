"""Training configuration: typed, frozen dataclasses whose defaults are the paper's schedule.

SiamCross (paper, section "implementation details"): SGD momentum 0.9, weight decay 1e-3,
50 epochs, batch 128, 5 warm-up epochs at a fixed lr of 1e-3, then an exponential decay
from 5e-3 to 1e-5; the backbone is frozen for the first 10 epochs, then its last stages
train at 0.1x the learning rate (SiamRPN++ practice).

Every number can be overridden from a JSON file (``siamcross train CONFIG.json``) and from
the command line (``--set optim.lr=0.01``); files and flags are read only at the CLI edge,
the rest of the code receives a ``TrainConfig``. The config is stored in every checkpoint.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError


class ConfigError(UserError):
    """A training config file or an override is malformed."""


@dataclass(frozen=True)
class DataSource:
    """One root of labelled data: a folder read by core.datasets, or a COCO json for static pairs.

    layout: "otb" | "got10k" | "lasot" | "project" (video sequences) or "coco" (static images:
    template and search are cut from one image, as the paper does with COCO).
    weight: relative share of the samples drawn from this source.
    exclude / only: sequence names to leave out (the validation split) or to keep.
    """

    path: str
    layout: str = "otb"
    weight: float = 1.0
    exclude: tuple[str, ...] = ()
    only: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataConfig:
    sources: tuple[DataSource, ...] = ()
    exclude_file: str | None = None  # text file, one held-out sequence name per line
    samples_per_epoch: int = 600_000  # pysot's VIDEOS_PER_EPOCH scale; tiny configs set it small
    max_frame_gap: int = 100  # template and search at most this many frames apart
    negative_fraction: float = 0.2  # template and search from different objects, all-negative labels
    # share of the negatives cut from the template's own scene (another object of the image,
    # or background of a nearby frame with the target outside the crop): DaSiamRPN-style
    # hard negatives that look like the target's surroundings, the cause of drift to clutter
    hard_negative_fraction: float = 0.0
    min_box_side: float = 4.0  # boxes smaller than this (px) are never sampled
    workers: int = 0


@dataclass(frozen=True)
class AugmentConfig:
    """Per-crop jitter, in crop pixels or relative units, as pysot's DATASET.TEMPLATE/SEARCH."""

    template_shift: float = 4.0
    template_scale: float = 0.05
    search_shift: float = 64.0
    search_scale: float = 0.18
    aspect: float = 0.1  # relative stretch of x against y
    blur: float = 0.2  # probability
    color: float = 1.0  # strength of brightness/contrast/channel-gain jitter (0 = none)
    grayscale: float = 0.05  # probability, applied to both crops of a pair
    flip: float = 0.5  # probability, horizontal, applied to both crops of a pair


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 5e-3  # start of the exponential decay after warm-up
    final_lr: float = 1e-5
    warmup_lr: float = 1e-3
    warmup_epochs: float = 5.0
    momentum: float = 0.9
    weight_decay: float = 1e-3
    backbone_lr_scale: float = 0.1
    pretrained_head_lr_scale: float = 1.0  # converted trained head tensors (NanoTrack v2's) at this x lr
    grad_clip: float = 10.0


@dataclass(frozen=True)
class ScheduleConfig:
    epochs: int = 50
    batch_size: int = 128  # global batch, split across DDP ranks
    unfreeze_backbone_epoch: int = 10  # -1: backbone never trains
    unfreeze_backbone_stages: int = 2  # how many of the backbone's last stages train after unfreezing
    checkpoint_every: int = 500  # steps
    log_every: int = 20  # steps
    max_steps: int | None = None  # stop early (tests, smoke runs)


@dataclass(frozen=True)
class CacheConfig:
    """Frozen-backbone fast path: backbone features of augmented crops are computed once.

    pairs: how many augmented pairs are pushed through the frozen backbone; the neck and
    heads then train on them for ``schedule.epochs`` passes of ``data.samples_per_epoch``.
    dir: where the fp16 feature arrays live (outside the repository).
    """

    enabled: bool = False
    pairs: int = 4096
    dir: str = "~/.cache/siamcross/features"
    batch_size: int = 32


@dataclass(frozen=True)
class TrainConfig:
    model: str = "lite"  # "lite" | "r50"
    init_weights: str | None = None  # start neck+heads from these weights instead of scratch
    # "nanotrack-v2": the converted NanoTrack v2 network labels every pair too, and the student's
    # classification map is pulled towards the teacher's (distill_weight x BCE, every cell)
    teacher: str | None = None
    distill_weight: float = 0.0
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        return _build(cls, data, "")

    def with_overrides(self, assignments: list[str] | tuple[str, ...]) -> TrainConfig:
        """Apply ``section.key=value`` strings; values are JSON (``0.01``, ``true``, ``[1,2]``) or text."""
        data = self.to_dict()
        for assignment in assignments:
            key, sep, raw = assignment.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"Override {assignment!r} is not of the form section.key=value.")
            node = data
            parts = key.strip().split(".")
            for part in parts[:-1]:
                if not isinstance(node.get(part), dict):
                    raise ConfigError(f"Override {key!r} names no config section {part!r}.")
                node = node[part]
            if parts[-1] not in node:
                raise ConfigError(f"Override {key!r} names no config field {parts[-1]!r}.")
            node[parts[-1]] = _parse_value(raw)
        return TrainConfig.from_dict(data)


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Read a JSON training config (missing fields keep the paper's defaults)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Training config {path} does not exist.") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"Training config {path} is not valid JSON ({error.msg}, line {error.lineno}).") from None
    if not isinstance(data, dict):
        raise ConfigError(f"Training config {path} must hold a JSON object.")
    config = TrainConfig.from_dict(data)
    return _resolve_paths(config, path.parent).with_overrides(list(overrides))


def _resolve_paths(config: TrainConfig, base: Path) -> TrainConfig:
    """Relative paths in a config file (data, init weights) are relative to the file, not the working dir."""

    def resolve(value: str) -> str:
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else (base / p).resolve())

    def resolve_optional(value: str | None) -> str | None:
        return None if value is None else resolve(value)

    sources = tuple(dataclasses.replace(s, path=resolve(s.path)) for s in config.data.sources)
    data = dataclasses.replace(config.data, sources=sources, exclude_file=resolve_optional(config.data.exclude_file))
    return dataclasses.replace(config, data=data, init_weights=resolve_optional(config.init_weights))


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _build(cls: type, data: Mapping[str, Any], where: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"Config section {where or 'root'} must be a JSON object.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"Config section {where or 'root'} has unknown field(s): {', '.join(unknown)}.")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        kwargs[name] = _convert(fields[name], value, f"{where}.{name}" if where else name)
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ConfigError(f"Config section {where or 'root'} is invalid: {error}.") from None


_SECTIONS = {
    "data": DataConfig,
    "augment": AugmentConfig,
    "optim": OptimConfig,
    "schedule": ScheduleConfig,
    "cache": CacheConfig,
}


def _convert(f: dataclasses.Field, value: Any, where: str) -> Any:
    if f.name in _SECTIONS and where.count(".") == 0:
        return _build(_SECTIONS[f.name], value, where)
    if f.name == "sources":
        if not isinstance(value, list):
            raise ConfigError(f"Config field {where} must be a list of sources.")
        return tuple(_build(DataSource, _source_dict(s), f"{where}[{i}]") for i, s in enumerate(value))
    if f.name in ("exclude", "only"):
        if isinstance(value, str):
            value = [value]
        return tuple(str(v) for v in value)
    default = f.default if f.default is not dataclasses.MISSING else None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"Config field {where} must be true or false.")
        return value
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ConfigError(f"Config field {where} must be a number, not {value!r}.")
        return type(default)(value) if isinstance(default, float) or float(value).is_integer() else value
    return value


def _source_dict(value: Any) -> Any:
    return {"path": value} if isinstance(value, str) else value

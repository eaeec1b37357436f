"""The training loop: epochs, learning-rate schedule, freezing, checkpoints and resume.

The trainer knows nothing about SiamCross losses or labels (pytracking's split): it asks an
``objective(model, batch) -> loss terms`` for a loss and logs every field of what it gets
back. It knows parameter *groups* (neck+heads, backbone stages), each with an lr scale and
the epoch from which it trains, and applies the paper's schedule to them. A run stopped at
any step continues from its checkpoint with the same batches, weights and optimizer state.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from .checkpoint import TrainPosition, load_checkpoint, position_of, restore_rng, save_checkpoint
from .config import OptimConfig, TrainConfig
from .distributed import DistContext, reduce_mean, unwrap, wrap_model
from .sampler import collate, epoch_order, shard

log = logging.getLogger(__name__)


class Objective(Protocol):
    """Batch -> loss terms; the result has a ``total`` tensor and other scalar tensors (logged)."""

    def __call__(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> Any: ...


@dataclass(frozen=True)
class ParamGroup:
    """Parameters trained together: ``lr_scale`` x the scheduled lr, from epoch ``trainable_from``.

    trainable_from < 0 means "never trained" (kept frozen; BatchNorm statistics too).
    """

    name: str
    params: tuple[torch.nn.Parameter, ...]
    lr_scale: float = 1.0
    trainable_from: int = 0


@dataclass(frozen=True)
class Progress:
    """One progress line: what a CLI prints and a GUI could plot."""

    step: int
    total_steps: int
    epoch: int
    lr: float
    terms: dict[str, float]
    samples_per_s: float

    def format(self) -> str:
        losses = " ".join(f"{k}={v:.4f}" for k, v in self.terms.items())
        return (f"step {self.step}/{self.total_steps} epoch {self.epoch} lr={self.lr:.2e} {losses} "
                f"{self.samples_per_s:.1f} samples/s")


def learning_rate(optim: OptimConfig, epoch_progress: float, epochs: int) -> float:
    """The paper's schedule at a fractional epoch: fixed warm-up lr, then exponential decay.

    lr(e) = warmup_lr for e < warmup_epochs, else lr * (final_lr / lr) ** ((e - w) / (E - w)).
    """
    if epoch_progress < optim.warmup_epochs:
        return optim.warmup_lr
    span = max(epochs - optim.warmup_epochs, 1e-9)
    t = min(max((epoch_progress - optim.warmup_epochs) / span, 0.0), 1.0)
    return optim.lr * math.exp(t * math.log(optim.final_lr / optim.lr))


class EpochBatches:
    """Batches of one rank for one epoch, from any index-addressable dataset.

    The epoch's order is a seeded permutation shared by all ranks; rank r takes every
    world_size-th index, so ranks never see the same pair in an epoch. ``iterate(epoch,
    start)`` skips the first ``start`` batches without loading them (exact resume).
    """

    def __init__(self, dataset: torch.utils.data.Dataset, seed: int, batch_size: int,
                 ctx: DistContext, workers: int = 0) -> None:
        self.dataset = dataset
        self.seed = seed
        self.ctx = ctx
        self.workers = workers
        self.batch_size = max(1, batch_size // ctx.world_size)  # per rank
        # mypy, next line: map-style datasets have len()
        self.steps_per_epoch = len(dataset) // (self.batch_size * ctx.world_size)  # type: ignore[arg-type]
        if self.steps_per_epoch < 1:
            # mypy, next line: map-style datasets have len()
            raise ValueError(f"{len(dataset)} samples per epoch cannot fill one batch of {batch_size}")  # type: ignore[arg-type]

    def iterate(self, epoch: int, start: int = 0) -> Iterator[dict[str, torch.Tensor]]:
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        # mypy, next line: map-style datasets have len()
        order = shard(epoch_order(self.seed, epoch, len(self.dataset)), self.ctx.rank, self.ctx.world_size)  # type: ignore[arg-type]
        batches = [order[i * self.batch_size:(i + 1) * self.batch_size].tolist() for i in range(self.steps_per_epoch)]
        loader = torch.utils.data.DataLoader(self.dataset, batch_sampler=batches[start:], num_workers=self.workers,
                                             collate_fn=collate, persistent_workers=False)
        yield from loader


class Trainer:
    """Runs ``config.schedule`` over ``batches`` with ``objective``; checkpoints into ``out_dir``."""

    def __init__(
        self,
        model: torch.nn.Module,
        groups: list[ParamGroup],
        objective: Objective,
        batches: EpochBatches,
        config: TrainConfig,
        out_dir: str | Path,
        ctx: DistContext,
        model_config: dict[str, Any] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.model = model.to(ctx.device)
        self.groups = groups
        self.objective = objective
        self.batches = batches
        self.config = config
        self.out_dir = Path(out_dir)
        self.ctx = ctx
        self.model_config = model_config
        self.on_progress = on_progress or (lambda p: log.info(p.format()))
        self.should_stop = should_stop or (lambda: False)
        self.position = TrainPosition()
        grouped = {id(p) for g in groups for p in g.params}
        for p in model.parameters():
            if id(p) not in grouped:
                p.requires_grad_(False)
        opt = config.optim
        self.optimizer = torch.optim.SGD(
            [{"params": list(g.params), "lr": 0.0, "lr_scale": g.lr_scale, "name": g.name} for g in groups],
            lr=opt.warmup_lr, momentum=opt.momentum, weight_decay=opt.weight_decay)
        self.amp = ctx.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self._wrapped: torch.nn.Module | None = None
        self._trainable_key: tuple[bool, ...] | None = None

    @property
    def total_steps(self) -> int:
        total = self.config.schedule.epochs * self.batches.steps_per_epoch
        cap = self.config.schedule.max_steps
        return min(total, cap) if cap is not None else total

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / "checkpoints" / "last.pt"

    # -- resume -------------------------------------------------------------------
    def resume(self, path: str | Path) -> TrainPosition:
        """Load a checkpoint (every rank reads it) and continue from its position."""
        payload = load_checkpoint(path)
        unwrap(self.model).load_state_dict(payload["model"])
        self._apply_trainable(position_of(payload).epoch)
        self.optimizer.load_state_dict(payload["optimizer"])
        if payload.get("scaler") and self.amp:
            self.scaler.load_state_dict(payload["scaler"])
        restore_rng(payload)
        self.position = position_of(payload)
        return self.position

    # -- the loop ------------------------------------------------------------------
    def fit(self) -> TrainPosition:
        schedule = self.config.schedule
        steps_per_epoch = self.batches.steps_per_epoch
        pos = self.position
        last_log = time.perf_counter()
        samples_since_log = 0
        terms_sum: dict[str, float] = {}
        terms_count = 0
        while pos.step < self.total_steps and pos.epoch < schedule.epochs:
            model = self._apply_trainable(pos.epoch)
            model.train()
            self._keep_frozen_norms_in_eval()
            for batch in self.batches.iterate(pos.epoch, pos.step_in_epoch):
                lr = self._set_lr(pos.epoch + pos.step_in_epoch / steps_per_epoch)
                terms = self._step(model, batch)
                pos = self._advance(pos, steps_per_epoch)
                self.position = pos
                for key, value in terms.items():
                    terms_sum[key] = terms_sum.get(key, 0.0) + value
                terms_count += 1
                samples_since_log += len(next(iter(batch.values()))) * self.ctx.world_size
                if pos.step % schedule.log_every == 0 or pos.step == self.total_steps:
                    now = time.perf_counter()
                    mean = {k: v / terms_count for k, v in terms_sum.items()}
                    if self.ctx.is_main:
                        self.on_progress(Progress(pos.step, self.total_steps, pos.epoch, lr, mean,
                                                  samples_since_log / max(now - last_log, 1e-9)))
                    last_log, samples_since_log, terms_sum, terms_count = now, 0, {}, 0
                if pos.step % schedule.checkpoint_every == 0:
                    self.save()
                if pos.step >= self.total_steps or self.should_stop():
                    self.save()
                    return pos
                if pos.step_in_epoch == 0:
                    break  # epoch finished: re-check which groups train
        self.save()
        return pos

    def _advance(self, pos: TrainPosition, steps_per_epoch: int) -> TrainPosition:
        in_epoch = pos.step_in_epoch + 1
        if in_epoch >= steps_per_epoch:
            return TrainPosition(pos.step + 1, pos.epoch + 1, 0)
        return TrainPosition(pos.step + 1, pos.epoch, in_epoch)

    def _step(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        batch = {k: v.to(self.ctx.device, non_blocking=True) for k, v in batch.items()}
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=self.ctx.device.type, dtype=torch.float16, enabled=self.amp):
            loss = self.objective(model, batch)
        total = loss.total
        if not torch.isfinite(total):
            raise FloatingPointError(f"loss became {total.item()} at step {self.position.step}; lower optim.lr")
        self.scaler.scale(total).backward()
        if self.config.optim.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            params = [p for g in self.optimizer.param_groups for p in g["params"] if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, self.config.optim.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        values = loss_terms_dict(loss)
        stacked = reduce_mean(torch.tensor(list(values.values()), dtype=torch.float64), self.ctx)
        return dict(zip(values, stacked.tolist()))

    def _set_lr(self, epoch_progress: float) -> float:
        lr = learning_rate(self.config.optim, epoch_progress, self.config.schedule.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group["lr_scale"]
        return lr

    def _apply_trainable(self, epoch: int) -> torch.nn.Module:
        """requires_grad per group for this epoch; re-wraps DDP when the trainable set changes."""
        key = tuple(g.trainable_from >= 0 and epoch >= g.trainable_from for g in self.groups)
        if key != self._trainable_key:
            for group, on in zip(self.groups, key):
                for p in group.params:
                    p.requires_grad_(on)
            self._trainable_key = key
            self._wrapped = wrap_model(unwrap(self.model), self.ctx)
            if self.ctx.is_main:
                names = [g.name for g, on in zip(self.groups, key) if on]
                log.info("epoch %d: training %s", epoch, ", ".join(names) or "nothing")
        assert self._wrapped is not None
        return self._wrapped

    def _keep_frozen_norms_in_eval(self) -> None:
        """A BatchNorm whose weights are frozen keeps its running statistics (pretrained ones)."""
        for module in unwrap(self.model).modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                params = list(module.parameters(recurse=False))
                if params and not any(p.requires_grad for p in params):
                    module.eval()

    def save(self) -> Path | None:
        """Checkpoint to ``out_dir/checkpoints/last.pt`` (rank 0 only)."""
        if not self.ctx.is_main:
            return None
        path = save_checkpoint(
            self.checkpoint_path,
            model_state=unwrap(self.model).state_dict(),
            optimizer_state=self.optimizer.state_dict(),
            scaler_state=self.scaler.state_dict() if self.amp else None,
            position=self.position,
            config=self.config.to_dict(),
            model_config=self.model_config,
        )
        log.info("checkpoint %s (step %d)", path, self.position.step)
        return path


def loss_terms_dict(loss: Any) -> dict[str, float]:
    """Every scalar tensor field of a loss-terms object (dataclass, NamedTuple or dict), total first."""
    if dataclasses.is_dataclass(loss):
        items = {f.name: getattr(loss, f.name) for f in dataclasses.fields(loss)}
    elif hasattr(loss, "_asdict"):
        items = loss._asdict()
    elif isinstance(loss, dict):
        items = loss
    else:
        items = {"total": loss.total}
    out = {"total": float(items["total"].detach())}
    for key, value in items.items():
        if key != "total" and isinstance(value, torch.Tensor) and value.numel() == 1:
            out[key] = float(value.detach())
    return out


def seed_everything(seed: int) -> None:
    """Seed torch and numpy global generators (model init, dropout); pairs have their own seeds."""
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))

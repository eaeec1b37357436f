"""``siamcross train CONFIG``: train a SiamCross model; ``torchrun`` for several GPUs / machines.

    siamcross train benchmarks/train_configs/lite_cpu.json --out runs/lite [--set optim.lr=0.01]
    siamcross train CONFIG --resume runs/lite/checkpoints/last.pt
    torchrun --nproc_per_node 4 -m core.cli train CONFIG --device cuda

Progress lines go to stderr; checkpoints to OUT/checkpoints/last.pt; the trained weights
(OUT/<model name>.pt, neck and heads only while the backbone stays frozen) are written
with core.model.save_weights at the end, or when Ctrl-C stops the run after a step.
"""
from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import time
from pathlib import Path

import torch

from ..model import SiamCrossNet, load_weights, save_weights
from ..model.config import NAMED_CONFIGS
from ..training.config import ConfigError, TrainConfig, load_config
from ..training.distributed import DistContext, barrier, setup_distributed, teardown
from ..training.feature_cache import CachedPairs, build_feature_cache, finish_sharded_cache, open_feature_cache
from ..training.losses import SiamCrossLoss
from ..training.objective import HeadsOnFeatures, SiamCrossObjective, siamcross_groups
from ..training.sampler import PairDataset, PairSampler, load_training_data
from ..training.trainer import EpochBatches, ParamGroup, Progress, Trainer, seed_everything


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="training config JSON (missing fields: the paper's schedule)")
    parser.add_argument("--resume", type=Path, default=None, help="checkpoint to continue from")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set optim.lr=0.01 (repeatable)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default runs/<config name>)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")


class _StopFlag:
    """Ctrl-C / SIGTERM ask the loop to stop after the current step (a checkpoint is then written)."""

    def __init__(self) -> None:
        self.stop = False
        self._previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (tests): no handler
                pass

    def _handle(self, signum, frame) -> None:
        if self.stop:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.stop = True
        print("\nsiamcross train: stopping after this step (Ctrl-C again to abort)...", file=sys.stderr)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def __call__(self) -> bool:
        return self.stop


def _print_progress(progress: Progress) -> None:
    print(progress.format(), file=sys.stderr, flush=True)


def _cache_progress(done: int, total: int) -> None:
    print(f"\rfeature cache: {done}/{total} pairs through the frozen backbone", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def build_network(config: TrainConfig) -> SiamCrossNet:
    if config.model not in NAMED_CONFIGS:
        raise ConfigError(f"Unknown model {config.model!r}; use one of {', '.join(sorted(NAMED_CONFIGS))}.")
    net = SiamCrossNet(NAMED_CONFIGS[config.model](), pretrained_backbone=True)
    if config.init_weights:
        load_weights(net, Path(config.init_weights).expanduser())
    return net


def build_teacher(config: TrainConfig, device: torch.device) -> SiamCrossNet | None:
    """The frozen teacher network of ``config.teacher`` (None when the config names none): the
    converted NanoTrack v2 network, which is what the lite config builds with its pretrained parts."""
    if config.teacher is None:
        return None
    if config.teacher != "nanotrack-v2":
        raise ConfigError(f"Unknown teacher {config.teacher!r}; the only teacher is 'nanotrack-v2'.")
    teacher = SiamCrossNet(NAMED_CONFIGS["lite"](), pretrained_backbone=True).to(device).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.overrides)
    if args.max_steps is not None:
        config = dataclasses.replace(config, schedule=dataclasses.replace(config.schedule, max_steps=args.max_steps))
    if args.threads:
        torch.set_num_threads(args.threads)
    out_dir = args.out or Path("runs") / args.config.stem
    stop = _StopFlag()
    ctx = setup_distributed(args.device)
    try:
        return _train(config, out_dir, ctx, args.resume, stop)
    finally:
        stop.restore()
        teardown(ctx)


def _train(config: TrainConfig, out_dir: Path, ctx: DistContext, resume: Path | None, stop: _StopFlag) -> int:
    started = time.time()
    seed_everything(config.seed)
    net = build_network(config)
    data = load_training_data(config.data)
    if ctx.is_main:
        print(f"siamcross train: {config.model} on {data.describe()}, {ctx.world_size} process(es) on {ctx.device}",
              file=sys.stderr)
    sampler = PairSampler(data, config.data, config.augment, seed=config.seed)
    model: torch.nn.Module
    if config.cache.enabled:
        cache = build_feature_cache(config, net, sampler, _cache_progress if ctx.is_main else None, stop,
                                    shard=(ctx.rank, ctx.world_size))
        if stop():
            return 130
        barrier(ctx)
        if ctx.world_size > 1:
            if ctx.is_main:
                finish_sharded_cache(config, net)
            barrier(ctx)
            cache = open_feature_cache(config, net)
        dataset: torch.utils.data.Dataset = CachedPairs(cache)
        model = HeadsOnFeatures(net)
        groups = [ParamGroup("neck+heads", tuple(net.head_parameters()))]
    else:
        dataset = PairDataset(sampler, config.data.samples_per_epoch)
        model = net
        s = config.schedule
        groups = siamcross_groups(net, s.unfreeze_backbone_epoch, s.unfreeze_backbone_stages,
                                  config.optim.backbone_lr_scale, config.optim.pretrained_head_lr_scale)
    batches = EpochBatches(dataset, config.seed, config.schedule.batch_size, ctx, workers=config.data.workers)
    objective = SiamCrossObjective(net.locations(), SiamCrossLoss(), teacher=build_teacher(config, ctx.device),
                                   distill_weight=config.distill_weight)
    trainer = Trainer(model, groups, objective, batches, config, out_dir, ctx, model_config=net.config.to_dict(),
                      on_progress=_print_progress, should_stop=stop)
    if resume is not None:
        position = trainer.resume(resume)
        if ctx.is_main:
            print(f"siamcross train: resumed at step {position.step} (epoch {position.epoch})", file=sys.stderr)
    position = trainer.fit()
    if ctx.is_main:
        backbone_trained = any(g.name == "backbone" and 0 <= g.trainable_from <= position.epoch for g in groups)
        weights = save_weights(net, out_dir / f"{net.config.name}.pt", include_backbone=backbone_trained, meta={
            "steps": position.step,
            "epochs_done": position.epoch,
            "train_config": config.to_dict(),
            "wall_seconds": round(time.time() - started, 1),
            "training_data": data.describe(),
        })
        print(f"siamcross train: {position.step} steps; checkpoint {trainer.checkpoint_path}; weights {weights}",
              file=sys.stderr)
    return 130 if stop() else 0


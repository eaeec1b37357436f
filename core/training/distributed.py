"""One CPU, one GPU, or many GPUs / machines: the same training loop under ``torchrun``.

``torchrun --nproc_per_node N -m core.cli train CONFIG`` sets RANK / WORLD_SIZE /
LOCAL_RANK; ``setup_distributed`` reads them, joins the process group (gloo on CPU, nccl
on CUDA) and picks this rank's device. Without those variables it is a plain single
process. Every rank trains on its own shard of each epoch's pair order; DDP averages the
gradients, so all ranks keep identical weights; only rank 0 writes checkpoints and logs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..tracking.runtime.device import resolve_device


@dataclass(frozen=True)
class DistContext:
    """This process's place in the run."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup_distributed(device: str = "auto") -> DistContext:
    """Join the torchrun process group when there is one; choose the device of this rank."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = resolve_device(device, half=False).device
    if chosen.type == "cuda" and world_size > 1:
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo", rank=rank, world_size=world_size)
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank, device=chosen)


def wrap_model(model: torch.nn.Module, ctx: DistContext) -> torch.nn.Module:
    """DistributedDataParallel around ``model`` when there are several ranks, else the model."""
    if not ctx.distributed:
        return model
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    # frozen parameters (requires_grad False) are left out by DDP itself; every trainable one is used
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def reduce_mean(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Mean of ``values`` over the ranks (for logging the same numbers everywhere)."""
    if not ctx.distributed:
        return values
    values = values.detach().clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / ctx.world_size


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        dist.barrier()


def teardown(ctx: DistContext) -> None:
    """Leave the process group together: a rank that tore gloo down while the other was still
    in its last collective aborted the other ("terminate called without an active exception",
    seen about once in ten two-rank test runs on a loaded 2-core machine)."""
    if ctx.distributed and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()

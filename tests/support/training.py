"""A tiny stand-in network, dataset and objective that drive the real Trainer in tests.

The trainer and the DDP plumbing do not depend on SiamCross, so they are tested here in
milliseconds; the SiamCross objective is tested against the real network elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.training.config import OptimConfig, ScheduleConfig, TrainConfig
from core.training.trainer import ParamGroup


class TinyNet(torch.nn.Module):
    """A 'backbone' (linear + BatchNorm) and a 'head'; enough to test groups and freezing."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU())
        self.head = torch.nn.Linear(16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


class SyntheticPairs(torch.utils.data.Dataset):
    """Item i is a pure function of i (like the pair sampler), so batches are reproducible."""

    def __init__(self, length: int = 64) -> None:
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(index)
        x = torch.from_numpy(rng.normal(size=8).astype(np.float32))
        return {"x": x, "y": x[:1] * 2.0 - x[1:2], "index": torch.tensor(index)}


@dataclass(frozen=True)
class Terms:
    total: torch.Tensor
    mse: torch.Tensor


def mse_objective(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> Terms:
    loss = torch.nn.functional.mse_loss(model(batch["x"]), batch["y"])
    return Terms(total=loss, mse=loss.detach())


def tiny_groups(net: TinyNet, backbone_from: int = 1) -> list[ParamGroup]:
    return [
        ParamGroup("head", tuple(net.head.parameters())),
        ParamGroup("backbone", tuple(net.backbone.parameters()), lr_scale=0.1, trainable_from=backbone_from),
    ]


def tiny_config(**schedule: object) -> TrainConfig:
    values = {"epochs": 3, "batch_size": 4, "checkpoint_every": 1000, "log_every": 1, "unfreeze_backbone_epoch": 1}
    values.update(schedule)
    return TrainConfig(
        seed=3,
        optim=OptimConfig(lr=0.05, final_lr=0.001, warmup_lr=0.02, warmup_epochs=1.0),
        schedule=ScheduleConfig(**values),  # type: ignore[arg-type]
    )


def state_digest(module: torch.nn.Module) -> list[float]:
    """Every parameter and buffer flattened (compared across processes as plain floats)."""
    return torch.cat([t.detach().double().reshape(-1) for t in module.state_dict().values()]).tolist()


def parameter_digest(module: torch.nn.Module) -> list[float]:
    """Parameters only (BatchNorm running statistics are per rank; DDP re-broadcasts rank 0's)."""
    return torch.cat([p.detach().double().reshape(-1) for p in module.parameters()]).tolist()

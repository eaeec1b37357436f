"""Trainer: the paper's lr schedule, group freezing, checkpoints and exact resume."""
from __future__ import annotations

import pytest
import torch
from support.training import SyntheticPairs, TinyNet, mse_objective, state_digest, tiny_config, tiny_groups

from core.errors import ModelError
from core.training.checkpoint import load_checkpoint
from core.training.config import OptimConfig
from core.training.distributed import DistContext
from core.training.trainer import EpochBatches, Trainer, learning_rate, seed_everything

CPU = DistContext(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))


def make_trainer(tmp_path, config=None, backbone_from=1):
    config = config or tiny_config()
    seed_everything(config.seed)
    net = TinyNet()
    batches = EpochBatches(SyntheticPairs(16), config.seed, config.schedule.batch_size, CPU)
    progress = []
    trainer = Trainer(net, tiny_groups(net, backbone_from), mse_objective, batches, config, tmp_path, CPU,
                      on_progress=progress.append)
    return trainer, net, progress


def test_learning_rate_follows_the_paper_schedule():
    optim = OptimConfig()  # defaults are the paper's numbers
    assert learning_rate(optim, 0.0, 50) == pytest.approx(1e-3)
    assert learning_rate(optim, 4.99, 50) == pytest.approx(1e-3)
    assert learning_rate(optim, 5.0, 50) == pytest.approx(5e-3)
    assert learning_rate(optim, 27.5, 50) == pytest.approx((5e-3 * 1e-5) ** 0.5)
    assert learning_rate(optim, 50.0, 50) == pytest.approx(1e-5)


def test_backbone_group_trains_only_from_its_epoch_with_frozen_norm_statistics(tmp_path):
    trainer, net, _ = make_trainer(tmp_path, tiny_config(epochs=2, max_steps=4))  # 4 steps per epoch
    backbone_before = [p.detach().clone() for p in net.backbone.parameters()]
    running_mean_before = net.backbone[1].running_mean.clone()
    head_before = net.head.weight.detach().clone()
    trainer.config = tiny_config(epochs=2, max_steps=4)
    trainer.fit()  # exactly epoch 0: backbone frozen
    assert not torch.equal(net.head.weight, head_before)
    assert all(torch.equal(a, b) for a, b in zip(net.backbone.parameters(), backbone_before))
    assert torch.equal(net.backbone[1].running_mean, running_mean_before)
    trainer.config = tiny_config(epochs=2)
    trainer.fit()  # epoch 1: backbone unfrozen at 0.1x lr
    assert not torch.equal(net.backbone[0].weight, backbone_before[0])
    scales = {g["name"]: g["lr_scale"] for g in trainer.optimizer.param_groups}
    assert scales == {"head": 1.0, "backbone": 0.1}


def test_resume_continues_exactly_as_an_uninterrupted_run(tmp_path):
    straight, straight_net, _ = make_trainer(tmp_path / "a", tiny_config(epochs=3))
    straight.fit()

    first, _, _ = make_trainer(tmp_path / "b", tiny_config(epochs=3, max_steps=6))  # stops mid epoch 1
    first.fit()
    assert first.position.step == 6 and first.position.epoch == 1 and first.position.step_in_epoch == 2
    second, resumed_net, progress = make_trainer(tmp_path / "c", tiny_config(epochs=3))
    torch.manual_seed(12345)  # resume must restore the RNG, not depend on it
    second.resume(first.checkpoint_path)
    second.fit()
    assert second.position.step == 12
    assert state_digest(resumed_net) == state_digest(straight_net)
    assert progress[0].step == 7 and "mse" in progress[0].terms


def test_checkpoint_records_config_and_position(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, tiny_config(epochs=1))
    trainer.fit()
    payload = load_checkpoint(trainer.checkpoint_path)
    assert payload["config"]["schedule"]["batch_size"] == 4
    assert payload["position"] == {"step": 4, "epoch": 1, "step_in_epoch": 0}


def test_truncated_checkpoint_is_a_model_error(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, tiny_config(epochs=1))
    trainer.fit()
    data = trainer.checkpoint_path.read_bytes()
    broken = tmp_path / "broken.pt"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="cannot be read"):
        load_checkpoint(broken)
    with pytest.raises(ModelError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_stop_request_ends_after_the_current_step_with_a_checkpoint(tmp_path):
    config = tiny_config(epochs=3)
    seed_everything(config.seed)
    net = TinyNet()
    batches = EpochBatches(SyntheticPairs(16), config.seed, config.schedule.batch_size, CPU)
    calls = []
    trainer = Trainer(net, tiny_groups(net), mse_objective, batches, config, tmp_path, CPU,
                      on_progress=lambda p: None, should_stop=lambda: calls.append(1) or len(calls) >= 3)
    position = trainer.fit()
    assert position.step == 3
    assert load_checkpoint(trainer.checkpoint_path)["position"]["step"] == 3

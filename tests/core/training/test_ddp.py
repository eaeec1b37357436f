"""Two CPU processes under torchrun (gloo): sharded batches, synced gradients, rank-0 checkpoints.

The test launches this very file with ``python -m torch.distributed.run --nproc_per_node 2``;
each rank trains the stand-in network a few steps with the real Trainer and writes its
weights and the pair indices it saw. Both ranks must end with identical weights, equal to
one process training on the union of their batches (so gradients really were averaged),
having seen disjoint pairs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from support.paths import PROJECT_ROOT, TESTS_ROOT


def _train(out_dir: Path, ctx) -> dict:
    from support.training import (
        SyntheticPairs,
        TinyNet,
        mse_objective,
        parameter_digest,
        state_digest,
        tiny_config,
        tiny_groups,
    )

    from core.training.trainer import EpochBatches, Trainer, seed_everything

    config = tiny_config(epochs=2, batch_size=4)
    seed_everything(config.seed)
    net = TinyNet()
    seen: list[int] = []
    after_epoch0: list[list[float]] = []

    def objective(model, batch):
        if len(seen) == 4 * len(batch["index"]):  # first step of epoch 1 (before the backbone's BN trains)
            after_epoch0.append(state_digest(net))
        seen.extend(batch["index"].tolist())
        return mse_objective(model, batch)

    batches = EpochBatches(SyntheticPairs(16), config.seed, config.schedule.batch_size, ctx)
    trainer = Trainer(net, tiny_groups(net, backbone_from=1), objective, batches, config, out_dir, ctx)
    trainer.fit()
    return {"rank": ctx.rank, "weights": parameter_digest(net), "after_epoch0": after_epoch0[0], "seen": seen,
            "per_rank_batch": batches.batch_size}


def _worker_main(out_dir: str) -> None:
    from core.training.distributed import setup_distributed, teardown

    ctx = setup_distributed("cpu")
    try:
        result = _train(Path(out_dir), ctx)
    finally:
        teardown(ctx)
    (Path(out_dir) / f"rank{ctx.rank}.json").write_text(json.dumps(result))


def test_two_gloo_ranks_train_identical_weights(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT), str(TESTS_ROOT)]), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "0",
               "--rdzv_backend", "c10d", "--rdzv_endpoint", "localhost:0", str(Path(__file__)), str(tmp_path)]
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0 = json.loads((tmp_path / "rank0.json").read_text())
    rank1 = json.loads((tmp_path / "rank1.json").read_text())
    assert rank0["per_rank_batch"] == rank1["per_rank_batch"] == 2
    assert rank0["weights"] == rank1["weights"]
    assert not set(rank0["seen"][:8]) & set(rank1["seen"][:8])  # epoch 0: disjoint shards
    assert (tmp_path / "checkpoints" / "last.pt").is_file()

    from core.training.distributed import DistContext

    single = _train(tmp_path / "single", DistContext(0, 1, 0, torch.device("cpu")))
    assert sorted(single["seen"][:16]) == sorted(rank0["seen"][:8] + rank1["seen"][:8])
    # epoch 0 (frozen BatchNorm): 2 ranks x 2 pairs give the same update as 1 process x 4 pairs
    assert torch.allclose(torch.tensor(single["after_epoch0"]), torch.tensor(rank0["after_epoch0"]), atol=1e-6)
    assert single["after_epoch0"] != single["weights"]


if __name__ == "__main__":
    _worker_main(sys.argv[1])

"""Tune the tracker's post-processing knobs (window, penalty, size rate) on sequences.

    python -m benchmarks.postprocess_sweep [--tune Car4,David,...] [--check Deer,...] [--max-frames 120]

Grid search on the --tune sequences (success AUC, one-pass), then the model's own
settings and the best found compared on the --check sequences, which the search never
saw. The knobs belong to the weights' config (``ModelConfig.postprocess``); this only
reports, it writes nothing.
"""
from __future__ import annotations

import argparse
import itertools
import json
import time
import warnings
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from core.tracking import SiamCrossTracker, TrackerOptions  # (sets the runtime policy before torch)

from .track_bench import DEFAULT_DATA

TUNE = "Car4,David,Diving,DragonBaby,FaceOcc1,Freeman1"  # the lite model's training split
CHECK = "Deer,Human3,Jogging-1,Man,MotorRolling"  # held out from training (model card)


def mean_auc(net, device, postprocess, sequences, max_frames: int | None) -> float:
    from core.evaluation.metrics import sequence_metrics
    from core.evaluation.ope import run_ope

    options = TrackerOptions(postprocess=postprocess)
    results = run_ope(lambda: SiamCrossTracker(net, device, options=options), sequences, max_frames)
    return float(np.mean([sequence_metrics(r.boxes, s.boxes[:len(r.boxes)], s.absent[:len(r.boxes)]).success_auc
                          for r, s in zip(results, sequences)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default="lite")
    parser.add_argument("--tune", default=TUNE)
    parser.add_argument("--check", default=CHECK)
    parser.add_argument("--max-frames", type=int, default=120)
    parser.add_argument("--window", type=float, nargs="+", default=[0.3, 0.42, 0.55])
    parser.add_argument("--penalty", type=float, nargs="+", default=[0.04, 0.15])
    parser.add_argument("--size-lr", type=float, nargs="+", default=[0.35, 0.6])
    args = parser.parse_args(argv)

    from core.evaluation.ope import load_eval_sequences, truncate
    from core.model import load_model
    from core.tracking.runtime.device import resolve_device

    device = resolve_device("auto")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = load_model(args.model, device.device)
    base = net.config.postprocess
    tune = [truncate(s, args.max_frames) for s in load_eval_sequences(args.data / "seqs", "otb", args.tune.split(","))]
    check = load_eval_sequences(args.data / "seqs", "otb", args.check.split(","))
    rows = []
    for window, penalty, size_lr in itertools.product(args.window, args.penalty, args.size_lr):
        candidate = replace(base, window_influence=window, penalty_k=penalty, size_lr=size_lr)
        began = time.perf_counter()
        auc = mean_auc(net, device, candidate, tune, None)
        rows.append((auc, candidate))
        print(f"tune  window {window:.2f} penalty {penalty:.2f} size_lr {size_lr:.2f}: AUC {auc:.3f} "
              f"({time.perf_counter() - began:.0f} s)", flush=True)
    best = max(rows, key=lambda row: row[0])[1]
    report = {"model": args.model, "base": asdict(base), "best_on_tune": asdict(best),
              "check_auc_base": mean_auc(net, device, base, check, None),
              "check_auc_best": mean_auc(net, device, best, check, None)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

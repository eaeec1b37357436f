"""Model benchmark report: `python -m benchmarks.model_bench [--repeats N] [--out FILE] [--unprepared]`.

A model with shipped weights (siamcross-lite) is timed as users run it: its weights file,
prepared by SiamCrossTracker (BatchNorm folded, fused oneDNN kernels on a CPU); parameters
and GFLOPs come from the plain net before that. ``--unprepared`` times the same weights
without the preparation (the before of a before/after). A model without shipped weights
(siamcross-r50) is a randomly initialised plain net: it times the same as a trained one.

Prints the same table as `siamcross bench` (make bench collects it into REPORT.md) and
writes the JSON to benchmarks/out/ (never asserted in tests).
"""
from __future__ import annotations

import argparse
import json
import platform
import warnings
from pathlib import Path

import core  # noqa: F401  (sleeping OpenMP threads: set before torch loads, as the app runs)
import torch

from core.model import SiamCrossNet, load_model
from core.model.config import NAMED_CONFIGS
from core.model.profiling import ModelProfile, format_table, measure_size, profile_model
from core.model.weights import DEFAULT_FILES


def profile_named(name: str, repeats: int, prepared: bool = True) -> ModelProfile:
    """Profile config ``name`` on the CPU: shipped weights (prepared as the tracker does unless
    ``prepared`` is False) when the weights file exists, else a random plain net."""
    if not DEFAULT_FILES[name].is_file():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = SiamCrossNet(NAMED_CONFIGS[name](), pretrained_backbone=False)
        return profile_model(net, repeats=repeats, setup="random weights, plain net (no shipped weights)")
    net = load_model(name, "cpu")
    size = measure_size(net)
    if not prepared:
        return profile_model(net, repeats=repeats, size=size, setup=f"{DEFAULT_FILES[name].name}, plain net")
    from core.tracking import SiamCrossTracker

    tracker = SiamCrossTracker(net, "cpu", fuse=True)
    prep = tracker.inference_prep
    setup = (f"{DEFAULT_FILES[name].name} as the tracker runs it: backbone BN folded {prep.backbone_fused}, "
             f"{prep.batchnorms_folded} head BNs folded, oneDNN CPU kernels {prep.cpu_kernels}")
    return profile_model(tracker.net, repeats=repeats, size=size, setup=setup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="lite,r50")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--unprepared", action="store_true",
                        help="time shipped weights without the tracker's inference preparation")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "model_bench.json")
    args = parser.parse_args()
    profiles = [profile_named(name, args.repeats, prepared=not args.unprepared) for name in args.configs.split(",")]
    table = format_table(profiles)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": platform.processor() or platform.machine(), "cpus": torch.get_num_threads(),
              "torch": torch.__version__, "models": [p.to_dict() for p in profiles], "table": table}
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Model benchmark report: `python -m benchmarks.model_bench [--repeats N] [--out FILE] [--unprepared]`.

A model with shipped weights (siamcross-lite) is timed as users run it: its weights file,
prepared by SiamCrossTracker (BatchNorm folded; on a CPU, lite runs channels-last and a
backbone without such a preference on fused oneDNN kernels); parameters
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
from pathlib import Path

import core  # noqa: F401  (sleeping OpenMP threads: set before torch loads, as the app runs)

# isort: split
import torch

from core.model.profiling import format_table
from core.tracking.runtime.model_profile import profile_named


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

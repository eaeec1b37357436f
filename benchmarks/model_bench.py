"""Model benchmark report: `python -m benchmarks.model_bench [--repeats N] [--out FILE]`.

Prints the same table as `siamcross bench` (make bench collects it into REPORT.md) and
writes the JSON to benchmarks/out/ (never asserted in tests).
"""
from __future__ import annotations

import argparse
import json
import platform
import warnings
from pathlib import Path

import torch

from core.model import SiamCrossNet
from core.model.config import NAMED_CONFIGS
from core.model.profiling import format_table, profile_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", default="lite,r50")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "model_bench.json")
    args = parser.parse_args()
    profiles = []
    for name in args.configs.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = SiamCrossNet(NAMED_CONFIGS[name](), pretrained_backbone=False)
        profiles.append(profile_model(net, repeats=args.repeats))
    table = format_table(profiles)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": platform.processor() or platform.machine(), "cpus": torch.get_num_threads(),
              "torch": torch.__version__, "models": [p.to_dict() for p in profiles], "table": table}
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

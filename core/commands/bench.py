"""`siamcross bench`: parameters, GFLOPs and per-stage timings of the models here."""
from __future__ import annotations

import argparse
import json
import sys

import torch

from core.errors import UserError
from core.model.config import NAMED_CONFIGS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--configs", default="lite,r50",
                        help=f"comma-separated model configs ({', '.join(NAMED_CONFIGS)})")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per stage (median)")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, mps)")
    parser.add_argument("--unprepared", action="store_true",
                        help="time the shipped weights without the tracker's inference preparation")


def _progress(text: str) -> None:
    print(f"\r{text:<60}", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from core.model.profiling import format_table
    from core.tracking.runtime.model_profile import profile_named

    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in NAMED_CONFIGS]
    if unknown or not names:
        raise UserError(f"Unknown model config {', '.join(unknown) or '(none)'}; "
                        f"choose from {', '.join(NAMED_CONFIGS)}.")
    if args.repeats < 1:
        raise UserError("--repeats must be at least 1.")
    try:
        device = torch.device(args.device)
        torch.empty(1, device=device)
    except (RuntimeError, AssertionError) as error:
        raise UserError(f"Device {args.device!r} is not available here.") from error
    profiles = []
    for index, name in enumerate(names, 1):
        _progress(f"bench {index}/{len(names)}: {name}")
        profiles.append(profile_named(name, args.repeats, prepared=not args.unprepared, device=str(device)))
    print(file=sys.stderr)
    if args.json:
        print(json.dumps({"torch": torch.__version__, "models": [p.to_dict() for p in profiles]}, indent=2))
    else:
        print(format_table(profiles))
    return 0

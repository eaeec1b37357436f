"""Accuracy report: our tracker beside OpenCV's peers on the shared OTB sequences, as markdown.

    python -m benchmarks.accuracy_bench [--model lite|none] [--peers auto] [--max-frames N]
                                        [--device auto] [--out report.md] [--json report.json]

The same run and metrics as ``siamcross eval`` (core.evaluation), written as a markdown
file with the side-by-side success-AUC table and the per-sequence detail, so the numbers in
the README come from a command anyone can repeat. fps depends on the machine: say which.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import cv2

from core.commands.eval import StderrProgress, chosen_trackers
from core.evaluation.ope import load_eval_sequences, run_ope
from core.evaluation.report import detail_table, report_dict, score_runs, side_by_side_table

DEFAULT_DATA = Path(os.environ.get("SIAMCROSS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA / "seqs")
    parser.add_argument("--model", default="lite")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--peers", default="auto")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--only", default=None)
    parser.add_argument("--out", type=Path, default=None, help="markdown file (default: stdout)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    only = [n for n in args.only.split(",")] if args.only else None
    sequences = load_eval_sequences(args.data, None, only)
    trackers, notes = chosen_trackers(args.model, args.device, args.peers)
    progress = StderrProgress()
    runs = {}
    for name, factory in trackers:
        runs[name] = run_ope(factory, sequences, max_frames=args.max_frames, progress=progress, tracker_name=name)
        progress.end()
    reports = score_runs(runs, sequences)
    machine = (f"{platform.machine()} {os.cpu_count()} CPU threads, OpenCV {cv2.__version__}, "
               f"Python {platform.python_version()}")
    text = "\n".join([
        f"# OPE on {args.data} ({len(sequences)} sequences, max frames {args.max_frames or 'all'})",
        "",
        f"Machine: {machine}. Command: `python -m benchmarks.accuracy_bench {' '.join(argv or sys.argv[1:])}`",
        *(f"Note: {n}." for n in notes),
        "",
        "## Success AUC",
        "",
        side_by_side_table(reports, markdown=True),
        "",
        "## All metrics",
        "",
        detail_table(reports, markdown=True),
        "",
    ])
    if args.out:
        args.out.write_text(text)
    else:
        print(text)
    if args.json:
        args.json.write_text(json.dumps(report_dict(reports, notes, {"machine": machine}), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

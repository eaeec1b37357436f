"""``siamcross simulate``: how many boxes an annotator draws per 100 frames, per strategy.

Tables (or ``--json``) on stdout, progress on stderr. See core.evaluation.simulator.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from ..errors import UserError
from ..evaluation.simulator import simulate, truncate
from ..evaluation.simulator_report import (
    DEFAULT_INTERVALS,
    DEFAULT_JITTER,
    FILL_ANCHORS,
    STRATEGIES,
    SeedSpread,
    SimulationReport,
    SimulatorConfig,
    kinds_line,
    seed_spread,
)
from ..propagation.fusion import DEFAULT_AGREE_IOU
from .progress import ProgressLine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", type=Path, help="folder of sequences with ground truth (OTB layout, ...)")
    parser.add_argument("--tracker", default="siamcross",
                        help="siamcross, identity, or an OpenCV peer (nano-v2, nano-v1, mil, ...)")
    parser.add_argument("--model", default="lite", help="SiamCross weights: lite, r50 or a file")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--threshold", type=float, default=0.5, help="IoU a box needs to count as right")
    parser.add_argument("--only", default=None, help="comma-separated sequence names")
    parser.add_argument("--max-frames", type=int, default=None, help="only the first N frames of each sequence")
    parser.add_argument("--interval", type=int, default=None,
                        help="fixed keyframe interval for 'interpolation' (default: best of a sweep per sequence)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated subset of "
                        + ", ".join(STRATEGIES))
    parser.add_argument("--fusion", choices=("agreement", "score", "nearest", "oracle"), default="agreement",
                        help="how fill fuses its two passes; oracle knows the truth (an upper bound for any rule)")
    parser.add_argument("--fill-anchor", choices=FILL_ANCHORS, default="second-error",
                        help="when the 'fill' annotator also draws the last frame (counted as a correction)")
    parser.add_argument("--agree-iou", type=float, default=None,
                        help="IoU at which fill's forward and backward passes count as agreeing "
                             f"(default: the tracker's own; {DEFAULT_AGREE_IOU} for trackers without one)")
    parser.add_argument("--pass-threshold", type=float, default=0.0,
                        help="fill passes stop after --patience frames scoring below this (0: never)")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--adapt", choices=("on", "off"), default="off",
                        help="refit the tracker to each target from the keyframes drawn so far (SiamCross only)")
    parser.add_argument("--seeds", type=int, default=0,
                        help="repeat the run N times with every drawn box (the first and each correction) "
                             # %% for argparse
                             f"moved and resized by up to {DEFAULT_JITTER:.0%}% of its size, and report the mean "
                             "and the spread (0: one run with the exact boxes)")
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of tables")


def make_tracker(name: str, model: str, device: str):
    """The tracker the simulator drives, by command-line name."""
    name = name.strip().lower()
    if name == "identity":
        from ..tracking import IdentityTracker

        return IdentityTracker(), "identity"
    if name == "siamcross":
        from ..tracking import SiamCrossTracker

        return SiamCrossTracker.from_pretrained(model, device=device), f"siamcross-{Path(model).stem}"
    import cv2

    from ..evaluation.peers import make_peer

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # NanoTrack warns on every init
    peer = make_peer(name)
    return peer, peer.kind


def _load(data_dir: Path, only: str | None):
    from ..evaluation.ope import load_eval_sequences

    names = [n.strip() for n in only.split(",")] if only else None
    return load_eval_sequences(data_dir, None, names)


def format_report(report: SimulationReport) -> str:
    """A plain-text table: totals per strategy, then one row per sequence."""
    strategies = report.config.strategies
    lines = [f"Annotation effort, tracker {report.tracker}, IoU >= {report.config.iou_threshold}, "
             f"fusion {report.config.fusion}, fill anchor {report.config.fill_anchor}",
             f"{'strategy':<15}{'corr/100 fr':>12}{'corrections':>13}{'frames':>8}{'tracked':>9}{'compute s':>11}"]
    for name in strategies:
        total = report.total(name)
        lines.append(f"{name:<15}{total.corrections_per_100_frames:>12.2f}{total.corrections:>13}"
                     f"{total.frames:>8}{total.frames_tracked:>9}{total.compute_seconds:>11.2f}"
                     + (f"   fusion misses {total.fusion_misses}" if total.fusion_misses is not None else ""))
    lines += _kinds_lines({name: report.total(name).kinds for name in strategies})
    sweep = report.interpolation_sweep()
    if sweep:
        lines.append("interpolation, fixed interval N (0 = first box only): "
                     + "  ".join(f"{n}:{v:.2f}" for n, v in sweep.items()))
    lines.append("")
    header = f"{'sequence':<14}{'frames':>7}" + "".join(f"{name:>16}" for name in strategies)
    lines.append(header + "   (corrections; interpolation: best N)")
    for seq in report.sequences:
        cells = []
        for name in strategies:
            r = seq.results[name]
            cells.append(f"{r.corrections:>10}" + (f" N={r.interval:<3}" if r.interval is not None else " " * 6))
        lines.append(f"{seq.name:<14}{seq.frames:>7}" + "".join(f"{c:>16}" for c in cells))
    return "\n".join(lines)


def format_spread(tracker: str, config: SimulatorConfig, spread: dict[str, SeedSpread]) -> str:
    """Mean and spread of corrections per 100 frames over the jittered runs."""
    runs = len(next(iter(spread.values())).per_run) if spread else 0
    lines = [f"Annotation effort over {runs} jittered annotators (drawn boxes within {DEFAULT_JITTER:.0%}), "
             f"tracker {tracker}, IoU >= {config.iou_threshold}",
             f"{'strategy':<15}{'mean':>8}{'std':>8}{'min':>8}{'max':>8}   per run (corrections per 100 frames)"]
    for name, item in spread.items():
        lines.append(f"{name:<15}{item.mean:>8.2f}{item.std:>8.2f}{min(item.per_run):>8.2f}{max(item.per_run):>8.2f}"
                     "   " + " ".join(f"{v:.2f}" for v in item.per_run))
    return "\n".join(lines + _kinds_lines({name: item.kinds for name, item in spread.items()}))


def _kinds_lines(kinds: dict[str, tuple[int, ...] | None]) -> list[str]:
    """What the corrections fixed, per tracking strategy (core.evaluation.simulator_report.CORRECTION_KINDS)."""
    rows = [f"  {name:<13}{line}" for name, counts in kinds.items() if (line := kinds_line(counts))]
    return ["what the tool showed where a box was corrected (lost: IoU < 0.1, drifted: < 0.3, "
            "loose: on the target but below the bar):", *rows] if rows else []


def run(args: argparse.Namespace) -> int:
    if not args.data_dir.is_dir():
        raise UserError(f"Data folder not found: {args.data_dir}.")
    strategies = tuple(s.strip() for s in args.strategies.split(",") if s.strip())
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown or not strategies:
        raise UserError(f"Unknown strategy '{unknown[0] if unknown else ''}'; choose from {', '.join(STRATEGIES)}.")
    if not 0.0 < args.threshold <= 1.0:
        raise UserError(f"The IoU threshold must be in (0, 1], got {args.threshold}.")
    if args.seeds < 0:
        raise UserError(f"--seeds must be 0 or more, got {args.seeds}.")
    if args.interval is not None and args.interval < 0:
        raise UserError(f"The keyframe interval must be 0 or more, got {args.interval}.")
    config = SimulatorConfig(iou_threshold=args.threshold, strategies=strategies,
                             intervals=(args.interval,) if args.interval is not None else DEFAULT_INTERVALS,
                             fusion=args.fusion, agree_iou=args.agree_iou, fill_anchor=args.fill_anchor,
                             pass_score_threshold=args.pass_threshold, patience=args.patience,
                             max_frames=args.max_frames, adapt=args.adapt == "on")
    sequences = [truncate(s, args.max_frames) for s in _load(args.data_dir, args.only)]
    needs_tracker = any(s != "interpolation" for s in strategies)
    tracker, name = make_tracker(args.tracker, args.model, args.device) if needs_tracker else (None, "none")
    line = ProgressLine()

    def progress(done: int, total: int, sequence: str) -> None:
        line.show(f"simulate {name}: {done}/{total} sequences  {time.monotonic() - line.began:6.1f} s  {sequence}",
                  force=True)

    if args.seeds == 0:
        report = simulate(sequences, tracker, config, tracker_name=name, progress=progress)
        line.end()
        print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
        return 0
    reports = []
    for seed in range(1, args.seeds + 1):
        seeded = dataclasses.replace(config, jitter=DEFAULT_JITTER, seed=seed)
        reports.append(simulate(sequences, tracker, seeded, tracker_name=f"{name} seed {seed}", progress=progress))
    line.end()
    spread = seed_spread(reports)
    if args.json:
        print(json.dumps({"tracker": name, "seeds": args.seeds, "jitter": DEFAULT_JITTER,
                          "summary": {k: v.to_dict() for k, v in spread.items()},
                          "runs": [r.to_dict() for r in reports]}, indent=2))
    else:
        print(format_spread(name, config, spread))
    return 0

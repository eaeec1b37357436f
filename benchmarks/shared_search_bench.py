"""Shared backbone passes (core/tracking/shared_search.py): speed and accuracy, on vs off.

    python -m benchmarks.shared_search_bench [--seq Car4 | --video V] [--targets 1 4 16] [--frames 40] [--threads 1]
    python -m benchmarks.shared_search_bench --accuracy [--decoys 3] [--seqs Deer Man ...] [--max-frames 0]

Speed: ``track_many`` on decoded frames for spread and clustered placements (track_bench's
spread_boxes / clustered_boxes), the shared path off and on run back to back on the same
frame (interleaved, so load changes hit both alike); medians of this process's CPU time per
frame. "pixels" is the backbone input of the shared plan over that of per-target crops.

Accuracy: each sequence's target tracked alone (plain path) and "as one of a group": the
same target with ``--decoys`` decoy targets whose search windows are kept, every frame,
1.25 target sizes right / below / diagonal of the target's, with the shared path forced on
(so the target's features always come from a crop shared with its decoys). Success AUC
(core.evaluation.metrics) of the target in both runs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from .track_bench import DEFAULT_DATA, PLACEMENTS, load_sequence

DECOY_OFFSETS = ((1.25, 0.0), (0.0, 1.25), (1.25, 1.25), (-1.25, 0.0), (0.0, -1.25), (-1.25, -1.25),
                 (1.25, -1.25), (-1.25, 1.25))


def bench_speed(args: argparse.Namespace) -> dict:
    from core.tracking import SiamCrossTracker
    from core.tracking.shared_search import SharedSearchConfig, plan_search

    if args.video:
        from .propagation_bench import START_BOX, decode_all

        frames, box = decode_all(args.video, args.frames + 1), START_BOX
    else:
        frames, box = load_sequence(args.data / "seqs" / args.seq, args.frames + 1)
    tracker = SiamCrossTracker.from_pretrained(args.model, device="cpu")
    height, width = frames[0].shape[:2]
    shared = SharedSearchConfig()
    report: dict = {"source": str(args.video.name if args.video else args.seq), "frame_size": [width, height],
                    "frames": len(frames) - 1, "threads": args.threads, "rows": []}
    for placement, place in PLACEMENTS.items():
        for count in args.targets:
            boxes = place(box, count, width, height)
            runs = {mode: [tracker.init_target(frames[0], b) for b in boxes] for mode in ("off", "on")}
            cpu: dict[str, list[float]] = {"off": [], "on": []}
            ratios = []
            for index, frame in enumerate(frames[1:]):
                windows = [tracker._search_window(s) for s in runs["on"]]
                plan = plan_search(windows, shared, tracker.net.config)
                ratios.append(plan.pixels / (len(windows) * 255 * 255))
                for mode in ("off", "on") if index % 2 == 0 else ("on", "off"):
                    tracker.shared_search = shared if mode == "on" else None
                    tick = time.process_time()
                    tracker.track_many(frame, runs[mode])
                    if index >= 2:  # warm-up: allocator and oneDNN primitives for these shapes
                        cpu[mode].append(time.process_time() - tick)
            tracker.shared_search = None
            report["rows"].append({"placement": placement, "targets": count,
                                   "off_cpu_ms": 1e3 * statistics.median(cpu["off"]),
                                   "on_cpu_ms": 1e3 * statistics.median(cpu["on"]),
                                   "pixels": float(np.median(ratios))})
    one = {r["placement"]: r["off_cpu_ms"] for r in report["rows"] if r["targets"] == 1}
    for row in report["rows"]:
        base = one.get(row["placement"])
        if base:
            row["off_vs_one"] = row["off_cpu_ms"] / base
            row["on_vs_one"] = row["on_cpu_ms"] / base
    return report


def track_sequence(tracker, sequence, decoys: int, max_frames: int) -> np.ndarray:
    """Predicted boxes of the sequence's target (plain path when decoys == 0)."""
    from core.tracking.shared_search import SharedSearchConfig

    count = len(sequence) if not max_frames else min(len(sequence), max_frames)
    first = sequence.read_frame(0)
    box = tuple(float(v) for v in sequence.boxes[0])
    target = tracker.init_target(first, box)
    # a decoy's template does not matter (only its search window does, set every frame)
    decoy_states = [tracker.init_target(first, box) for _ in DECOY_OFFSETS[:decoys]]
    tracker.shared_search = SharedSearchConfig(force=True) if decoys else None
    boxes = np.full((len(sequence), 4), np.nan)
    boxes[0] = box
    try:
        for index in range(1, count):
            (cx, cy), (w, h) = target.center_xy, target.size_wh
            for state, (dx, dy) in zip(decoy_states, DECOY_OFFSETS):
                state.center_xy, state.size_wh = (cx + dx * w, cy + dy * h), (w, h)
            boxes[index] = tracker.track_many(sequence.read_frame(index), [target, *decoy_states])[0].box_xywh
    finally:
        tracker.shared_search = None
    return boxes[:count]


def bench_accuracy(args: argparse.Namespace) -> dict:
    from core.evaluation.metrics import sequence_metrics
    from core.evaluation.ope import load_eval_sequences
    from core.tracking import SiamCrossTracker

    tracker = SiamCrossTracker.from_pretrained(args.model, device="cpu")
    rows = []
    for sequence in load_eval_sequences(args.data / "seqs", only=args.seqs or None):
        row = {"sequence": sequence.name}
        for label, decoys in (("alone", 0), ("grouped", args.decoys)):
            boxes = track_sequence(tracker, sequence, decoys, args.max_frames)
            absent = None if sequence.absent is None else sequence.absent[:len(boxes)]
            row[label] = sequence_metrics(boxes, sequence.boxes[:len(boxes)], absent).success_auc
        rows.append(row)
        print(f"{row['sequence']:14s} alone {row['alone']:.3f}  grouped {row['grouped']:.3f}", flush=True)
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("alone", "grouped")}
    return {"decoys": args.decoys, "rows": rows, "mean": mean}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seq", default="Car4")
    parser.add_argument("--video", type=Path, default=None, help="a video instead of --seq (e.g. the 720p bunny)")
    parser.add_argument("--model", default="lite")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--decoys", type=int, default=3, choices=range(1, len(DECOY_OFFSETS) + 1))
    parser.add_argument("--seqs", nargs="*", default=[])
    parser.add_argument("--max-frames", type=int, default=0, help="frames per sequence (0: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    report = bench_accuracy(args) if args.accuracy else bench_speed(args)
    report["load_average"] = [round(v, 2) for v in os.getloadavg()]
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.accuracy:
        print(f"mean success AUC: alone {report['mean']['alone']:.3f}, grouped with {report['decoys']} decoys "
              f"{report['mean']['grouped']:.3f}")
    else:
        print(f"{report['source']} {report['frame_size']}, {report['frames']} frames, torch threads "
              f"{torch.get_num_threads()}, load {report['load_average']}; medians of CPU ms per frame\n")
        print("| placement | targets | shared off | shared on | pixels on/off | off vs 1 target | on vs 1 target |")
        print("|---|---|---|---|---|---|---|")
        for r in report["rows"]:
            print(f"| {r['placement']} | {r['targets']} | {r['off_cpu_ms']:.1f} | {r['on_cpu_ms']:.1f} "
                  f"| {r['pixels']:.2f} | {r.get('off_vs_one', float('nan')):.2f} "
                  f"| {r.get('on_vs_one', float('nan')):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

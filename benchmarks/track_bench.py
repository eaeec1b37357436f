"""Tracking speed: track() and track_many() with 1/4/16 targets on a real sequence.

    python -m benchmarks.track_bench [--seq Car4] [--model lite] [--device auto] [--frames 60] [--json]
    python -m benchmarks.track_bench --crops     # warpAffine crops vs pysot pad-slice crops

Per-frame times are medians (robust to the other processes on a shared machine). The
batch cost ratio is time(track_many N) / (N * time(track)): below 1 means a batched
pass is cheaper than N single passes. End-to-end fps includes JPEG decoding.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

DEFAULT_DATA = Path(os.environ.get("SIAMCROSS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def load_sequence(seq_dir: Path, frames: int) -> tuple[list[np.ndarray], tuple[float, float, float, float]]:
    paths = sorted((seq_dir / "img").glob("*.jpg"))[:frames]
    first = (seq_dir / "groundtruth_rect.txt").read_text().splitlines()[0].replace("\t", ",").replace(" ", ",")
    x, y, w, h = (float(v) for v in first.split(",") if v)
    return [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths], (x - 1, y - 1, w, h)


def spread_boxes(box, count: int, width: int, height: int) -> list[tuple[float, float, float, float]]:
    """``count`` boxes of the start box's size: the start box, then a grid over the frame."""
    x, y, w, h = box
    boxes = [box]
    side = int(np.ceil(np.sqrt(count)))
    for i in range(1, count):
        cx = (i % side + 0.5) / side * width
        cy = (i // side + 0.5) / side * height
        boxes.append((min(max(cx - w / 2, 0), width - w), min(max(cy - h / 2, 0), height - h), w, h))
    return boxes


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def bench_tracking(args: argparse.Namespace) -> dict:
    from core.tracking import SiamCrossTracker

    frames, box = load_sequence(args.data / "seqs" / args.seq, args.frames + 1)
    tracker = SiamCrossTracker.from_pretrained(args.model, device=args.device)
    height, width = frames[0].shape[:2]
    report: dict = {"sequence": args.seq, "frames": len(frames) - 1, "device": str(tracker.device),
                    "model": args.model, "frame_size": [width, height]}

    tracker.init(frames[0], box)
    tracker.track(frames[1])  # warm-up (allocator, kernels)
    tracker.init(frames[0], box)
    single = []
    for frame in frames[1:]:
        tick = time.perf_counter()
        tracker.track(frame)
        single.append(time.perf_counter() - tick)
    report["track_ms"] = median_ms(single)
    report["track_fps"] = 1e3 / report["track_ms"]

    paths = sorted((args.data / "seqs" / args.seq / "img").glob("*.jpg"))[1:len(frames)]
    tracker.init(frames[0], box)
    end_to_end = []
    for path in paths:
        tick = time.perf_counter()
        tracker.track(cv2.imread(str(path), cv2.IMREAD_COLOR))
        end_to_end.append(time.perf_counter() - tick)
    report["end_to_end_fps"] = 1e3 / median_ms(end_to_end)

    report["many"] = {}
    for count in args.targets:
        states = [tracker.init_target(frames[0], b) for b in spread_boxes(box, count, width, height)]
        tracker.track_many(frames[1], states)  # warm-up at this batch size
        times = []
        for frame in frames[1:]:
            tick = time.perf_counter()
            tracker.track_many(frame, states)
            times.append(time.perf_counter() - tick)
        ms = median_ms(times)
        report["many"][count] = {"frame_ms": ms, "frames_per_s": 1e3 / ms, "target_updates_per_s": count * 1e3 / ms,
                                 "batch_cost_ratio": ms / (count * report["track_ms"])}
    return report


def bench_crops(args: argparse.Namespace) -> dict:
    from core.tracking.crops import crop_around, crop_pad_slice

    frame = cv2.imread(str(sorted((args.data / "seqs" / args.seq / "img").glob("*.jpg"))[0]), cv2.IMREAD_COLOR)
    frame = cv2.resize(frame, (1280, 720))
    report = {}
    for name, crop in (("warp_affine", crop_around), ("pad_slice", crop_pad_slice)):
        for where, centre in (("inside", (640.0, 360.0)), ("corner", (20.0, 20.0))):
            times = []
            for _ in range(300):
                tick = time.perf_counter()
                crop(frame, centre, 400.0, 255)
                times.append(time.perf_counter() - tick)
            report[f"{name}_{where}_ms"] = median_ms(times)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seq", default="Car4")
    parser.add_argument("--model", default="lite")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--crops", action="store_true", help="benchmark the crop functions only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = bench_crops(args) if args.crops else bench_tracking(args)
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.crops:
        for key, value in report.items():
            print(f"{key:28s} {value:7.3f} ms")
    else:
        print(f"{report['model']} on {report['device']}, {report['sequence']} {report['frame_size']}, "
              f"{report['frames']} frames (medians)")
        print(f"track():        {report['track_ms']:7.2f} ms/frame  {report['track_fps']:6.1f} fps")
        print(f"end to end:     {report['end_to_end_fps']:6.1f} fps (JPEG decode + track)")
        for count, row in report["many"].items():
            print(f"track_many {count:3d}: {row['frame_ms']:7.2f} ms/frame  {row['target_updates_per_s']:7.1f} "
                  f"target-updates/s  batch cost ratio {row['batch_cost_ratio']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

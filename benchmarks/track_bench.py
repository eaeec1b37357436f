"""Tracking speed: track() and track_many() with 1/4/16 targets on a real sequence.

    python -m benchmarks.track_bench [--seq Car4] [--model lite] [--device auto] [--frames 60] [--json]
    python -m benchmarks.track_bench --crops     # warpAffine crops vs pysot pad-slice crops

Per-frame times are medians of wall time and of this process's CPU time. On a shared
machine the wall time depends on the other processes; the CPU time does not (with 2
threads on an idle 2-core machine wall ~= CPU, measured). The batch cost ratio is
time(track_many N) / (N * time(track)): below 1 means batching saves work. End-to-end
includes JPEG decoding; track()/e2e is the share of it the tracker takes (1.0: decoding is
free). The header names the inference-only speed-ups the tracker applied to its net
(core.tracking.runtime.inference).
"""
from __future__ import annotations

import argparse
import dataclasses
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
    return [read_image(p) for p in paths], (x - 1, y - 1, w, h)


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise RuntimeError(f"cannot decode {path}")
    return image


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


def clustered_boxes(box, count: int, width: int, height: int,
                    spacing: float = 1.25) -> list[tuple[float, float, float, float]]:
    """``count`` boxes of the start box's size in a crowd: a square grid ``spacing`` box sizes
    apart, centred on the start box and shifted to stay inside the frame (a team, a queue)."""
    x, y, w, h = box
    side = int(np.ceil(np.sqrt(count)))
    span_w, span_h = (side - 1) * spacing * w + w, (side - 1) * spacing * h + h
    x0 = min(max(x + w / 2 - span_w / 2, 0.0), max(width - span_w, 0.0))
    y0 = min(max(y + h / 2 - span_h / 2, 0.0), max(height - span_h, 0.0))
    return [(min(x0 + (i % side) * spacing * w, width - w), min(y0 + (i // side) * spacing * h, height - h), w, h)
            for i in range(count)]


PLACEMENTS = {"spread": spread_boxes, "clustered": clustered_boxes}


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


class Stopwatch:
    """Wall and CPU seconds of repeated calls."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append(time.perf_counter() - self._wall)
        self.cpu.append(time.process_time() - self._cpu)

    def summary(self) -> dict:
        return {"wall_ms": median_ms(self.wall), "cpu_ms": median_ms(self.cpu)}


def bench_tracking(args: argparse.Namespace) -> dict:
    from core.tracking import SiamCrossTracker

    frames, box = load_sequence(args.data / "seqs" / args.seq, args.frames + 1)
    tracker = SiamCrossTracker.from_pretrained(args.model, device=args.device)
    height, width = frames[0].shape[:2]
    report: dict = {"sequence": args.seq, "frames": len(frames) - 1, "device": str(tracker.device),
                    "model": args.model, "frame_size": [width, height],
                    "inference_prep": {**dataclasses.asdict(tracker.inference_prep),
                                       "pass_lanes": tracker.pass_lanes}}

    tracker.init(frames[0], box)
    for frame in frames[1:6]:  # warm-up (allocator, oneDNN primitives)
        tracker.track(frame)
    tracker.init(frames[0], box)
    single = Stopwatch()
    for frame in frames[1:]:
        with single:
            tracker.track(frame)
    report["track"] = single.summary()

    paths = sorted((args.data / "seqs" / args.seq / "img").glob("*.jpg"))[1:len(frames)]
    tracker.init(frames[0], box)
    end_to_end = Stopwatch()
    for path in paths:
        with end_to_end:
            tracker.track(read_image(path))
    report["end_to_end"] = end_to_end.summary()
    report["model_over_e2e"] = {clock: report["track"][clock] / report["end_to_end"][clock]
                                for clock in ("wall_ms", "cpu_ms")}  # 1.0: decoding costs nothing on top

    report["many"] = {}
    for count in args.targets:
        states = [tracker.init_target(frames[0], b) for b in spread_boxes(box, count, width, height)]
        tracker.track_many(frames[1], states)  # warm-up at this batch size
        many = Stopwatch()
        for frame in frames[1:]:
            with many:
                tracker.track_many(frame, states)
        row = many.summary()
        row["cpu_ms_per_target"] = row["cpu_ms"] / count
        row["batch_cost_ratio_cpu"] = row["cpu_ms"] / (count * report["track"]["cpu_ms"])
        report["many"][count] = row
    return report


def bench_crops(args: argparse.Namespace) -> dict:
    from core.tracking.crops import crop_around, crop_pad_slice

    frame = read_image(sorted((args.data / "seqs" / args.seq / "img").glob("*.jpg"))[0])
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
        prep = ", ".join(f"{key} {value}" for key, value in report["inference_prep"].items())
        print(f"{report['model']} on {report['device']} ({prep}), {report['sequence']} {report['frame_size']}, "
              f"{report['frames']} frames, medians (wall | CPU time of this process)")
        for name, row in (("track()", report["track"]), ("end to end", report["end_to_end"])):
            print(f"{name:15s} {row['wall_ms']:8.1f} ms ({1e3 / row['wall_ms']:5.1f} fps) | "
                  f"{row['cpu_ms']:8.1f} ms ({1e3 / row['cpu_ms']:5.1f} fps)")
        ratio = report["model_over_e2e"]
        print(f"{'track()/e2e':15s} {ratio['wall_ms']:8.2f}    {'':13s}| {ratio['cpu_ms']:8.2f}")
        for count, row in report["many"].items():
            print(f"track_many {count:3d} {row['wall_ms']:8.1f} ms | {row['cpu_ms']:8.1f} ms CPU, "
                  f"{row['cpu_ms_per_target']:6.1f} ms/target, batch cost ratio {row['batch_cost_ratio_cpu']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Media and annotation-engine speed: open, sequential and random reads, cache, journal, save/load.

    python -m benchmarks.media_bench [--videos DIR] [--long-frames 0] [--json out.json]

Numbers are medians where a per-item time is reported (robust to other processes on a
shared machine); say which machine produced them. ``--long-frames N`` also writes an N-frame
synthetic video to a temp folder to compare opening by full scan with opening by probes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from core.annotations.io import load_project, save_project
from core.annotations.journal import Journal
from core.annotations.model import FrameLabel, MediaRef, Project, Provenance
from core.annotations.store import AnnotationStore
from core.media import FrameCache
from core.media.video import VideoSource

DEFAULT_VIDEOS = Path(os.environ.get("SIAMCROSS_SHARED_DATA",
                                     Path(__file__).resolve().parents[2] / "shared" / "data")) / "videos"


T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_video(path: Path, seeks: int = 40) -> dict:
    scan_s, source = timed(lambda: VideoSource(path, index="decode"))
    verify_s, probed = timed(lambda: VideoSource(path, index="packets"))
    probed.close()
    count = source.info.frame_count
    start = time.perf_counter()
    for index in range(count):
        source.read(index)
    sequential_fps = count / (time.perf_counter() - start)
    capture = cv2.VideoCapture(str(path))
    start = time.perf_counter()
    while capture.read()[0]:
        pass
    opencv_fps = count / (time.perf_counter() - start)
    capture.release()
    rng = random.Random(0)
    samples = []
    for _ in range(seeks):
        index = rng.randrange(count)
        samples.append(timed(partial(source.read, index))[0])
    source.close()
    return {
        "video": path.name,
        "frames": count,
        "size": f"{source.info.width}x{source.info.height}",
        "open_decode_s": round(scan_s, 3),
        "open_packets_s": round(verify_s, 3),
        "sequential_read_fps": round(sequential_fps, 1),
        "opencv_plain_read_fps": round(opencv_fps, 1),
        "random_read_median_ms": round(statistics.median(samples) * 1e3, 2),
        "random_read_p90_ms": round(sorted(samples)[int(0.9 * len(samples))] * 1e3, 2),
    }


def bench_cache(path: Path, work_ms: float = 10.0, frames: int = 100) -> dict:
    """Playback with a consumer that works work_ms per frame: how long get() blocks, with and without read-ahead."""
    result = {"video": path.name, "consumer_work_ms": work_ms}
    for read_ahead in (0, 8):
        with VideoSource(path) as source, FrameCache(source, max_bytes=256 << 20, read_ahead=read_ahead) as cache:
            waits = []
            for index in range(min(frames, source.info.frame_count)):
                waits.append(timed(partial(cache.get, index))[0])
                time.sleep(work_ms / 1e3)
            result[f"get_median_ms_read_ahead_{read_ahead}"] = round(statistics.median(waits) * 1e3, 3)
            result[f"bytes_used_read_ahead_{read_ahead}"] = cache.stats().bytes_used
    return result


def bench_journal(folder: Path, lines: int = 500) -> list[dict]:
    """Cost of one journalled propagated frame at several fsync policies."""
    rows = []
    for interval in (0.0, 0.2, math.inf):
        path = folder / f"journal-{interval}.json"
        journal = Journal(path, interval)
        store = AnnotationStore(Project(media=MediaRef("v.mp4", "video", 10**6, 640, 480)), journal=journal)
        track = store.add_track()
        run = store.set_frame(track.id, 0, FrameLabel((0.0, 0.0, 10.0, 10.0), Provenance.MANUAL))
        samples = []
        for frame in range(1, lines + 1):
            label = FrameLabel((float(frame), 1.5, 10.25, 10.75), Provenance.TRACKED, 0.875)
            samples.append(timed(partial(store.apply_propagated, track.id, {frame: label}, join=run))[0])
        journal.close()
        rows.append({"fsync_interval_s": interval, "per_frame_median_ms": round(statistics.median(samples) * 1e3, 4),
                     "per_frame_mean_ms": round(statistics.fmean(samples) * 1e3, 4)})
    return rows


def bench_save_load(folder: Path, tracks: int = 10, frames: int = 5000) -> dict:
    project = Project(media=MediaRef(str(folder / "v.mp4"), "video", frames, 1920, 1080))  # beside the file
    rng = np.random.default_rng(0)
    store = AnnotationStore(project)
    for _ in range(tracks):
        track = store.add_track()
        labels = {f: FrameLabel(_box(rng.uniform(1, 500, 4)), Provenance.TRACKED, float(rng.random()))
                  for f in range(frames)}
        store.set_frames(track.id, labels)
    path = folder / "big.json"
    save_s, _ = timed(lambda: save_project(project, path))
    load_s, loaded = timed(lambda: load_project(path))
    assert loaded == project
    return {"tracks": tracks, "frames_per_track": frames, "file_mb": round(path.stat().st_size / 1e6, 2),
            "save_s": round(save_s, 3), "load_s": round(load_s, 3)}


def _box(values: np.ndarray) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in values)
    return x, y, w, h


def write_long_video(path: Path, frames: int) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (640, 360))
    base = np.zeros((360, 640, 3), np.uint8)
    for i in range(frames):
        frame = base.copy()
        cv2.putText(frame, str(i), (50, 200), cv2.FONT_HERSHEY_SIMPLEX, 4, (255, 255, 255), 6)
        writer.write(frame)
    writer.release()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, default=DEFAULT_VIDEOS)
    parser.add_argument("--long-frames", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    report: dict = {"machine": f"{platform.machine()} {os.cpu_count()} CPU threads, OpenCV {cv2.__version__}, "
                               f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"}
    videos = [args.videos / "bikes.mp4", args.videos / "bigbuckbunny.mp4"]
    report["video"] = [bench_video(v) for v in videos if v.exists()]
    if videos[0].exists():
        report["cache"] = bench_cache(videos[1] if videos[1].exists() else videos[0])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report["journal"] = bench_journal(folder)
        report["save_load"] = bench_save_load(folder)
        if args.long_frames:
            long_video = folder / "long.mp4"
            write_long_video(long_video, args.long_frames)
            report["video"].append(bench_video(long_video, seeks=20))
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

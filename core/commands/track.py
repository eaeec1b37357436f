"""`siamcross track VIDEO --box x,y,w,h`: one box through a video, boxes written as CSV.

The video is decoded sequentially (no seeking: the fastest and exact way to visit every
frame in order); an image folder goes through core.media. Rows are written as they are
tracked, so Ctrl-C keeps every finished frame. Progress goes to stderr, the CSV to
--out or stdout.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

from core.tracking.runtime import prefer_sleeping_threads

prefer_sleeping_threads()  # before anything imports torch

from core.errors import BoxError, MediaError, UserError  # noqa: E402
from core.media.video import quiet_native_logs  # noqa: E402
from core.tracking.inputs import normalise_box  # noqa: E402

from .progress import ProgressLine  # noqa: E402


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="video file (or image folder) to track in")
    parser.add_argument("--box", required=True, help="start box as x,y,w,h in 0-based pixels of the start frame")
    parser.add_argument("--model", default="lite", help="lite, r50 or a weights file (default: lite)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    parser.add_argument("--out", type=Path, default=None, help="CSV file to write (default: standard output)")
    parser.add_argument("--start", type=int, default=0, help="0-based frame the box is drawn on (default: 0)")
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many frames (start included)")


def parse_box(text: str) -> tuple[float, float, float, float]:
    """'x,y,w,h' -> four floats (BoxError with one sentence otherwise)."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise BoxError(f"--box '{text}' must be four numbers x,y,w,h separated by commas.") from None
    if len(values) != 4:
        raise BoxError(f"--box '{text}' must be four numbers x,y,w,h separated by commas.")
    if not all(math.isfinite(v) for v in values):
        raise BoxError(f"--box '{text}' contains a value that is not a finite number.")
    return values


def read_frames(path: Path, start: int, max_frames: int | None) -> Iterator[tuple[int, np.ndarray]]:
    """(index, frame) from ``start`` on, at most ``max_frames`` of them, in order."""
    if not path.exists():
        raise MediaError(f"{path} does not exist.")
    if path.is_dir():
        yield from _read_folder(path, start, max_frames)
        return
    quiet_native_logs()  # FFmpeg's own "moov atom not found" lines would break the one-line error
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise MediaError(f"{path} cannot be opened as a video.")
        index = 0
        while index < start:
            if not capture.grab():
                raise MediaError(f"{path} has only {index} frames, so it cannot start at frame {start}.")
            index += 1
        produced = 0
        while max_frames is None or produced < max_frames:
            ok, frame = capture.read()
            if not ok or frame is None:
                if produced == 0:
                    raise MediaError(f"{path} has no decodable frame {start}.")
                return
            yield index, frame
            index += 1
            produced += 1
    finally:
        capture.release()


def _read_folder(path: Path, start: int, max_frames: int | None) -> Iterator[tuple[int, np.ndarray]]:
    from core.media import open_media

    with open_media(path) as source:
        count = source.info.frame_count
        if start >= count:
            raise MediaError(f"{path} has only {count} frames, so it cannot start at frame {start}.")
        stop = count if max_frames is None else min(count, start + max_frames)
        for index in range(start, stop):
            yield index, source.read(index)


class Progress:
    """`tracking frame done/total  fps` on the shared progress line."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 0.25) -> None:
        self._line = ProgressLine(stream, interval_s)

    @property
    def shown(self) -> bool:
        """Whether a progress line is on screen (an error must then start on a new line)."""
        return self._line.shown

    def update(self, done: int, total: int | None, fps: float, force: bool = False) -> None:
        of = f"/{total}" if total else ""
        self._line.show(f"tracking frame {done}{of}  {fps:6.1f} fps", force=force)

    def finish(self) -> None:
        self._line.end()


def _frame_total(path: Path, start: int, max_frames: int | None) -> int | None:
    if path.is_dir():
        return max_frames
    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    capture.release()
    remaining = max(count - start, 0) if count > 0 else None
    if max_frames is None:
        return remaining
    return max_frames if remaining is None else min(max_frames, remaining)


def run(args: argparse.Namespace) -> int:
    box = parse_box(args.box)
    if args.start < 0:
        raise UserError(f"--start {args.start} must be 0 or more.")
    if args.max_frames is not None and args.max_frames < 1:
        raise UserError(f"--max-frames {args.max_frames} must be 1 or more.")
    video = Path(args.video)
    frames = read_frames(video, args.start, args.max_frames)
    first_index, first_frame = next(frames)
    height, width = first_frame.shape[:2]
    start_box = normalise_box(box, width, height)  # BoxError before the model is loaded

    from core.tracking import SiamCrossTracker  # torch is imported only once the input is known good

    tracker = SiamCrossTracker.from_pretrained(args.model, device=args.device)
    tracker.init(first_frame, start_box)
    total = _frame_total(video, args.start, args.max_frames)
    progress = Progress()
    model_seconds = 0.0
    count = 1
    began = time.perf_counter()
    with _open_output(args.out) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["frame", "x", "y", "w", "h", "score"])
        writer.writerow([first_index, *(f"{v:.2f}" for v in start_box), "1.0000"])
        try:
            for index, frame in frames:
                tick = time.perf_counter()
                result = tracker.track(frame)
                model_seconds += time.perf_counter() - tick
                writer.writerow([index, *(f"{v:.2f}" for v in result.box_xywh), f"{result.score:.4f}"])
                count += 1
                progress.update(count, total, (count - 1) / max(time.perf_counter() - began, 1e-9))
        except BaseException:
            if progress.shown:
                progress.finish()  # the error that follows gets a line of its own
            raise
    elapsed = time.perf_counter() - began
    tracked = count - 1
    progress.update(count, total, tracked / max(elapsed, 1e-9), force=True)
    progress.finish()
    if tracked:
        print(f"tracked {tracked} frames on {tracker.device}: model {tracked / max(model_seconds, 1e-9):.1f} fps, "
              f"end-to-end {tracked / max(elapsed, 1e-9):.1f} fps", file=sys.stderr)
    else:
        print("only the start frame was available; nothing to track.", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _open_output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        handle = open(path, "w", encoding="utf-8", newline="")
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}.") from None
    with handle:
        yield handle

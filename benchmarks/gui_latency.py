"""GUI responsiveness: event-loop delay while the worker propagates, time to first frame,
and scrubbing latency, on the real window with a real 720p video.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.gui_latency [--tracker lite|identity] [--frames 60] [--json]

Event-loop delay: a 5 ms precise QTimer records how late each tick fires while the
worker propagates (the GUI thread applies labels and repaints at ~30 Hz meanwhile); a
frozen window shows up as a large max. First frame: from the open call until the
frame has been painted. Scrubbing: seek to a frame and paint it, for neighbouring
frames (read-ahead cache) and random ones (decoder seeks).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SIAMCROSS_CONFIG_DIR", tempfile.mkdtemp(prefix="siamcross-bench-"))

import numpy as np  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

import siamcross_gui  # noqa: E402,F401  (PySide6 None-refcount guard)
from siamcross_gui.main_window import MainWindow  # noqa: E402
from siamcross_gui.settings import AppSettings  # noqa: E402
from siamcross_gui.testing import DEMO_VIDEO  # noqa: E402

TICK_MS = 5


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def paint(window: MainWindow) -> None:
    window.view.viewport().repaint()
    QtWidgets.QApplication.processEvents()


def measure_open(window: MainWindow, video: Path) -> float:
    start = time.perf_counter()
    if not window.open_path(video):
        raise SystemExit(f"cannot open {video}: {window.last_error}")
    paint(window)
    return (time.perf_counter() - start) * 1000.0


def measure_scrub(window: MainWindow, frames: list[int]) -> list[float]:
    times = []
    for frame in frames:
        start = time.perf_counter()
        window.controller.seek(frame)
        paint(window)
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def measure_loop_delay(app: QtWidgets.QApplication, window: MainWindow, frames: int) -> dict:
    """Lateness of a 5 ms timer while the worker propagates `frames` frames."""
    c = window.controller
    c.seek(0)
    if not c.project.tracks:
        c.draw_box((205.0, 265.0, 310.0, 280.0))
    late: list[float] = []        # before the first tracked frame (model load, worker opens the video)
    late_tracking: list[float] = []  # while frames stream in
    last = [time.perf_counter()]
    first_step: list[float] = []
    c.worker.worker.stepped.connect(lambda _step: first_step or first_step.append(time.perf_counter()))

    def tick() -> None:
        now = time.perf_counter()
        (late_tracking if first_step else late).append(max(0.0, (now - last[0]) * 1000.0 - TICK_MS))
        last[0] = now

    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    done: list[bool] = []
    c.propagationFinished.connect(lambda cancelled: done.append(cancelled))
    start = time.perf_counter()
    c.propagate("forward", stop_frame=min(c.frame_count - 1, frames))
    last[0] = time.perf_counter()
    timer.start(TICK_MS)
    while not done:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    timer.stop()
    end = time.perf_counter()
    tracking_s = end - (first_step[0] if first_step else start)
    return {"frames": frames, "startup_s": (first_step[0] - start) if first_step else float("nan"),
            "tracking_s": tracking_s, "fps": frames / tracking_s,
            "startup_ticks": len(late), "startup_late_ms_p99": percentile(late, 99),
            "startup_late_ms_max": max(late) if late else float("nan"),
            "ticks": len(late_tracking), "late_ms_median": percentile(late_tracking, 50),
            "late_ms_p99": percentile(late_tracking, 99),
            "late_ms_max": max(late_tracking) if late_tracking else float("nan"), "error": window.last_error}


def tracker_factory(kind: str):
    if kind == "identity":
        from core.tracking import IdentityTracker

        return lambda model, device: IdentityTracker()
    return None  # the app's default: SiamCrossTracker.from_pretrained(model, device)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEMO_VIDEO)
    parser.add_argument("--tracker", choices=("lite", "identity"), default="lite")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    settings = AppSettings(model="lite", device=args.device)
    window = MainWindow(settings, tracker_factory=tracker_factory(args.tracker), persist_settings=False)
    window.ask_recover = lambda recovery: False
    window.resize(1400, 900)
    window.show()
    app.processEvents()

    first_frame_ms = measure_open(window, args.video)
    n = window.controller.frame_count
    sequential = measure_scrub(window, list(range(1, min(n, 41))))
    rng = random.Random(0)
    random_frames = measure_scrub(window, [rng.randrange(n) for _ in range(30)])
    loop = measure_loop_delay(app, window, args.frames)
    window.controller.shutdown()

    info = window.controller.project.media if window.controller.project else None
    report = {
        "video": str(args.video), "tracker": args.tracker, "device": args.device,
        "first_frame_ms": first_frame_ms,
        "scrub_next_ms_median": statistics.median(sequential), "scrub_next_ms_p95": percentile(sequential, 95),
        "scrub_random_ms_median": statistics.median(random_frames),
        "scrub_random_ms_p95": percentile(random_frames, 95),
        "propagation": loop,
    }
    del info
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"GUI latency on {args.video.name} ({args.tracker} tracker, device {args.device}, "
          f"QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM')})")
    print(f"  open -> first frame painted : {first_frame_ms:8.1f} ms")
    print(f"  scrub to next frame         : median {report['scrub_next_ms_median']:6.1f} ms, "
          f"p95 {report['scrub_next_ms_p95']:6.1f} ms")
    print(f"  scrub to random frame       : median {report['scrub_random_ms_median']:6.1f} ms, "
          f"p95 {report['scrub_random_ms_p95']:6.1f} ms")
    print(f"  worker start (load model, open video): {loop['startup_s']:.1f} s; event-loop delay meanwhile "
          f"p99 {loop['startup_late_ms_p99']:.1f} ms, max {loop['startup_late_ms_max']:.1f} ms")
    print(f"  propagation of {loop['frames']} frames  : {loop['tracking_s']:.1f} s ({loop['fps']:.1f} frames/s)")
    print(f"  event-loop delay while tracking (5 ms timer, {loop['ticks']} ticks): median "
          f"{loop['late_ms_median']:.1f} ms, p99 {loop['late_ms_p99']:.1f} ms, max {loop['late_ms_max']:.1f} ms")
    if loop["error"]:
        print(f"  error: {loop['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

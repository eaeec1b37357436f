"""GUI responsiveness: event-loop delay while the worker propagates, time to first frame,
and scrubbing latency, on the real window with a real 720p video.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.gui_latency [--tracker lite|identity] [--frames 60] [--json]

Event-loop delay: a 5 ms precise QTimer records how late each tick fires while the
worker propagates (the GUI thread applies labels and repaints 10 times a second meanwhile);
a frozen window shows up as a large max. It is measured over three phases: after opening,
while the worker preloads the model (the GIL is held in torch import and weight loading);
the first propagation from the request to its first frame; and the rest of that
propagation. First frame: from the open call until the frame has been painted. Scrubbing:
seek to a frame and paint it, for neighbouring frames (read-ahead cache) and random ones
(decoder seeks). --timeline-frames N times one update of the confidence timeline (a few
frames changed, then the repaint of what changed) on an N-frame project with 4 fully tracked
tracks.
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

import numpy as np
from PySide6 import QtCore, QtWidgets

import siamcross_gui  # noqa: F401  (PySide6 None-refcount guard)
from siamcross_gui.main_window import MainWindow
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import DEMO_VIDEO

TICK_MS = 5


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def paint(window: MainWindow) -> None:
    window.view.viewport().repaint()
    QtWidgets.QApplication.processEvents()


def measure_open(window: MainWindow, video: Path) -> float:
    start = time.perf_counter()
    if not window.files.open_path(video):
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


class LoopProbe:
    """A 5 ms precise timer that records how late each tick fires (ms), into the current bucket."""

    def __init__(self) -> None:
        self.buckets: dict[str, list[float]] = {}
        self.bucket = "idle"
        self._last = time.perf_counter()
        self._timer = QtCore.QTimer()
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self, bucket: str) -> None:
        self.bucket = bucket
        self._last = time.perf_counter()
        self._timer.start(TICK_MS)

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.buckets.setdefault(self.bucket, []).append(max(0.0, (now - self._last) * 1000.0 - TICK_MS))
        self._last = now


def summary(late: list[float]) -> dict:
    return {"ticks": len(late), "p99_ms": percentile(late, 99), "max_ms": max(late) if late else float("nan")}


def measure_preload(app: QtCore.QCoreApplication, window: MainWindow, timeout_s: float = 120.0) -> dict:
    """Event-loop delay from just after opening until the worker has loaded the model.

    Before preloading existed (WorkerHost without ``preload``) nothing loads here: skipped,
    so this script also measures the commit before it.
    """
    host = window.controller.run.worker
    if not hasattr(host, "preload"):
        return {"preloads": False, "load_s": float("nan"), **summary([])}
    loaded: list[float] = []
    if host.worker._tracker is None:  # a benchmark may look inside
        host.worker.modelLoaded.connect(lambda _model: loaded.append(time.perf_counter()))
    else:
        loaded.append(time.perf_counter())
    probe = LoopProbe()
    start = time.perf_counter()
    probe.start("preload")
    while not loaded and time.perf_counter() - start < timeout_s:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    probe.stop()
    return {"preloads": True, "load_s": (loaded[0] - start) if loaded else float("nan"),
            **summary(probe.buckets.get("preload", []))}


def measure_timeline_update(window: MainWindow, frame_count: int, tracks: int = 4, repeats: int = 30) -> dict:
    """Cost of one timeline update on a long project: 3 frames of one track change, the timeline
    is updated, and Qt repaints what the update marked dirty (as the event loop would)."""
    from core.annotations.model import FrameLabel, MediaRef, Project, Provenance, Track

    rng = np.random.default_rng(0)
    project = Project(media=MediaRef(path="synthetic.mp4", kind="video", frame_count=frame_count,
                                     width=1280, height=720, fps=25.0))
    for tid in range(1, tracks + 1):
        track = Track(id=tid, label="object", color=["#ff5050", "#50ff50", "#5050ff", "#ffff50"][tid % 4])
        for f, score in enumerate(rng.random(frame_count)):
            track.frames[f] = FrameLabel(box=(10.0, 10.0, 20.0, 20.0), provenance=Provenance.TRACKED,
                                         score=float(score))
        track.frames[0] = FrameLabel(box=(10.0, 10.0, 20.0, 20.0), provenance=Provenance.MANUAL)
        project.tracks[tid] = track
    timeline = window.timeline
    timeline.refresh(project, 0.3)
    timeline.viewport().repaint()
    QtWidgets.QApplication.processEvents()
    times = []
    for i in range(repeats):
        frames = range(100 + 97 * i, 103 + 97 * i)
        track = project.tracks[1]
        for f in frames:
            track.frames[f] = track.frames[f].with_(score=float(rng.random()))
        start = time.perf_counter()
        update = getattr(timeline, "update_frames", None)
        if update is not None:
            update(project, 0.3, {1}, set(frames))
        else:  # before incremental updates: the whole timeline is rebuilt
            timeline.refresh(project, 0.3)
        QtWidgets.QApplication.processEvents()  # paints the dirty region of the scene
        times.append((time.perf_counter() - start) * 1000.0)
    return {"frames": frame_count, "tracks": tracks, "median_ms": statistics.median(times),
            "p95_ms": percentile(times, 95)}


def measure_loop_delay(app: QtCore.QCoreApplication, window: MainWindow, frames: int) -> dict:
    """Lateness of a 5 ms timer while the worker propagates `frames` frames."""
    c = window.controller
    c.seek(0)
    if c.project is not None and not c.project.tracks:
        c.draw_box((205.0, 265.0, 310.0, 280.0))
    late: list[float] = []        # before the first tracked frame (model load, worker opens the video)
    late_tracking: list[float] = []  # while frames stream in
    last = [time.perf_counter()]
    first_step: list[float] = []
    def on_step(_step: object) -> None:
        if not first_step:
            first_step.append(time.perf_counter())

    c.run.worker.worker.stepped.connect(on_step)

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
    parser.add_argument("--timeline-frames", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    settings = AppSettings(model="lite", device=args.device)
    window = MainWindow(settings, tracker_factory=tracker_factory(args.tracker), persist_settings=False)
    window.files.ask_recover = lambda recovery: False  # type: ignore[method-assign]  # no question here
    window.resize(1400, 900)
    window.show()
    app.processEvents()

    first_frame_ms = measure_open(window, args.video)
    preload = measure_preload(app, window)
    n = window.controller.frame_count
    sequential = measure_scrub(window, list(range(1, min(n, 41))))
    rng = random.Random(0)
    random_frames = measure_scrub(window, [rng.randrange(n) for _ in range(30)])
    loop = measure_loop_delay(app, window, args.frames)
    window.controller.shutdown()
    timeline = measure_timeline_update(window, args.timeline_frames) if args.timeline_frames > 0 else None

    info = window.controller.project.media if window.controller.project else None
    report = {
        "video": str(args.video), "tracker": args.tracker, "device": args.device,
        "first_frame_ms": first_frame_ms,
        "scrub_next_ms_median": statistics.median(sequential), "scrub_next_ms_p95": percentile(sequential, 95),
        "scrub_random_ms_median": statistics.median(random_frames),
        "scrub_random_ms_p95": percentile(random_frames, 95),
        "preload": preload, "propagation": loop, "timeline_update": timeline,
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
    if preload["preloads"]:
        print(f"  model preload after open    : {preload['load_s']:.1f} s; event-loop delay meanwhile "
              f"p99 {preload['p99_ms']:.1f} ms, max {preload['max_ms']:.1f} ms")
    else:
        print("  model preload after open    : none (the model loads at the first propagation)")
    print(f"  first propagation, request -> first tracked frame: {loop['startup_s']:.2f} s; event-loop delay "
          f"meanwhile p99 {loop['startup_late_ms_p99']:.1f} ms, max {loop['startup_late_ms_max']:.1f} ms")
    print(f"  propagation of {loop['frames']} frames  : {loop['tracking_s']:.1f} s ({loop['fps']:.1f} frames/s)")
    print(f"  event-loop delay while tracking (5 ms timer, {loop['ticks']} ticks): median "
          f"{loop['late_ms_median']:.1f} ms, p99 {loop['late_ms_p99']:.1f} ms, max {loop['late_ms_max']:.1f} ms")
    if timeline is not None:
        print(f"  timeline update ({timeline['frames']} frames, {timeline['tracks']} tracks, 3 frames changed, "
              f"repaint): median {timeline['median_ms']:.1f} ms, p95 {timeline['p95_ms']:.1f} ms")
    if loop["error"]:
        print(f"  error: {loop['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

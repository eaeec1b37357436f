"""End to end: propagation over a real 720p video beside the model alone; memory over a long video.

    python -m benchmarks.propagation_bench [--video PATH] [--model lite] [--targets 1 4 16] [--frames 0]
        [--placement spread clustered]
    python -m benchmarks.propagation_bench --long 10000 [--sample-every 500] [--keep-video]

End to end is what an annotator waits for: ``core.propagation.propagate`` reading frames from
``core.media.open_media`` (decode), the SiamCrossTracker (crop + model), and every step written
into an ``AnnotationStore`` with ``apply_propagated`` joined to one undo step (as the GUI does).
"Model alone" is ``track_many`` over the same frames already decoded in memory, so the ratio
model-alone time / end-to-end time says how much decode, engine and store cost on top (1.0 =
nothing). The N-target ratio is end-to-end time with N tracks / with one track. ``--placement``
puts the extra tracks spread over the frame or clustered in a crowd (track_bench's placements).

``--long N`` writes an N-frame 720p video (the shared clip looped) to a temp folder, not the
repo, propagates one track through all of it and samples this process's resident memory
(VmRSS in /proc/self/status) every ``--sample-every`` frames. Memory must be flat after
warm-up: bounded by the frame caches' caps plus the model, not growing with the video's length.

The machine may be shared: wall AND CPU time of this process are reported, with the load
average, so runs on a busy box stay comparable. Speed is never asserted in tests.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .track_bench import DEFAULT_DATA, PLACEMENTS

DEFAULT_VIDEO = DEFAULT_DATA / "videos" / "bigbuckbunny.mp4"
# The first target: the bunny-sized region in the middle of Big Buck Bunny's 720p frames.
START_BOX = (560.0, 300.0, 160.0, 140.0)
WARMUP_FRAMES = 5


@dataclass(frozen=True)
class Timing:
    """Wall and CPU seconds of one timed loop over `frames` frames."""

    frames: int
    wall_s: float
    cpu_s: float

    @property
    def wall_ms(self) -> float:
        return 1e3 * self.wall_s / max(self.frames, 1)

    @property
    def cpu_ms(self) -> float:
        return 1e3 * self.cpu_s / max(self.frames, 1)

    @property
    def fps(self) -> float:
        return 1e3 / self.wall_ms if self.wall_ms else float("inf")

    def as_dict(self) -> dict:
        return {"frames": self.frames, "wall_ms": round(self.wall_ms, 2), "cpu_ms": round(self.cpu_ms, 2),
                "fps": round(self.fps, 1)}


class Clock:
    """Wall (perf_counter) and process CPU time (both threads of torch count) of a block."""

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = time.process_time() - self._cpu

    def timing(self, frames: int) -> Timing:
        return Timing(frames, self.wall_s, self.cpu_s)


def rss_mib() -> float:
    """This process's resident memory now (VmRSS), MiB."""
    return _status_kib("VmRSS") / 1024


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (VmHWM), MiB."""
    return _status_kib("VmHWM") / 1024


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0



def make_project(source, boxes: list[tuple[float, float, float, float]]):
    """A project on `source` with one track per box, each with a manual keyframe at frame 0."""
    from core.annotations.model import FrameLabel, Project, Provenance, Track

    project = Project(media=source.to_media_ref())
    for box in boxes:
        track_id = project.new_track_id()
        project.tracks[track_id] = Track(id=track_id, frames={0: FrameLabel(box=box, provenance=Provenance.MANUAL)})
    return project


def propagate_into_store(project, source, tracker, stop_frame: int | None,
                         on_step=None, read_ahead: int | None = None) -> int:
    """Forward propagation of every track, each step written to an AnnotationStore as the GUI does."""
    from core.annotations.store import AnnotationStore
    from core.propagation import PropagationRequest, propagate
    from core.propagation.engine import DEFAULT_READ_AHEAD

    store = AnnotationStore(project)
    # threshold 0: the passes never stop on low scores, so every run does the same work
    request = PropagationRequest(track_ids=tuple(sorted(project.tracks)), direction="forward", start_frame=0,
                                 stop_frame=stop_frame, score_threshold=0.0)
    join: int | None = None
    steps = 0
    ahead = DEFAULT_READ_AHEAD if read_ahead is None else read_ahead  # None: the engine's default
    for step in propagate(project, source, tracker, request, read_ahead=ahead):
        for track_id, label in step.labels.items():
            if join is None:
                if store.apply_propagated(track_id, {step.frame: label}):
                    join = store.last_edit_id
            else:
                store.apply_propagated(track_id, {step.frame: label}, join=join)
        steps += 1
        if on_step is not None:
            on_step(step)
    return steps


def decode_all(video: Path, frames: int) -> list[np.ndarray]:
    from core.media import open_media

    with open_media(video) as source:
        count = min(frames, source.info.frame_count) if frames else source.info.frame_count
        return [source.read(i) for i in range(count)]


def model_alone(tracker, decoded: list[np.ndarray], boxes) -> Timing:
    """track_many over frames already in memory: crop + model + post-processing, nothing else."""
    states = [tracker.init_target(decoded[0], box) for box in boxes]
    for frame in decoded[1:1 + WARMUP_FRAMES]:
        tracker.track_many(frame, states)
    states = [tracker.init_target(decoded[0], box) for box in boxes]
    with Clock() as clock:
        for frame in decoded[1:]:
            tracker.track_many(frame, states)
    return clock.timing(len(decoded) - 1)


def end_to_end(tracker, video: Path, boxes, frame_limit: int, read_ahead: int | None) -> tuple[Timing, float]:
    """(propagation timing, seconds to open the video) through open_media + propagate + store."""
    from core.media import open_media

    with Clock() as opening:
        source = open_media(video)
    with source:
        stop = min(frame_limit, source.info.frame_count) - 1 if frame_limit else None
        # warm-up on a throwaway project (allocator, oneDNN primitives for this batch size)
        propagate_into_store(make_project(source, boxes), source, tracker, stop_frame=WARMUP_FRAMES,
                             read_ahead=read_ahead)
        project = make_project(source, boxes)
        with Clock() as clock:
            steps = propagate_into_store(project, source, tracker, stop_frame=stop, read_ahead=read_ahead)
    return clock.timing(steps), opening.wall_s


def bench_targets(args: argparse.Namespace) -> dict:
    from core.tracking import SiamCrossTracker

    tracker = SiamCrossTracker.from_pretrained(args.model, device=args.device)
    decoded = decode_all(args.video, args.frames)
    height, width = decoded[0].shape[:2]
    report: dict = {"video": args.video.name, "frame_size": [width, height], "frames": len(decoded),
                    "model": args.model, "device": str(tracker.device), "pass_lanes": tracker.pass_lanes, "rows": []}
    for placement in args.placement:
        for count in args.targets:
            boxes = PLACEMENTS[placement](START_BOX, count, width, height)
            alone = model_alone(tracker, decoded, boxes)
            e2e, open_s = end_to_end(tracker, args.video, boxes, len(decoded), args.read_ahead)
            report["rows"].append({"placement": placement, "targets": count,
                                   "model_alone": alone.as_dict(), "end_to_end": e2e.as_dict(),
                                   "open_s": round(open_s, 3),
                                   "ratio_wall": round(alone.wall_ms / e2e.wall_ms, 3),
                                   "ratio_cpu": round(alone.cpu_ms / e2e.cpu_ms, 3)})
    ones = {r["placement"]: r for r in report["rows"] if r["targets"] == 1}
    for row in report["rows"]:
        one = ones.get(row["placement"])
        if one:
            row["vs_one_target_wall"] = round(row["end_to_end"]["wall_ms"] / one["end_to_end"]["wall_ms"], 2)
            row["vs_one_target_cpu"] = round(row["end_to_end"]["cpu_ms"] / one["end_to_end"]["cpu_ms"], 2)
    return report


def build_long_video(clip: Path, frames: int, out: Path) -> float:
    """Write `frames` frames of `clip` looped (forwards then backwards, so no jump) to `out`; seconds taken."""
    start = time.perf_counter()
    capture = cv2.VideoCapture(str(clip))
    loop = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        loop.append(frame)
    capture.release()
    if not loop:
        raise RuntimeError(f"cannot decode {clip}")
    cycle = loop + loop[-2:0:-1]
    height, width = loop[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {out}")
    for i in range(frames):
        writer.write(cycle[i % len(cycle)])
    writer.release()
    return time.perf_counter() - start


def bench_long(args: argparse.Namespace) -> dict:
    from core.media import open_media
    from core.tracking import SiamCrossTracker

    folder = Path(tempfile.mkdtemp(prefix="siamcross-long-"))
    video = folder / f"long_{args.long}.mp4"
    # built in a child process: the decoded clip it holds must not count in this process's RSS
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        build_s = pool.submit(build_long_video, args.video, args.long, video).result()
    rss_start = rss_mib()
    tracker = SiamCrossTracker.from_pretrained(args.model, device=args.device)
    rss_model = rss_mib()
    samples: list[tuple[int, float]] = []

    def sample(step) -> None:
        if step.frame % args.sample_every == 0:
            samples.append((step.frame, rss_mib()))
            print(f"\rframe {step.frame}/{args.long} RSS {samples[-1][1]:.0f} MiB", end="", file=sys.stderr,
                  flush=True)

    try:
        with Clock() as opening:
            source = open_media(video)
        with source:
            project = make_project(source, [START_BOX])
            with Clock() as clock:
                steps = propagate_into_store(project, source, tracker, stop_frame=None, on_step=sample,
                                             read_ahead=args.read_ahead)
            frame_count = source.info.frame_count
    finally:
        print(file=sys.stderr)
        if not args.keep_video:
            video.unlink(missing_ok=True)
            folder.rmdir()
    warm = [s for s in samples if s[0] >= args.warmup]
    base = warm[0][1] if warm else float("nan")
    top = max(r for _, r in warm) if warm else float("nan")
    return {"video": str(video) if args.keep_video else f"{video.name} (deleted)", "frames": frame_count,
            "build_s": round(build_s, 1), "open_s": round(opening.wall_s, 2), "model": args.model,
            "device": str(tracker.device), "propagation": clock.timing(steps).as_dict(),
            "rss_before_model_mib": round(rss_start, 1), "rss_after_model_mib": round(rss_model, 1),
            "samples": [(f, round(r, 1)) for f, r in samples], "warmup_frames": args.warmup,
            "rss_after_warmup_mib": round(base, 1), "rss_max_after_warmup_mib": round(top, 1),
            "growth_after_warmup": round((top - base) / base, 4) if warm else None,
            "peak_rss_mib": round(peak_rss_mib(), 1)}


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def print_targets(report: dict) -> None:
    print(f"{report['model']} on {report['device']} (pass lanes: {report['pass_lanes']}), "
          f"{report['video']} {report['frame_size'][0]}x{report['frame_size'][1]}, {report['frames']} frames; "
          f"{load_line()}")
    print("model alone = track_many on decoded frames; end to end = open_media + propagate + AnnotationStore\n")
    print("| placement | targets | model alone ms (CPU ms) | end to end ms (CPU ms) | e2e fps "
          "| model/e2e wall | model/e2e CPU | vs 1 target wall | vs 1 target CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in report["rows"]:
        alone, e2e = row["model_alone"], row["end_to_end"]
        vs_wall, vs_cpu = row.get("vs_one_target_wall", float("nan")), row.get("vs_one_target_cpu", float("nan"))
        print(f"| {row['placement']} | {row['targets']} "
              f"| {alone['wall_ms']:.1f} ({alone['cpu_ms']:.1f}) "
              f"| {e2e['wall_ms']:.1f} ({e2e['cpu_ms']:.1f}) | {e2e['fps']:.1f} "
              f"| {row['ratio_wall']:.2f} | {row['ratio_cpu']:.2f} | {vs_wall:.2f} | {vs_cpu:.2f} |")
    print("\nTargets: one target >= 30 fps end to end; model/e2e >= 0.9; 16 targets <= 6x one target.")


def print_long(report: dict) -> None:
    p = report["propagation"]
    print(f"{report['model']} on {report['device']}, {report['frames']}-frame 720p video built in "
          f"{report['build_s']} s, opened in {report['open_s']} s; {load_line()}")
    print(f"propagation: {p['frames']} frames, {p['wall_ms']:.1f} ms/frame wall ({p['fps']:.1f} fps), "
          f"{p['cpu_ms']:.1f} ms/frame CPU")
    print(f"RSS: {report['rss_before_model_mib']} MiB before the model, {report['rss_after_model_mib']} MiB after it; "
          f"peak {report['peak_rss_mib']} MiB\n")
    print("| frame | RSS MiB |")
    print("|---|---|")
    for frame, rss in report["samples"]:
        print(f"| {frame} | {rss} |")
    growth = report["growth_after_warmup"]
    verdict = "n/a" if growth is None else ("flat" if growth < 0.05 else "GROWING")
    print(f"\nafter warm-up ({report['warmup_frames']} frames): {report['rss_after_warmup_mib']} MiB -> max "
          f"{report['rss_max_after_warmup_mib']} MiB, growth "
          f"{'n/a' if growth is None else f'{100 * growth:.1f}%'} ({verdict}; target < 5%)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--model", default="lite")
    parser.add_argument("--device", default="cpu", help="cpu (default: the target machine), auto, cuda")
    parser.add_argument("--frames", type=int, default=0, help="frames of the video to use (0 = all)")
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--placement", nargs="+", choices=sorted(PLACEMENTS), default=["spread"],
                        help="where the extra targets go: spread over the frame, or clustered in a crowd")
    parser.add_argument("--long", type=int, default=0, metavar="N", help="memory run over an N-frame video")
    parser.add_argument("--sample-every", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=1000, help="frames before memory must be flat")
    parser.add_argument("--keep-video", action="store_true")
    parser.add_argument("--read-ahead", type=int, default=None,
                        help="frames the engine decodes ahead in a background thread (default: the engine's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.video.exists():
        print(f"{args.video} is missing (set SIAMCROSS_SHARED_DATA); nothing measured.")
        return 0
    report = bench_long(args) if args.long else bench_targets(args)
    report["load_average"] = [round(v, 2) for v in os.getloadavg()]
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.long:
        print_long(report)
    else:
        print_targets(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

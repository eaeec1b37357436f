"""Speed beside OpenCV's trackers: ours (lite) and MIL / NanoTrack on the same 720p frames, one target.

    python -m benchmarks.peer_speed [--video PATH] [--frames 60] [--trackers lite mil nano-v1 nano-v2]

Each tracker runs twice over the same frames, exactly as in benchmarks.propagation_bench:
alone (``track_many`` on frames already decoded) and end to end (open_media + propagate +
AnnotationStore). Every peer implements the same MultiTargetTracker protocol, so the engine
around it is identical and only the tracker differs. Wall and CPU time of this process are
both reported, with the load average, because the machine may be shared.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from benchmarks.propagation_bench import DEFAULT_VIDEO, START_BOX, decode_all, end_to_end, load_line, model_alone

DEFAULT_TRACKERS = ["lite", "mil", "nano-v1", "nano-v2"]


def make_tracker(name: str, device: str):
    """Ours by model name ('lite', 'r50', a path), else an OpenCV peer; None with a reason if unavailable."""
    from core.evaluation.peers import PEER_KINDS, canonical_kind, make_peer, peer_unavailable_reason

    try:
        kind = canonical_kind(name)
    except Exception:  # not a peer name: one of our models
        kind = None
    if kind in PEER_KINDS:
        reason = peer_unavailable_reason(kind)
        return (None, reason) if reason else (make_peer(kind), None)
    from core.tracking import SiamCrossTracker

    return SiamCrossTracker.from_pretrained(name, device=device), None


def bench(args: argparse.Namespace) -> dict:
    decoded = decode_all(args.video, args.frames)
    height, width = decoded[0].shape[:2]
    report: dict = {"video": args.video.name, "frame_size": [width, height], "frames": len(decoded), "rows": {}}
    for name in args.trackers:
        tracker, reason = make_tracker(name, args.device)
        if tracker is None:
            report["rows"][name] = {"unavailable": reason}
            continue
        alone = model_alone(tracker, decoded, [START_BOX])
        e2e, _ = end_to_end(tracker, args.video, [START_BOX], len(decoded), None)
        report["rows"][name] = {"alone": alone.as_dict(), "end_to_end": e2e.as_dict()}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--trackers", nargs="+", default=DEFAULT_TRACKERS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.video.exists():
        print(f"{args.video} is missing (set SIAMCROSS_SHARED_DATA); nothing measured.")
        return 0
    report = bench(args)
    report["load_average"] = [round(v, 2) for v in os.getloadavg()]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['video']} {width_height(report)}, {report['frames']} frames, one target; {load_line()}\n")
    print("| tracker | alone ms (CPU ms) | alone fps | end to end ms (CPU ms) | e2e fps |")
    print("|---|---|---|---|---|")
    for name, row in report["rows"].items():
        if "unavailable" in row:
            print(f"| {name} | unavailable: {row['unavailable']} | | | |")
            continue
        alone, e2e = row["alone"], row["end_to_end"]
        print(f"| {name} | {alone['wall_ms']:.1f} ({alone['cpu_ms']:.1f}) | {alone['fps']:.1f} "
              f"| {e2e['wall_ms']:.1f} ({e2e['cpu_ms']:.1f}) | {e2e['fps']:.1f} |")
    return 0


def width_height(report: dict) -> str:
    return f"{report['frame_size'][0]}x{report['frame_size'][1]}"


if __name__ == "__main__":
    raise SystemExit(main())

"""Does the review queue find the wrong boxes? Forward runs, ranked, measured against the truth.

    python -m benchmarks.review_bench [--model lite] [--data ../shared/data/seqs] [--runs DIR]

Each sequence is propagated forward from its first ground-truth box through the propagation
engine, as the app does (a pass stops after --patience frames scoring below 0.30; --no-stop
runs to the end), and the frames it labels are ranked together by the review queue's
rule (core.review.rule: the percentile rank of the box spread plus that of 1 - score) and, as
baselines, by the raw score alone and by the box spread alone. Printed: how many labelled frames
overlap the truth by less than IoU 0.5, what share of them the first 5% and 10% of each ranking
hold, the most any ranking could hold there, the share of the head that is wrong, and the share
of wrong stretches (one correction each in the app) with a frame in the head.

Nothing is fitted: the rule was chosen on ../shared/data/train (--data ../shared/data/train
measures it there); seqs/ is where it is measured. --runs DIR keeps each sequence's run (a
project JSON per model, mode and sequence) and reuses it, so a second look costs no tracking;
its folder names carry RUNS_VERSION, so runs kept before the labels stored the box spread are
not reused.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from core.datasets.loader import read_otb
from core.evaluation.review_queue import (
    WRONG_IOU,
    HeadShare,
    ReviewRows,
    TrackedSequence,
    head_share,
    queue_ranking,
    review_rows,
    score_ranking,
    spread_ranking,
    track_forward,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("SIAMCROSS_SHARED_DATA", ROOT.parent / "shared" / "data"))
NO_STOP = 10 ** 9
FRACTIONS = (0.05, 0.10)
RUNS_VERSION = 2
"""Bumped when what a kept run stores changes (2: the labels' box spread)."""


def model_tag(model: str) -> str:
    """The model's file name and a hash of its bytes: kept runs of a replaced model are not reused."""
    from core.model.weights import DEFAULT_FILES

    path = DEFAULT_FILES.get(model, Path(model))
    if not path.is_file():
        return model.replace(os.sep, "_")
    return f"{path.stem}-{hashlib.sha1(path.read_bytes()).hexdigest()[:10]}"


def run_folder(folder: Path, model: str, device: str, patience: int, runs_dir: Path | None,
               only: list[str] | None, max_frames: int | None) -> list[TrackedSequence]:
    """Forward runs over every OTB sequence in folder (kept ones reused from runs_dir)."""
    from core.annotations.io import load_project, save_project

    sequences = [s for s in read_otb(folder) if only is None or s.name in only]
    tracker = None
    tag = f"{model_tag(model)}-p{patience}-m{max_frames or 0}-v{RUNS_VERSION}"
    runs = []
    for sequence in sequences:
        kept = runs_dir / tag / f"{folder.name}-{sequence.name}.json" if runs_dir else None
        if kept is not None and kept.exists():
            project = load_project(kept)
            truth = np.asarray(sequence.boxes[:max_frames] if max_frames else sequence.boxes, dtype=np.float64)
            stops = tuple(project.meta.get("stops", "").split("\n")) if project.meta.get("stops") else ()
            runs.append(TrackedSequence(sequence.name, project.tracks[1], truth, stops))
            continue
        if tracker is None:
            from core.tracking import SiamCrossTracker

            tracker = SiamCrossTracker.from_pretrained(model, device=device)
        began = time.perf_counter()
        run = track_forward(sequence, tracker, patience=patience, max_frames=max_frames)
        print(f"  {folder.name}/{sequence.name}: {len(run.track.frames)} of {run.frame_count} frames labelled "
              f"in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        if kept is not None:
            from core.annotations.model import Project

            kept.parent.mkdir(parents=True, exist_ok=True)
            save_project(Project(tracks={1: run.track}, meta={"stops": "\n".join(run.stops)}), kept)
        runs.append(run)
    return runs


def _row(name: str, share: HeadShare) -> str:
    return (f"| {name} | {share.fraction:.0%} ({share.size} frames) | {share.held:.1%} | {share.best:.1%} "
            f"| {share.precision:.1%} | {share.stretches:.1%} |")


def report(rows: ReviewRows, runs: list[TrackedSequence]) -> str:
    lines = [
        f"{len(rows.wrong)} labelled frames in {len(runs)} sequences; {int(rows.wrong.sum())} "
        f"({rows.wrong.mean():.1%}) overlap the truth by less than IoU {WRONG_IOU}.",
        "",
        "| ranking | head of the queue | wrong frames it holds | most possible | head that is wrong "
        "| wrong stretches found |",
        "|---|---|---|---|---|---|",
    ]
    queue = queue_ranking(rows)
    rankings = (("review queue", queue), ("raw score", score_ranking(rows)),
                ("box spread alone", spread_ranking(rows)))
    for fraction in FRACTIONS:
        for name, ranking in rankings:
            lines.append(_row(name, head_share(ranking, rows.wrong, rows.groups, rows.frames, fraction)))
    lines += ["", "| sequence | frames | labelled | wrong | wrong in the queue's first 5% | stop |",
              "|---|---|---|---|---|---|"]
    head = set(queue[:int(round(0.05 * len(rows.wrong)))].tolist())
    for g, run in enumerate(runs):
        inside = rows.groups == g
        wrong = int(rows.wrong[inside].sum())
        held = sum(1 for k in np.flatnonzero(inside & rows.wrong) if k in head)
        stop = run.stops[0] if run.stops else "reached the end"
        lines.append(f"| {run.name} | {run.frame_count} | {len(run.track.frames)} | {wrong} | {held} | {stop} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lite")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA / "seqs", help="where the queue is measured")
    parser.add_argument("--patience", type=int, default=3, help="frames below --threshold before a pass stops")
    parser.add_argument("--no-stop", action="store_true", help="run every pass to the end of its sequence")
    parser.add_argument("--only", default=None, help="comma-separated sequence names")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--runs", type=Path, default=None, help="folder to keep and reuse the runs in")
    args = parser.parse_args(argv)
    patience = NO_STOP if args.no_stop else args.patience
    only = args.only.split(",") if args.only else None
    mode = "to the end of each sequence" if args.no_stop else f"stopping after {args.patience} frames below 0.30"
    command = "python -m benchmarks.review_bench " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"# Review queue, model {args.model}, forward passes {mode}\n")
    print(f"Command: `{command}`. Machine: {platform.machine()}, {os.cpu_count()} CPU threads.\n")
    runs = run_folder(args.data, args.model, args.device, patience, args.runs, only, args.max_frames)
    print(f"## {args.data.name}/ (queue: percentile rank of the box spread + percentile rank of 1 - score, "
          "all frames ranked together)\n")
    print(report(review_rows(runs), runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

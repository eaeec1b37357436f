"""``siamcross propagate``: pre-label a project's tracks headless, saving atomically.

Progress (frames and frames/s) goes to stderr on one self-overwriting line. Ctrl-C stops
between frames and the frames already done are saved before the command exits. Every
written frame is also appended to the autosave journal (``<out>.journal``), so even a
killed process (SIGKILL, power cut) is recovered to its last completed frame by
``core.annotations.journal.recover`` or by opening the project in the app.

Human labels (manual keyframes and imported labels) are never tracked over: every pass
stops at them, and one line says how many imported labels were kept and where the tracks
stopped. ``--overwrite`` is the explicit choice to re-track imported labels (manual
keyframes stay). Before it changes anything the command says which frames it may change.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..errors import UserError
from ..propagation import PropagationPreview, PropagationRequest, apply_step, preview_changes, propagate
from .progress import ProgressLine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project JSON file (saved in place)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--track", type=int, action="append", help="track id (repeat for several)")
    which.add_argument("--all", action="store_true", help="every track (the default)")
    parser.add_argument("--direction", choices=("forward", "backward", "fill"), default="forward")
    parser.add_argument("--from", dest="start", type=int, default=None,
                        help="first frame, 1-based (default: each track's first keyframe for forward/fill, "
                             "its last keyframe for backward)")
    parser.add_argument("--to", dest="stop", type=int, default=None, help="last frame, 1-based (inclusive)")
    parser.add_argument("--method", choices=("tracker", "linear", "guided"), default="tracker")
    parser.add_argument("--model", default="lite", help="lite, r50 or a weights file")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--threshold", type=float, default=0.3,
                        help="a track stops after --patience frames scoring below this")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--fusion", choices=("agreement", "score", "nearest"), default="agreement")
    parser.add_argument("--out", type=Path, default=None, help="save here instead of over PROJECT")
    parser.add_argument("--overwrite", action="store_true",
                        help="track over imported labels and replace them (without it every pass stops at them; "
                             "manual keyframes are never replaced)")
    parser.add_argument("--adapt", choices=("on", "off"), default="off",
                        help="adapt each pass to its track's human labels nearest to it (tracks with one "
                             "keyframe are not adapted)")


class PropagationProgress:
    """`label done/total  fps` on the shared progress line."""

    def __init__(self, label: str, stream=None) -> None:
        self.label = label
        self.line = ProgressLine(stream)

    def update(self, done: int, total: int, force: bool = False) -> None:
        if self.line.due(force):
            fps = done / max(time.monotonic() - self.line.began, 1e-9)
            self.line.show(f"{self.label}: {done}/{total} frames  {fps:6.1f} frames/s", force=True)

    def end(self) -> None:
        self.line.end()


def _open_source(project, project_path: Path):
    """The project's media, checked against its fingerprint; load_project already resolved its
    path against the project file, so the working directory does not matter."""
    from ..media import open_media_ref

    if project.media is None:
        raise UserError(f"{project_path.name} names no video or image folder to propagate on.")
    return open_media_ref(project.media)


def _requests(project, track_ids: tuple[int, ...], args: argparse.Namespace) -> list[PropagationRequest]:
    """One request per start frame: --from for all tracks, else each track's first human label
    (last for backward); fill without --from covers the whole media."""
    stop = None if args.stop is None else args.stop - 1
    starts: dict[int, list[int]] = {}
    for track_id in track_ids:
        if args.start is not None:
            start = args.start - 1
        elif args.direction == "fill":
            start = 0
        else:
            keys = project.tracks[track_id].human_frames()
            if not keys:
                raise UserError(f"Track {track_id} has no keyframe or imported label; "
                                "draw a box first or pass --from.")
            start = keys[-1] if args.direction == "backward" else keys[0]
        starts.setdefault(start, []).append(track_id)
    return [PropagationRequest(tuple(ids), args.direction, start, stop, args.threshold, args.method,
                               patience=args.patience, fusion=args.fusion, overwrite=args.overwrite,
                               adapt=args.adapt == "on")
            for start, ids in sorted(starts.items())]


def _preview(project, requests: list[PropagationRequest], frame_count: int) -> PropagationPreview:
    """What all requests may change, as one preview (they cover different tracks)."""
    parts = [preview_changes(project, request, frame_count) for request in requests]
    return PropagationPreview(requests[0], tuple(track for part in parts for track in part.tracks))


def _kept_line(plan: PropagationPreview) -> str | None:
    kept = plan.kept_text()
    return None if kept is None else f"{kept[0].upper()}{kept[1:]}; pass --overwrite to replace them."


def _tracker(model: str, device: str):
    from ..tracking import SiamCrossTracker

    return SiamCrossTracker.from_pretrained(model, device=device)


def _apply_and_journal(project, step, journal, overwrite: bool = False) -> tuple[int, int]:
    """apply_step, then one journal line with the frames it wrote (nothing when it wrote none);
    returns (frames written, imported labels among them replaced)."""
    from ..annotations.edits import FrameOp
    from ..annotations.model import Provenance

    before = {track_id: project.tracks[track_id].frames.get(step.frame) for track_id in step.labels}
    written = apply_step(project, step, overwrite)
    ops = [FrameOp(track_id, step.frame, old, project.tracks[track_id].frames.get(step.frame))
           for track_id, old in before.items() if project.tracks[track_id].frames.get(step.frame) is not old]
    if ops:
        journal.record("propagate", ops)
    replaced = sum(1 for op in ops if op.before is not None and op.before.provenance is Provenance.IMPORTED)
    return written, replaced


def _recovered_or_loaded(path: Path, load_project):
    """The project file, or, when a killed run or a crashed app left edits in its autosave
    journal, the project with those edits replayed (said on stderr): rerunning resumes."""
    from ..annotations.journal import read_journal

    recovery = read_journal(path)
    if recovery is None:
        return load_project(path)
    print(f"siamcross propagate: recovered {recovery.edits} unsaved edit(s) from {path.name}.journal.",
          file=sys.stderr)
    return recovery.project


def run(args: argparse.Namespace) -> int:
    from ..annotations.io import load_project, save_project
    from ..annotations.journal import Journal

    if not args.project.is_file():
        raise UserError(f"Project file not found: {args.project}.")
    project = _recovered_or_loaded(args.project, load_project)
    track_ids = tuple(args.track) if args.track else tuple(sorted(project.tracks))
    if not track_ids:
        raise UserError(f"{args.project.name} has no tracks to propagate.")
    missing = [t for t in track_ids if t not in project.tracks]
    if missing:
        raise UserError(f"Track {missing[0]} does not exist in {args.project.name}.")
    locked = [t for t in track_ids if project.tracks[t].locked]
    if locked:  # a locked track is finished: never re-tracked (apply_step would refuse it anyway)
        track_ids = tuple(t for t in track_ids if t not in locked)
        if not track_ids:
            raise UserError(f"Track {locked[0]} is locked{' (as are the others chosen)' if len(locked) > 1 else ''}; "
                            "unlock it to propagate it.")
        print(f"Skipping locked track(s): {', '.join(map(str, locked))}.", file=sys.stderr)
    requests = _requests(project, track_ids, args)
    out = args.out or args.project
    written = replaced = 0
    stops: list[str] = []  # where passes stopped on low scores, and why: said at the end
    with _open_source(project, args.project) as source:
        plan = _preview(project, requests, source.info.frame_count)
        if not plan.frame_count:  # every track ends where it starts (at a human label): no model to load
            requests = []
        tracker = _tracker(args.model, args.device) if args.method != "linear" and requests else None
        journal = Journal(out)
        try:
            journal.attach(project)  # fails now, not after an hour of tracking, if out's folder is unwritable
        except OSError as error:
            raise UserError(f"Cannot write beside {out}: {error.strerror or error}.") from None
        # said once nothing can fail on a user's mistake any more (its error stays the only line)
        print(f"propagate {args.direction}: "
              f"{'may change ' + plan.changes_text() if requests else 'nothing to change'}.", file=sys.stderr)
        bar = PropagationProgress(f"propagate {args.direction}")
        try:
            for request in requests:  # Ctrl-C raises KeyboardInterrupt between or inside frames
                for step in propagate(project, source, tracker, request):
                    done, swapped = _apply_and_journal(project, step, journal, args.overwrite)
                    written += done
                    replaced += swapped
                    stops.extend(stop.message() for stop in step.stops)
                    bar.update(step.done, step.total, force=step.done == step.total)
        except KeyboardInterrupt:
            bar.end()
            save_project(project, out)
            journal.discard()
            print(f"siamcross propagate: cancelled; saved {written} frame labels to {out}.", file=sys.stderr)
            raise
        except BaseException:
            bar.end()  # the error that follows gets a line of its own, not the tail of the progress line
            if journal.lines_written:
                journal.close()  # an error mid-run: the journal keeps every frame done for recovery
            else:
                journal.discard()
            raise
        bar.end()
    save_project(project, out)
    journal.discard()
    print(f"Wrote {written} frame labels for {len(track_ids)} track(s) to {out}.", file=sys.stderr)
    for stop in stops:
        print(f"{stop}.", file=sys.stderr)
    if args.overwrite:
        print(f"Replaced {replaced} imported label{'' if replaced == 1 else 's'} (--overwrite).", file=sys.stderr)
    else:
        kept = _kept_line(plan)
        if kept is not None:
            print(kept, file=sys.stderr)
    return 0

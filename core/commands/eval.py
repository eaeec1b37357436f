"""``siamcross eval``: one-pass evaluation of our tracker and OpenCV's peers in one run.

Every tracker sees the same sequences and frames; the table (or ``--json``) goes to stdout,
progress with frames/s to stderr, so ``siamcross eval ... --json > report.json`` is clean.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import UserError
from ..evaluation.ope import OPEProgress, SequenceResult, load_eval_sequences, run_ope
from ..evaluation.peers import PEER_TITLES, available_peers, canonical_kind, make_peer, peer_unavailable_reason
from ..evaluation.report import detail_table, report_dict, score_runs, side_by_side_table
from ..tracking.protocol import MultiTargetTracker
from .progress import ProgressLine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", type=Path, help="folder of labelled sequences")
    parser.add_argument("--format", dest="layout", choices=("otb", "got10k", "lasot"), default=None,
                        help="dataset layout (detected when left out)")
    parser.add_argument("--model", default="lite",
                        help="our tracker: lite, r50 or a weights file; 'none' runs the peers only")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--peers", default="auto",
                        help="comma-separated OpenCV peers (mil,kcf,csrt,nano-v1,nano-v2); "
                             "'auto' = every one this OpenCV can run, 'none' = no peers")
    parser.add_argument("--peers-dir", type=Path, default=None,
                        help="folder with nanotrack/v1 and nanotrack/v2 ONNX pairs (default ../shared/peers)")
    parser.add_argument("--only", default=None, help="comma-separated sequence names")
    parser.add_argument("--split", type=Path, default=None,
                        help="text file with one sequence name per line (e.g. a held-out split)")
    parser.add_argument("--max-frames", type=int, default=None, help="evaluate only the first N frames of each")
    parser.add_argument("--json", action="store_true", help="print a JSON report on stdout instead of tables")
    parser.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    parser.add_argument("--plots", type=Path, default=None, help="write success/precision plot PNGs here")


class StderrProgress:
    """One self-overwriting stderr line: tracker, sequence, frames, overall share, frames/s."""

    def __init__(self, stream=None) -> None:
        self.line = ProgressLine(stream)

    def __call__(self, p: OPEProgress) -> None:
        self.line.show(f"{p.tracker}: {p.sequence} {p.frame}/{p.frames}  "
                       f"{100.0 * p.done_frames / max(p.total_frames, 1):5.1f}% of frames  {p.fps:7.1f} fps",
                       force=p.frame >= p.frames)

    def end(self) -> None:
        self.line.end()


def _names_from(only: str | None, split: Path | None) -> list[str] | None:
    names: list[str] | None = None
    if split is not None:
        if not split.is_file():
            raise UserError(f"Split file not found: {split}.")
        names = [line.strip() for line in split.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if only:
        wanted = [n.strip() for n in only.split(",") if n.strip()]
        if names is not None:
            outside = [n for n in wanted if n not in names]
            if outside:
                raise UserError(f"Sequence {outside[0]} is not in the split file {split}.")
        names = wanted
    return names


def _our_tracker(model: str, device: str) -> tuple[str, Callable[[], MultiTargetTracker]] | None:
    """(display name, factory) for --model; 'identity' is the no-network stand-in for checks."""
    if model.lower() == "none":
        return None
    if model.lower() == "identity":
        from ..tracking import IdentityTracker

        return "identity", IdentityTracker
    name = f"siamcross-{model}" if model in ("lite", "r50") else f"siamcross-{Path(model).stem}"

    def build() -> MultiTargetTracker:
        from ..tracking import SiamCrossTracker

        return SiamCrossTracker.from_pretrained(model, device=device)

    return name, build


def _peer_factories(spec: str, peers_dir: Path | None) -> tuple[list[tuple[str, Callable]], list[str]]:
    """Chosen peers as (name, factory), plus notes on those that cannot run here."""
    notes: list[str] = []
    if spec.lower() == "none":
        return [], notes
    if spec.lower() == "auto":
        kinds = available_peers(peers_dir)
        notes += [f"{PEER_TITLES[k]} skipped: {peer_unavailable_reason(k, peers_dir)}"
                  for k in PEER_TITLES if k not in kinds]
    else:
        kinds = []
        for raw in spec.split(","):
            if not raw.strip():
                continue
            kind = canonical_kind(raw)
            reason = peer_unavailable_reason(kind, peers_dir)
            if reason is None:
                kinds.append(kind)
            else:
                notes.append(f"{PEER_TITLES[kind]} skipped: {reason}")
    return [(PEER_TITLES[k], lambda k=k: make_peer(k, peers_dir=peers_dir)) for k in dict.fromkeys(kinds)], notes


def chosen_trackers(model: str, device: str, peers: str, peers_dir: Path | None = None
                    ) -> tuple[list[tuple[str, Callable[[], MultiTargetTracker]]], list[str]]:
    """(name, factory) of our tracker then the peers, plus notes on peers that cannot run here."""
    trackers = []
    ours = _our_tracker(model, device)
    if ours is not None:
        trackers.append(ours)
    peer_list, notes = _peer_factories(peers, peers_dir)
    trackers += peer_list
    if not trackers:
        raise UserError("Nothing to evaluate: --model none and no peer can run.")
    return trackers, notes


def run(args: argparse.Namespace) -> int:
    if args.max_frames is not None and args.max_frames < 2:
        raise UserError("--max-frames must be at least 2 (the init frame and one tracked frame).")
    sequences = load_eval_sequences(args.data_dir, args.layout, _names_from(args.only, args.split))
    trackers, notes = chosen_trackers(args.model, args.device, args.peers, args.peers_dir)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)

    progress = StderrProgress()
    runs: dict[str, list[SequenceResult]] = {}
    try:
        for name, factory in trackers:
            runs[name] = run_ope(factory, sequences, max_frames=args.max_frames, progress=progress,
                                 tracker_name=name)
            progress.end()
    finally:
        progress.end()

    reports = score_runs(runs, sequences)
    settings = {"data_dir": str(args.data_dir), "layout": args.layout, "model": args.model, "device": args.device,
                "max_frames": args.max_frames, "sequences": [s.name for s in sequences]}
    if args.plots is not None:
        from ..evaluation.plots import write_plots

        for path in write_plots(reports, args.plots):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        json.dump(report_dict(reports, notes, settings), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(detail_table(reports, markdown=args.markdown))
        print()
        print(side_by_side_table(reports, markdown=args.markdown))
    return 0

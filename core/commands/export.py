"""`siamcross export PROJECT.json --format F --out DIR [--images]`: a project's labels in a
dataset format, validated after writing; --images also writes the frames (progress on stderr)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.formats import FORMATS, export_project
from core.formats.project_json import load

EXPORTABLE = [name for name in FORMATS if name != "project"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project JSON file")
    parser.add_argument("--format", required=True, choices=EXPORTABLE, help="format to write")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--images", action="store_true", help="also write the frame images from the media")


def progress_bar(done: int, total: int) -> None:
    """A one-line bar on stderr, redrawn with carriage returns at each whole percent."""
    if total and done < total and (100 * done // total) == (100 * (done - 1) // total):
        return
    width = 30
    filled = int(width * done / total) if total else width
    end = "\n" if done >= total else ""
    print(f"\rwriting frames [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr,
          flush=True)


def run(args: argparse.Namespace) -> int:
    project = load(args.project)
    written = export_project(project, args.format, args.out, images=args.images,
                             progress=progress_bar if args.images else None)
    print(f"Exported {len(project.tracks)} tracks as {args.format}: {', '.join(str(p) for p in written)}",
          file=sys.stderr)
    return 0

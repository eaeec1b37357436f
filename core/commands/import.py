"""`siamcross import SRC --format F [--media M] --out PROJECT.json`: labels in a dataset format
become a project (foreign labels get provenance `imported`; our own exports come back exactly)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.formats import FORMATS, import_project
from core.formats.project_json import save

IMPORTABLE = [name for name in FORMATS if name != "project"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", type=Path, help="dataset file or sequence folder to import")
    parser.add_argument("--format", default="auto", choices=[*IMPORTABLE, "auto"],
                        help="format of SRC (default: auto, detected from the files)")
    parser.add_argument("--media", type=Path, default=None,
                        help="video or image folder the labels belong to (default: the one found in SRC)")
    parser.add_argument("--out", type=Path, required=True, help="project JSON file to write")


def run(args: argparse.Namespace) -> int:
    project = import_project(args.src, args.format, media=args.media)
    save(project, args.out)
    frames = sum(len(t.frames) for t in project.tracks.values())
    print(f"Imported {len(project.tracks)} tracks, {frames} frame labels -> {args.out}", file=sys.stderr)
    return 0

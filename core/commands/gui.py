"""`siamcross gui [VIDEO|FOLDER|PROJECT.json]`: open the annotator window.

Qt is imported only here, lazily, so `core` stays importable (and testable) without a display.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import MediaError, UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", help="a video, an image folder, a project .json or a labelled sequence")


def run(args: argparse.Namespace) -> int:
    if args.path is not None and not Path(args.path).exists():
        raise MediaError(f"{args.path} does not exist.")
    try:
        from siamcross_gui.app import run_app
    except ImportError as error:
        missing = error.name or "a GUI package"  # the Qt binding or pyqtgraph: the engine never names Qt itself
        raise UserError(f"The GUI cannot start because {missing} is not installed "
                        "(run `make run` or `pip install -e .` to install it).") from error
    return run_app(args.path)

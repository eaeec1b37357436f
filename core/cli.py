"""The ``siamcross`` command: one dispatcher, one module per subcommand in core/commands.

Each module ``core.commands.<name>`` defines ``add_arguments(parser)`` and
``run(args) -> int``. User mistakes (``UserError``) print one line on stderr and exit 2;
Ctrl-C exits 130 and keeps what was already saved.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .errors import UserError

SUBCOMMANDS: dict[str, str] = {
    "gui": "open the annotator window",
    "track": "track one box through a video and write the boxes as CSV",
    "import": "turn labels in a dataset format into a project",
    "propagate": "propagate tracks of a project with the tracker",
    "export": "write a project's labels in a dataset format",
    "eval": "one-pass evaluation of the tracker (and peers) on sequences",
    "simulate": "annotation-effort simulator on sequences with ground truth",
    "train": "train a SiamCross model",
    "bench": "parameters, GFLOPs and per-stage timings of the models",
}


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the `selected` subcommand's module is imported (None: all of them).

    Command modules import torch, OpenCV or Qt; loading just the one asked for keeps
    `siamcross export` from paying seconds of start-up for the others.
    """
    parser = argparse.ArgumentParser(prog="siamcross", description="SiamCross Annotator")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if selected in (None, name):
            module = importlib.import_module(f"core.commands.{name}")
            module.add_arguments(sub_parser)
            sub_parser.set_defaults(_module=module, _name=name)
    return parser


def _selected_command(argv: list[str]) -> str:
    """The first argument that names a subcommand ('' when there is none, e.g. `siamcross -h`)."""
    return next((arg for arg in argv if arg in SUBCOMMANDS), "")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_selected_command(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except UserError as error:
        print(f"siamcross {args._name}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"siamcross {args._name}: cancelled.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The `siamcross` dispatcher: every subcommand is listed, and only the one asked for is loaded."""
from __future__ import annotations

import subprocess
import sys

from core.cli import SUBCOMMANDS

CHECK_IMPORTS = """
import sys
from core.cli import main
try:
    main(["export", "--help"])
except SystemExit:
    pass
heavy = [m for m in ("torch", "PySide6", "core.commands.train", "core.commands.bench") if m in sys.modules]
print("loaded:", ",".join(heavy))
"""


def test_a_light_command_does_not_load_the_others():
    done = subprocess.run([sys.executable, "-c", CHECK_IMPORTS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "loaded:"


def test_every_subcommand_has_a_module_with_arguments():
    for name in SUBCOMMANDS:
        done = subprocess.run([sys.executable, "-m", "core.cli", name, "--help"], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and "usage: siamcross " + name in done.stdout, (name, done.stderr)


def test_no_command_prints_help_and_fails():
    done = subprocess.run([sys.executable, "-m", "core.cli"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "COMMAND" in done.stdout

"""The real `siamcross` command line from tests: in a subprocess, exactly as a user sees it.

Every `siamcross` process imports torch at start-up (about 3 s of CPU), so most cases run
through ``run_cli_batch``: ONE subprocess that calls the same ``core.cli.main`` the console
script calls, once per case, with file descriptors 1 and 2 redirected per case, so what
is checked is every byte a user would see in the terminal, FFmpeg's own C-level log
included. A few tests still start the installed ``siamcross`` script itself (``run_siamcross``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from support.paths import PROJECT_ROOT, SIAMCROSS

SUBPROCESS_TIMEOUT_S = 300


@dataclass(frozen=True)
class CliResult:
    """What one `siamcross ...` run left: its exit code and everything written to fd 1 and 2."""

    code: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.replace("\r", "\n").splitlines() if line.strip()]


_BATCH_DRIVER = textwrap.dedent(
    """
    import json, os, sys, traceback
    from core.cli import main

    cases = json.loads(open(sys.argv[1], encoding="utf-8").read())
    codes = []
    for case in cases:
        sys.stdout.flush(); sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        out = os.open(case["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(case["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1); os.dup2(err, 2)
        try:
            try:
                code = main(case["argv"])  # exactly what the console script runs
            except SystemExit as stop:  # argparse and sys.exit
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            except BaseException:  # what the interpreter would print before dying with exit 1
                traceback.print_exc()
                code = 1
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(saved[0], 1); os.dup2(saved[1], 2)
            for fd in (*saved, out, err):
                os.close(fd)
        codes.append(int(code or 0))
    print(json.dumps(codes))
    """
)


def run_cli_batch(argvs: list[list[str]], workdir: Path, env: dict[str, str] | None = None) -> list[CliResult]:
    """Run each argv through core.cli.main in one fresh subprocess; one CliResult per argv."""
    workdir.mkdir(parents=True, exist_ok=True)
    cases = [{"argv": argv, "stdout": str(workdir / f"{i}.out"), "stderr": str(workdir / f"{i}.err")}
             for i, argv in enumerate(argvs)]
    spec = workdir / "cases.json"
    spec.write_text(json.dumps(cases), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _BATCH_DRIVER, str(spec)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=SUBPROCESS_TIMEOUT_S, env={**os.environ, **(env or {})})
    assert done.returncode == 0, f"the batch driver itself failed:\n{done.stdout}\n{done.stderr}"
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    return [CliResult(code, Path(case["stdout"]).read_text(errors="replace"),
                      Path(case["stderr"]).read_text(errors="replace")) for code, case in zip(codes, cases)]


def run_siamcross(argv: list[str], cwd: Path | None = None, timeout: float = SUBPROCESS_TIMEOUT_S) -> CliResult:
    """The installed console script, exactly as a user types it."""
    done = subprocess.run([str(SIAMCROSS), *argv], cwd=cwd or PROJECT_ROOT, capture_output=True, text=True,
                          timeout=timeout)
    return CliResult(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(result: CliResult, command: str, *phrases: str) -> None:
    """Exit 2, exactly one line on stderr that starts with 'siamcross <command>: ', no traceback."""
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything, everything
    assert result.code == 2, f"exit {result.code}: {everything}"
    assert len(result.stderr_lines) == 1, f"expected one stderr line, got:\n{result.stderr}"
    line = result.stderr_lines[0]
    assert line.startswith(f"siamcross {command}: "), line
    assert len(line) > len(f"siamcross {command}: ") + 10, f"the sentence says nothing: {line!r}"
    for phrase in phrases:
        assert phrase.lower() in line.lower(), f"{phrase!r} not in {line!r}"

"""Helpers for the reliability suite: the real CLI in a subprocess, bad media made on the fly,
file-tree snapshots. (No tests here; the name only keeps it among the reliability files.)

Every `siamcross` process imports torch at start-up (about 3 s of CPU), so most cases run
through ``run_cli_batch``: ONE subprocess that calls the same ``core.cli.main`` the console
script calls, once per case, with file descriptors 1 and 2 redirected per case, so what
is checked is every byte a user would see in the terminal, FFmpeg's own C-level log
included. A few tests still start the installed ``siamcross`` script itself.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.annotations.io import save_project
from core.annotations.model import FrameLabel, MediaRef, Project, Provenance, Track

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_VIDEO = PROJECT_ROOT / "resources" / "demo" / "bigbuckbunny.mp4"
SIAMCROSS = Path(sys.executable).with_name("siamcross")
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


# --- media made on the fly (nothing copied from ../shared) -------------------------------------
def write_video(path: Path, frames: int, size: tuple[int, int] = (96, 64), fps: float = 25.0) -> Path:
    """A small mp4v video whose content moves (a green square sliding right)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(synthetic_frame(i, width, height))
    writer.release()
    return path


def synthetic_frame(i: int, width: int, height: int) -> np.ndarray:
    frame = np.full((height, width, 3), (30 + 3 * i) % 200, np.uint8)
    x = (2 * i) % max(width - 20, 1)
    cv2.rectangle(frame, (x, height // 4), (x + 16, height // 4 + 16), (0, 255, 0), -1)
    return frame


def write_image_folder(folder: Path, frames: int, size: tuple[int, int] = (96, 64), start: int = 1) -> Path:
    """frames PNG images named 1.png, 2.png, ... (natural order differs from text order past 9)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        cv2.imwrite(str(folder / f"{start + i}.png"), synthetic_frame(i, *size))
    return folder


def damaged_copies(source: Path, folder: Path) -> dict[str, Path]:
    """Broken variants of a real H.264 mp4: truncated, header only, unknown codec, empty."""
    data = source.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    variants = {
        "truncated": data[: len(data) // 3],
        "header_only": data[:2048],
        "unsupported_codec": data.replace(b"avc1", b"zzzz"),
        "empty": b"",
        "text": b"this is a text file, not a video\n" * 20,
    }
    paths = {}
    for name, payload in variants.items():
        path = folder / f"{name}.mp4"
        path.write_bytes(payload)
        paths[name] = path
    return paths


# --- projects -------------------------------------------------------------------------------
def project_on(media_path: Path, frame_count: int, width: int = 96, height: int = 64, tracks: int = 1,
               fingerprint: str = "") -> Project:
    """A project over media_path with `tracks` tracks, each with a manual keyframe on frame 0."""
    media = MediaRef(str(media_path), "images" if media_path.is_dir() else "video", frame_count, width, height, 25.0,
                     fingerprint)
    project = Project(media=media)
    for track_id in range(1, tracks + 1):
        box = (4.0 + 10 * track_id, 8.0, 16.0, 16.0)
        project.tracks[track_id] = Track(track_id, "object", "#00ff00",
                                         frames={0: FrameLabel(box, Provenance.MANUAL)})
    project.next_track_id = tracks + 1
    return project


def save_real_project(media_path: Path, path: Path, tracks: int = 1) -> Path:
    """Save a project whose MediaRef comes from opening the media (fingerprint and all)."""
    from core.media import open_media

    with open_media(media_path) as source:
        ref = source.to_media_ref()
    project = project_on(media_path, ref.frame_count, ref.width, ref.height, tracks)
    project.media = ref
    save_project(project, path)
    return path


# --- file trees -----------------------------------------------------------------------------
def tree_digest(root: Path) -> dict[str, str]:
    """relative path -> sha1 of every file under root (folders as 'dir'), for before/after compares."""
    digest = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        digest[rel] = "dir" if path.is_dir() else hashlib.sha1(path.read_bytes()).hexdigest()
    return digest

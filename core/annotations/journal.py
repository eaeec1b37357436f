"""Append-only autosave journal: a crashed session is recovered to its last finished edit.

``<project>.journal`` holds one JSON header line (what the journal applies to) and then
one line per edit or per propagated frame, each carrying the after-state of the ops the
edit made (see ``edits.py``). Every line is flushed to the OS at once, so killing the
process (SIGKILL) loses at most the line being written; fsync (which protects against a
power cut, and costs ~ms) runs at most every ``fsync_interval`` seconds. Saving the
project checkpoints (truncates) the journal. Recovery replays the lines over the saved
project, stopping at a torn last line.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import FormatError

from .edits import FrameOp, Op, ProjectOp, ReviewOp, TrackAttrs, TrackOp, apply_op
from .io import (
    label_from_dict,
    label_to_dict,
    project_file_bytes,
    project_from_bytes,
    project_from_dict,
    project_to_dict,
)
from .media_paths import from_file
from .model import Project

JOURNAL_SCHEMA = "siamcross-journal"
JOURNAL_VERSION = 1
DEFAULT_FSYNC_INTERVAL = 0.2


def journal_path(project_path: str | os.PathLike[str]) -> Path:
    return Path(str(project_path) + ".journal")


class Journal:
    """The autosave journal of one project file; the store calls ``record`` after each edit."""

    def __init__(self, project_path: str | os.PathLike[str], fsync_interval: float = DEFAULT_FSYNC_INTERVAL) -> None:
        self.project_path = Path(project_path)
        self.path = journal_path(self.project_path)
        self.fsync_interval = fsync_interval
        self._handle: Any = None
        self._last_fsync = 0.0
        self.lines_written = 0

    def attach(self, project: Project) -> None:
        """Start a fresh journal for this project state (called by AnnotationStore).

        When the state is exactly the saved file, the header names the file by hash;
        otherwise (never saved, or just recovered) it embeds a snapshot of the project, whose
        media path is kept as it is in memory.
        """
        snapshot = project_file_bytes(project, self.project_path)
        try:
            saved = self.project_path.read_bytes()
        except OSError:
            saved = None
        if saved == snapshot:
            header: dict[str, Any] = {"base_sha1": hashlib.sha1(saved).hexdigest()}
        else:
            header = {"base_project": project_to_dict(project)}
        self._start(header)

    def checkpoint(self, saved_sha1: str, project_path: str | os.PathLike[str] | None = None) -> None:
        """After a save: truncate, recording the hash of the file just written (Save As may move the journal)."""
        if project_path is not None and Path(project_path) != self.project_path:
            self.close()
            try:
                self.path.unlink()
            except OSError:
                pass
            self.project_path = Path(project_path)
            self.path = journal_path(self.project_path)
        self._start({"base_sha1": saved_sha1})

    def record(self, kind: str, ops: Sequence[Op]) -> None:
        """Append one edit's ops as one line, flushed now and fsynced at most every fsync_interval."""
        if self._handle is None:
            raise RuntimeError("journal is not attached to a project")
        line = json.dumps({"edit": kind, "ops": [op_to_dict(op) for op in ops]}, allow_nan=False)
        self._handle.write(line + "\n")
        self._handle.flush()
        self.lines_written += 1
        now = time.monotonic()
        if now - self._last_fsync >= self.fsync_interval:
            os.fsync(self._handle.fileno())
            self._last_fsync = now

    def sync(self) -> None:
        """fsync now (call when the app goes idle so the last lines also survive a power cut)."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._last_fsync = time.monotonic()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None

    def discard(self) -> None:
        """Close and delete the journal (the user closed the project cleanly)."""
        self.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _start(self, header: dict[str, Any]) -> None:
        self.close()
        header = {"schema": JOURNAL_SCHEMA, "version": JOURNAL_VERSION, **header}
        self._handle = open(self.path, "w", encoding="ascii")
        self._handle.write(json.dumps(header, allow_nan=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._last_fsync = time.monotonic()
        self.lines_written = 0


# -- (de)serialising ops ------------------------------------------------------------------------
def op_to_dict(op: Op) -> dict[str, Any]:
    """The after-state of an op (replay needs nothing else)."""
    if isinstance(op, FrameOp):
        return {"op": "frame", "track": op.track_id, "frame": op.frame,
                "label": None if op.after is None else label_to_dict(op.after)}
    if isinstance(op, TrackOp):
        attrs: dict[str, object] | None = None
        if op.after is not None:
            attrs = {"label": op.after.label, "color": op.after.color, "hidden": op.after.hidden}
            if op.after.name or op.after.locked or op.after.attributes:
                attrs.update(name=op.after.name, locked=op.after.locked, attributes=dict(op.after.attributes))
        return {"op": "track", "track": op.track_id, "attrs": attrs}
    if isinstance(op, ReviewOp):
        return {"op": "review", "frame": op.frame, "value": bool(op.after)}
    value = list(op.after) if op.name == "classes" else op.after
    return {"op": op.name, "value": value}


def op_from_dict(data: dict[str, Any]) -> Op:
    kind = data["op"]
    if kind == "frame":
        label = None if data["label"] is None else label_from_dict(data["label"], "journal line")
        return FrameOp(int(data["track"]), int(data["frame"]), None, label)
    if kind == "track":
        attrs = data["attrs"]
        after = None if attrs is None else TrackAttrs(
            str(attrs["label"]), str(attrs["color"]), bool(attrs["hidden"]), str(attrs.get("name", "")),
            bool(attrs.get("locked", False)),
            tuple(sorted((str(k), str(v)) for k, v in dict(attrs.get("attributes", {})).items())))
        return TrackOp(int(data["track"]), None, after)
    if kind == "review":
        return ReviewOp(int(data["frame"]), not bool(data["value"]), bool(data["value"]))
    if kind == "next_track_id":
        return ProjectOp(kind, None, int(data["value"]))
    if kind == "classes":
        return ProjectOp(kind, None, tuple(str(c) for c in data["value"]))
    raise ValueError(f"unknown op {kind!r}")


# -- recovery ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recovery:
    """What a journal holds: the replayed project, how many edits, and whether the last line was torn."""

    project: Project
    edits: int
    torn_tail: bool


def read_journal(project_path: str | os.PathLike[str]) -> Recovery | None:
    """Replay the journal over its base; None when there is no journal, it is stale, or it holds no edits."""
    path = journal_path(project_path)
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    lines = raw.split(b"\n")
    # Everything after the last newline is a line the crash interrupted.
    complete, tail = lines[:-1], lines[-1]
    if not complete:
        return None
    try:
        header = json.loads(complete[0])
    except ValueError:
        return None
    if not isinstance(header, dict) or header.get("schema") != JOURNAL_SCHEMA:
        return None
    if header.get("version", 0) > JOURNAL_VERSION:
        raise FormatError(f"{path.name} was written by a newer SiamCross and cannot be recovered here.")
    project = _base_project(Path(project_path), header)
    if project is None:
        return None
    edits = 0
    torn = bool(tail.strip())
    for line in complete[1:]:
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            ops = [op_from_dict(op) for op in entry["ops"]]
        except (ValueError, KeyError, TypeError, FormatError):
            torn = True  # a damaged line: keep what came before it, trust nothing after it
            break
        for op in ops:
            if isinstance(op, FrameOp) and op.track_id not in project.tracks:
                continue
            apply_op(project, op)
        edits += 1
    if edits == 0:
        return None
    return Recovery(project, edits, torn)


def recover(project_path: str | os.PathLike[str]) -> Project | None:
    """The project as it was at the last journalled edit, or None if there is nothing to recover."""
    recovery = read_journal(project_path)
    return None if recovery is None else recovery.project


def _base_project(project_path: Path, header: dict[str, Any]) -> Project | None:
    if "base_project" in header:
        return project_from_dict(header["base_project"], "journal snapshot")
    try:
        saved = project_path.read_bytes()
    except OSError:
        return None
    if hashlib.sha1(saved).hexdigest() != header.get("base_sha1"):
        return None  # the file was saved after the journal started: the journal is stale
    return from_file(project_from_bytes(saved, project_path.name), project_path)

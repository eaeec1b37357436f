"""Exports that replace the previous export of their format in a folder, and nothing else.

Without this, exporting into a folder that holds an older export left its files behind: the
folder of a track deleted since still looked like a sequence to every reader (a ghost). Now an
export is written into a fresh staging folder inside the target (same file system, so moving is
a rename, and nothing is ever written outside the target), validated there, then moved into place
file by file with os.replace. The manifest ``.siamcross_export`` (JSON) records, per format, every
file the last export of that format wrote, with its size and mtime. Files of the previous export
of the same format that the new one does not write again are removed, and so are the folders that
this leaves empty. A file someone changed since we wrote it is kept (with a warning), and files the
user put in the folder are never in the manifest, so they are never removed. Exports of other
formats into the same folder keep their files.

A failed export leaves the folder as it was. A cancelled one (Cancelled or Ctrl-C while frames
are written) keeps what it wrote, as before: labels complete, frames so far.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Cancelled
from ..temp_files import clean_stale_temps, is_stale, temp_path
from .safe_paths import inside

log = logging.getLogger(__name__)

MANIFEST = ".siamcross_export"
SCHEMA = "siamcross-export-manifest"
STAGING_PREFIX = ".siamcross-staging-"
Progress = Callable[[int, int], None]
FileStamp = tuple[int, int]  # size, mtime_ns


@dataclass
class Manifest:
    """Per format, the files (relative posix paths) its last export wrote, with their stamps."""

    exports: dict[str, dict[str, FileStamp]] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path) -> Manifest:
        """The folder's manifest; an absent or unreadable one is empty (then nothing is removed)."""
        try:
            data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return cls()
        exports: dict[str, dict[str, FileStamp]] = {}
        if isinstance(data, dict) and data.get("schema") == SCHEMA and isinstance(data.get("exports"), dict):
            for fmt, files in data["exports"].items():
                if isinstance(files, dict):
                    exports[str(fmt)] = {str(rel): (int(s[0]), int(s[1])) for rel, s in files.items()
                                         if isinstance(s, list) and len(s) == 2
                                         and all(isinstance(v, int) and not isinstance(v, bool) for v in s)}
        return cls(exports)

    def write(self, root: Path) -> None:
        path = root / MANIFEST
        clean_stale_temps(path)
        tmp = temp_path(path)
        text = json.dumps({"schema": SCHEMA, "version": 1,
                           "exports": {f: {r: list(s) for r, s in sorted(files.items())}
                                       for f, files in sorted(self.exports.items())}}, indent=1)
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class CommitReport:
    """What a commit did: files moved in, stale files removed, stale files kept because changed."""

    written: tuple[str, ...]
    removed: tuple[str, ...]
    kept_changed: tuple[str, ...]


def staged_export(target: Path, fmt: str, write: Callable[[Path, Progress | None], list[Path]],
                  progress: Progress | None = None) -> list[Path]:
    """Run write(staging, progress) and swap its files into target; returns write's paths under target."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=target))
    frames_started = False

    def staged_progress(done: int, total: int) -> None:
        nonlocal frames_started
        frames_started = True  # frames come after the label files: those are complete now
        if progress is not None:
            progress(done, total)

    try:
        try:
            written = write(staging, staged_progress)
        except (Cancelled, KeyboardInterrupt):
            if frames_started:
                commit(staging, target, fmt)
            raise
        commit(staging, target, fmt)
        return [_retarget(p, staging, target) for p in written]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def commit(staging: Path, target: Path, fmt: str) -> CommitReport:
    """Move every file of staging into target, then remove the stale files of fmt's last export."""
    files = sorted(p for p in staging.rglob("*") if p.is_file() and not p.is_symlink())
    rels = [p.relative_to(staging).as_posix() for p in files]
    destinations = [inside(target, *Path(rel).parts) for rel in rels]  # refuses links out of target first
    stamps = {rel: _stamp(p) for rel, p in zip(rels, files)}
    manifest = Manifest.read(target)
    previous = manifest.exports.get(fmt, {})
    for other, owned in manifest.exports.items():  # a file written again now belongs to fmt only
        if other != fmt:
            for rel in stamps:
                owned.pop(rel, None)
    manifest.exports[fmt] = {**previous, **stamps}  # a crash while moving still knows both
    manifest.write(target)
    for source, destination in zip(files, destinations):
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, destination)
    removed, kept = [], []
    for rel in sorted(set(previous) - set(stamps)):
        outcome = _remove_if_unchanged(target, rel, previous[rel])
        if outcome is True:
            removed.append(rel)
        elif outcome is False:
            kept.append(rel)
    _prune_empty_folders(target, removed)
    manifest.exports[fmt] = stamps
    manifest.exports = {f: owned for f, owned in manifest.exports.items() if owned}
    manifest.write(target)
    if kept:
        log.warning("Kept %d file(s) of the previous %s export that were changed since it (%s).", len(kept), fmt,
                    ", ".join(kept[:3]))
    return CommitReport(tuple(rels), tuple(removed), tuple(kept))


def remove_stale_staging(target: Path) -> list[Path]:
    """Staging folders that a killed export left in target (their process gone, or an hour old)."""
    removed = []
    for entry in os.scandir(target):
        if not entry.name.startswith(STAGING_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        pid_text = entry.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if is_stale(Path(entry.path), int(pid_text) if pid_text.isdigit() else None):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def _stamp(path: Path) -> FileStamp:
    info = path.lstat()
    return info.st_size, info.st_mtime_ns


def _remove_if_unchanged(target: Path, rel: str, stamp: FileStamp) -> bool | None:
    """True: removed. False: kept, someone changed it. None: already gone (or not ours to touch)."""
    parts = Path(rel).parts
    try:
        folder = inside(target, *parts[:-1]) if len(parts) > 1 else target.resolve()
    except Exception:  # a link planted since points out of the folder: never follow it
        return False
    path = folder / parts[-1]
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or (info.st_size, info.st_mtime_ns) != stamp:
        return False
    path.unlink()
    return True


def _prune_empty_folders(target: Path, removed: list[str]) -> None:
    """Remove the folders (below target) that only held removed files, deepest first."""
    root = target.resolve()
    folders = {root.joinpath(*Path(rel).parts[:n]) for rel in removed for n in range(1, len(Path(rel).parts))}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()  # only an empty folder goes; a link or a folder with user files stays
        except OSError:
            pass


def _retarget(path: Path, staging: Path, target: Path) -> Path:
    for base, new_base in ((staging, target), (staging.resolve(), target.resolve())):
        try:
            return new_base / Path(path).relative_to(base)
        except ValueError:
            continue
    return Path(path)

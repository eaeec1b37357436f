"""Temporary files of atomic writes: one naming pattern, and the removal of those a killed writer left.

An atomic write puts its bytes in ``.<name>[tag].<pid>.tmp`` beside the target and renames that
over the target; a writer killed in between leaves the temp file behind. The next save or open of
the same target removes such leftovers, and only those: names of exactly this pattern for this
target, whose writing process is gone (or that are older than ``STALE_AFTER_S``, for a process id
the system has reused since). A temp file a live writer may still hold is never touched.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

STALE_AFTER_S = 3600.0
_cleaned: set[tuple[str, tuple[str, ...]]] = set()
_cleaned_lock = threading.Lock()


def temp_path(path: Path, tag: str = "") -> Path:
    """The temp file beside ``path`` that this process writes before renaming it over ``path``."""
    return path.with_name(f".{path.name}{tag}.{os.getpid()}.tmp")


def process_alive(pid: int) -> bool:
    """True unless the process is known to be gone (unknown counts as alive: never remove too much)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows; rely on age there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, owned by someone else
        return True
    return True


def is_stale(path: Path, pid: int | None, now: float | None = None) -> bool:
    """A leftover: its writer is gone, or it is older than STALE_AFTER_S (or has no pid and is that old)."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except OSError:
        return False
    if age > STALE_AFTER_S:
        return True
    return pid is not None and not process_alive(pid)


def clean_stale_temps(path: Path, tags: Iterable[str] = ("",), legacy_names: Iterable[str] = (),
                      once: bool = True) -> list[Path]:
    """Remove the stale temp files of ``path`` (pattern ``.<name><tag>.<pid>.tmp``); returns them.

    legacy_names: exact names an older version used without a pid (removed by age only).
    once: scan a folder once per process and target (leftovers come from processes that died
    before this one started; a folder of many frames is not listed at every autosave).
    """
    path = Path(path)
    tags = tuple(tags)
    legacy = set(legacy_names)
    key = (str(path.resolve()), tags)
    if once:
        with _cleaned_lock:
            if key in _cleaned:
                return []
            _cleaned.add(key)
    pattern = re.compile(rf"\.{re.escape(path.name)}(?:{'|'.join(re.escape(t) for t in tags)})\.(\d+)\.tmp")
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None and entry.name not in legacy:
            continue
        candidate = Path(entry.path)
        if not entry.is_file(follow_symlinks=False):
            continue
        if is_stale(candidate, int(match.group(1)) if match else None):
            try:
                candidate.unlink()
            except OSError:
                continue  # a read-only folder: leave it, the save or open itself decides what fails
            removed.append(candidate)
    if removed:
        log.info("Removed %d temp file(s) a killed save left beside %s", len(removed), path.name)
    return removed

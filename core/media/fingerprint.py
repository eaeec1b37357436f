"""Cheap, stable fingerprints so a project notices when its media file was swapped.

Hashing a whole 4 GB video on every open is too slow; the size plus the first and last
megabyte catch re-encodes, truncation and swapped files. mtime is left out on purpose:
copying a project to another disk must not make it look like different media.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

SAMPLE_BYTES = 1 << 20


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """sha1 of the size and the first and last MiB of a file, prefixed with the algorithm."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha1(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(SAMPLE_BYTES))
        if size > SAMPLE_BYTES:
            handle.seek(max(SAMPLE_BYTES, size - SAMPLE_BYTES))
            digest.update(handle.read(SAMPLE_BYTES))
    return "sha1:" + digest.hexdigest()


def folder_fingerprint(files: Sequence[Path]) -> str:
    """sha1 over the ordered names and sizes of the frames plus the content of the first and last."""
    digest = hashlib.sha1(str(len(files)).encode())
    for file in files:
        digest.update(file.name.encode("utf-8", "surrogateescape"))
        digest.update(str(file.stat().st_size).encode())
    for file in (files[0], files[-1]) if files else ():
        digest.update(file_fingerprint(file).encode())
    return "sha1:" + digest.hexdigest()

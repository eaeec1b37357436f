"""Process settings that make CPU inference fast on a small, shared machine.

- OpenMP threads that sleep when idle (OMP_WAIT_POLICY=PASSIVE). With the default
  spinning, a busy machine (a GUI thread, a decoder, other processes) made a ``track()``
  many times slower than on a quiet one; sleeping threads give the cores back. libgomp reads
  the variable when torch loads it, so it must be set before torch is imported; a user's
  setting wins.
- malloc that keeps freed blocks for reuse (glibc mallopt). By default every frame's
  large activations were mmap-ed and unmapped again, paying page faults and system time
  on every frame; a 64 MiB mmap threshold keeps them.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 64 << 20
_TRIM_THRESHOLD_BYTES = 128 << 20
_malloc_tuned = False


def prefer_sleeping_threads() -> None:
    """OMP_WAIT_POLICY=PASSIVE unless the user set a policy (call before importing torch)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; False where not glibc.

    Leaves a user's MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ alone.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return True
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ \
            or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES) == 1 and ok
    except (OSError, AttributeError):  # musl or another libc without mallopt
        return False
    _malloc_tuned = ok
    if not ok:
        log.debug("mallopt refused the thresholds; memory is released as usual")
    return ok

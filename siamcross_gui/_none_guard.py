"""Work around a PySide6 6.12 binding bug: every void-returning Qt call drops one reference to None.

Under CPython < 3.12 None is an ordinary refcounted object, so a few thousand calls such
as ``processEvents()`` or ``QWidget.update()`` (pyqtgraph makes many per frame) bring its
count to zero and the interpreter aborts with "none_dealloc: deallocating None". Python
3.12+ makes None immortal and needs nothing. We give None a reference count so large
(2**40) that no session can exhaust it; this changes nothing else. Remove it when
PySide6 is fixed (tests/test_gui_none_guard.py shows whether the leak is still there).
"""
from __future__ import annotations

import ctypes
import sys

_EXTRA_REFERENCES = 1 << 40
_applied = False


def keep_none_alive() -> bool:
    """Apply once per process; True when applied now (only on CPython < 3.12)."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += _EXTRA_REFERENCES
    _applied = True
    return True

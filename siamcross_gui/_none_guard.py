"""Work around a PySide6 6.12 binding bug: every void-returning Qt call drops one reference to None,
and every ``Signal.emit`` drops one reference to the bool it returns (True or False).

Under CPython < 3.12 None, True and False are ordinary refcounted objects, so a few
thousand calls such as ``processEvents()`` or ``QWidget.update()`` (pyqtgraph makes many
per frame), or a few thousand emitted signals (the worker emits one per propagated
frame), bring a count to zero and the interpreter aborts with "none_dealloc" or
"bool_dealloc" (tests/test_soak_propagation.py hit it after ~2,400 frames). Python 3.12+
makes them immortal and needs nothing. We give each a reference count so large (2**40)
that no session can exhaust it; this changes nothing else. Remove it when PySide6 is
fixed (tests/test_reliability_gui.py shows whether the leak is still there).
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
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _EXTRA_REFERENCES
    _applied = True
    return True

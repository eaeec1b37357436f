"""Cancellation shared between the worker that propagates and whoever asked for it.

A thread-safe flag, checked by the engine between frames: cancelling stops within one
frame and everything already yielded stays valid (nothing is rolled back).
"""
from __future__ import annotations

import threading


class CancelToken:
    """Set once by the GUI (or Ctrl-C in the CLI); read by the propagation loop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled})"

"""OpenMP threads that sleep when idle, set before torch is first imported.

On a 2-core machine shared with a GUI thread, a video decoder or other processes,
OpenMP's default spinning starves them and itself: measured on the shared 2-core
build machine under load, a Lite ``track()`` took 0.8-5 s (CPU 0.3-1.5 s) with the
default policy and 36-40 ms with PASSIVE. libgomp reads the variable when torch
loads it, so this only helps when called first; a user's own setting wins.
"""
from __future__ import annotations

import os


def prefer_sleeping_threads() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

"""Trackers: SiamCross (init / track / many targets in one pass) and a fast identity stand-in.

``SiamCrossTracker`` is imported lazily so that code needing only the results or the
identity tracker (pipeline tests, format tools) does not pay for importing torch.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .runtime import prefer_sleeping_threads

prefer_sleeping_threads()  # first thing any import of core.tracking does, before torch

from .protocol import MultiTargetTracker  # noqa: E402
from .result import ResponseMaps, TrackResult  # noqa: E402
from .simple import IdentityTracker  # noqa: E402

if TYPE_CHECKING:
    from .tracker import SiamCrossTracker, TargetState, TrackerOptions

__all__ = ["SiamCrossTracker", "TargetState", "TrackerOptions", "TrackResult", "ResponseMaps", "IdentityTracker",
           "MultiTargetTracker"]


def __getattr__(name: str):
    if name in ("SiamCrossTracker", "TargetState", "TrackerOptions"):
        from . import tracker

        return getattr(tracker, name)
    raise AttributeError(f"module 'core.tracking' has no attribute {name!r}")

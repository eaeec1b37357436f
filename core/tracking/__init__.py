"""Trackers: SiamCross (init / track / many targets in one pass) and a fast identity stand-in.

``SiamCrossTracker`` (tracker.py, with ``TrackerOptions``) reads a step as crops (crops.py, the
windows of search.py) -> the network runner (runtime/: device, inference preparation, passes,
GPU fallback) -> the decision (postprocess.py) -> each target's ``TargetState`` (state.py).
Per-target adaptation to a person's keyframes: adaptation.py (the maths) and adapting.py (the
network's side). The interface the engine depends on is protocol.py; results are result.py;
input checks inputs.py; the identity stand-in simple.py.

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

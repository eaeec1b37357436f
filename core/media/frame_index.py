"""Which timestamp belongs to which frame index: the key to exact seeking.

Two ways to know it. ``ScannedIndex`` decodes the whole file once and records every
frame's timestamp (exact count, damaged frames found, variable frame rate measured).
``GridIndex`` is for long constant-rate videos where a full decode at open would take
minutes: the header's count and rate are trusted only after probes across the file land
on the constant-rate grid and the last frame is where the header says.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

TIMESTAMP_TOLERANCE_MS = 1e-3


@dataclass(frozen=True)
class ScannedIndex:
    """Slots from a full decode; a None slot is a damaged frame (inferred from a timestamp gap)."""

    slots: tuple[float | None, ...]
    identifies: bool  # timestamps strictly increase, so they can name frames
    _decoded_ts: list[float] = field(default_factory=list, repr=False, compare=False)
    _decoded_slot: list[int] = field(default_factory=list, repr=False, compare=False)

    @staticmethod
    def from_timestamps(decoded: list[float]) -> "ScannedIndex":
        identifies = strictly_increasing(decoded)
        slots = _with_gaps(decoded) if identifies else list(decoded)
        index = ScannedIndex(tuple(slots), identifies)
        index._decoded_ts.extend(t for t in slots if t is not None)
        index._decoded_slot.extend(i for i, t in enumerate(slots) if t is not None)
        return index

    @property
    def count(self) -> int:
        return len(self.slots)

    @property
    def damaged(self) -> tuple[int, ...]:
        return tuple(i for i, t in enumerate(self.slots) if t is None)

    @property
    def decoded_timestamps(self) -> list[float]:
        return self._decoded_ts

    def is_damaged(self, index: int) -> bool:
        return self.slots[index] is None

    def slot_of(self, msec: float) -> int | None:
        if not self.identifies:
            return None
        ts = self._decoded_ts
        i = bisect.bisect_left(ts, msec - TIMESTAMP_TOLERANCE_MS)
        if i < len(ts) and abs(ts[i] - msec) <= TIMESTAMP_TOLERANCE_MS:
            return self._decoded_slot[i]
        return None


@dataclass(frozen=True)
class GridIndex:
    """Constant frame rate verified by probes: frame k is at first_ms + k * interval_ms."""

    first_ms: float
    interval_ms: float
    count: int
    identifies: bool = True
    damaged: tuple[int, ...] = ()

    @property
    def tolerance_ms(self) -> float:
        # container time bases quantise pts (29.97 fps is 33.3667 ms): allow a quarter frame
        return min(1.0, self.interval_ms / 4)

    def is_damaged(self, index: int) -> bool:
        return False  # unknown until read: a damaged frame is reported when stepping overshoots it

    def slot_of(self, msec: float) -> int | None:
        k = int(round((msec - self.first_ms) / self.interval_ms))
        if 0 <= k < self.count and abs(self.first_ms + k * self.interval_ms - msec) <= self.tolerance_ms:
            return k
        return None


def strictly_increasing(timestamps: list[float]) -> bool:
    """Timestamps identify frames only if strictly increasing (some containers report 0s)."""
    return all(b > a for a, b in zip(timestamps, timestamps[1:]))


def _with_gaps(decoded: list[float]) -> list[float | None]:
    """Decoded timestamps with None slots where the gap to the next one shows frames were dropped."""
    if len(decoded) < 3:
        return list(decoded)
    interval = float(np.median(np.diff(decoded)))
    slots: list[float | None] = [decoded[0]]
    for previous, current in zip(decoded, decoded[1:]):
        missing = int(round((current - previous) / interval)) - 1 if interval > 0 else 0
        slots.extend([None] * max(0, missing))
        slots.append(current)
    return slots


def frame_rate(timestamps: list[float], header_fps: float) -> tuple[float, bool, str]:
    """(average fps, variable?, note). Trust the header only when the timestamps agree with it."""
    if len(timestamps) < 2 or not strictly_increasing(timestamps):
        if header_fps > 0:
            return header_fps, False, ""
        return 30.0, False, "The video has no frame rate; 30 fps is assumed."
    deltas = np.diff(np.asarray(timestamps, dtype=np.float64))
    median = float(np.median(deltas))
    average_fps = 1000.0 * (len(timestamps) - 1) / (timestamps[-1] - timestamps[0])
    irregular = np.abs(deltas - median) > max(1.5, 0.1 * median)
    # A few long gaps are dropped (damaged) frames, not a variable rate: ignore whole multiples.
    multiples = np.abs(deltas / median - np.round(deltas / median)) < 0.1
    if bool(np.any(irregular & ~multiples)):
        note = (
            f"Variable frame rate: frame intervals range from {deltas.min():.1f} to {deltas.max():.1f} ms; "
            f"fps is the average."
        )
        return average_fps, True, note
    regular_fps = 1000.0 / median
    if header_fps > 0 and abs(header_fps - regular_fps) <= 0.01 * header_fps:
        return header_fps, False, ""
    return regular_fps, False, ""

"""Which timestamp belongs to which frame index, and where the keyframes are.

Exact seeking identifies every decoded frame by its timestamp, so the index maps
timestamps to slots. It is built either from a full decode (exact count, damaged frames
found as gaps, variable frame rate measured) or, for long videos, from a packet-level
pass that reads the container without decoding (milliseconds for hours of video) and is
then checked by decoding the first and last frames. Keyframe slots (from the packet pass)
let a read step forward instead of seeking when no keyframe lies between.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

TIMESTAMP_TOLERANCE_MS = 1e-3


@dataclass(frozen=True)
class FrameIndex:
    """Slots in presentation order; a None slot is a damaged frame (a gap in the decoded timestamps)."""

    slots: tuple[float | None, ...]
    identifies: bool  # timestamps strictly increase, so they can name frames
    source: str  # "decode" (full decode at open) or "packets" (container packets, probed)
    _decoded_ts: list[float] = field(default_factory=list, repr=False, compare=False)
    _decoded_slot: list[int] = field(default_factory=list, repr=False, compare=False)

    @staticmethod
    def build(timestamps: list[float], source: str, infer_gaps: bool = False) -> FrameIndex:
        """Index of these timestamps; infer_gaps only when decoding failed mid-file (else a VFR gap is real)."""
        identifies = strictly_increasing(timestamps)
        slots = _with_gaps(timestamps) if identifies and infer_gaps else list(timestamps)
        index = FrameIndex(tuple(slots), identifies, source)
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
        """The slot whose timestamp is msec, or None (unknown timestamp or timestamps unusable)."""
        if not self.identifies:
            return None
        ts = self._decoded_ts
        i = bisect.bisect_left(ts, msec - TIMESTAMP_TOLERANCE_MS)
        if i < len(ts) and abs(ts[i] - msec) <= TIMESTAMP_TOLERANCE_MS:
            return self._decoded_slot[i]
        return None


@dataclass(frozen=True)
class PacketScan:
    """What the container says without decoding: presentation timestamps and keyframe timestamps."""

    timestamps: list[float]  # sorted (packets arrive in decode order)
    keyframe_timestamps: list[float]


def keyframe_slots(index: FrameIndex, packets: PacketScan | None) -> list[int] | None:
    """Sorted keyframe slots, or None when the packets do not agree with the index."""
    if packets is None or not index.identifies:
        return None
    slots = [index.slot_of(t) for t in packets.keyframe_timestamps]
    if not slots or any(s is None for s in slots):
        return None
    return sorted(set(s for s in slots if s is not None))


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

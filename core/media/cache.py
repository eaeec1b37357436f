"""A byte-bounded LRU of decoded frames with read-ahead in the direction of travel.

Playback and propagation read frames in order; decoding them ahead in a background
thread hides decode time, and remembering recent ones makes scrubbing back free. The
bound is in BYTES, not frames: a 4K frame is 25 MB, so "keep 200 frames" would be 5 GB.
Cached frames are returned read-only, because a caller drawing on a shared frame
would corrupt it for everyone else (copy it first: ``frame.copy()``).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from core.errors import MediaError

from .source import FrameSource

DEFAULT_MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class CacheStats:
    """Counters for benchmarks and tests; bytes_used never exceeds max_bytes."""

    hits: int
    misses: int
    frames: int
    bytes_used: int
    max_bytes: int
    read_ahead_loaded: int


class FrameCache:
    """Thread-safe ``get(index)`` over one FrameSource, which it serialises access to.

    Direction is inferred from consecutive gets (or set with ``set_direction``); after each
    get the next ``read_ahead`` frames in that direction are decoded in the background.
    """

    def __init__(self, source: FrameSource, max_bytes: int = DEFAULT_MAX_BYTES, read_ahead: int = 8) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self._source = source
        self._max_bytes = int(max_bytes)
        frame_bytes = max(1, source.info.width * source.info.height * 3)
        # Leave room for the frame being shown plus the one just requested.
        self._read_ahead = max(0, min(int(read_ahead), self._max_bytes // frame_bytes - 2))
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._source_lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._plan: list[int] = []
        self._busy = False
        self._deferred_backward: int | None = None
        self._last_index: int | None = None
        self._direction = 1
        self._closed = False
        self._hits = self._misses = self._loaded_ahead = 0
        self._worker: threading.Thread | None = None
        if self._read_ahead > 0:
            self._worker = threading.Thread(target=self._read_ahead_loop, name="frame-read-ahead", daemon=True)
            self._worker.start()

    @property
    def source(self) -> FrameSource:
        return self._source

    @property
    def read_ahead(self) -> int:
        """Frames decoded ahead (after clamping to what max_bytes can hold)."""
        return self._read_ahead

    def set_direction(self, direction: int) -> None:
        """+1 forward, -1 backward: used by propagation so read-ahead starts before the first step."""
        if direction not in (1, -1):
            raise ValueError("direction must be +1 or -1")
        with self._lock:
            self._direction = direction

    def get(self, index: int) -> np.ndarray:
        """Frame index (read-only uint8 HxWx3 BGR); raises MediaError like the source."""
        if self._closed:
            raise MediaError("The frame cache was already closed.")
        with self._lock:
            frame = self._lookup(index)
            if frame is not None:
                self._hits += 1
            self._note_access(index)
        if frame is None:
            frame, decoded = self._load(index)
            with self._lock:
                if decoded:
                    self._misses += 1
                else:
                    self._hits += 1  # read-ahead finished it while we waited
        self._schedule_read_ahead(index)
        return frame

    def __contains__(self, index: int) -> bool:
        with self._lock:
            return index in self._frames

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                frames=len(self._frames),
                bytes_used=self._bytes,
                max_bytes=self._max_bytes,
                read_ahead_loaded=self._loaded_ahead,
            )

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the read-ahead plan is done (tests and benchmarks); True if it finished."""
        with self._wakeup:
            return self._wakeup.wait_for(lambda: (not self._plan and not self._busy) or self._closed, timeout)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self._bytes = 0

    def close(self) -> None:
        """Stop the read-ahead thread and drop the frames (the source stays open: the caller owns it)."""
        with self._wakeup:
            self._closed = True
            self._plan = []
            self._wakeup.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=5.0)
        self.clear()

    def __enter__(self) -> FrameCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------
    def _lookup(self, index: int) -> np.ndarray | None:
        frame = self._frames.get(index)
        if frame is not None:
            self._frames.move_to_end(index)
        return frame

    def _note_access(self, index: int) -> None:
        if self._last_index is not None and index != self._last_index:
            self._direction = 1 if index > self._last_index else -1
        self._last_index = index

    def _load(self, index: int) -> tuple[np.ndarray, bool]:
        """(frame, decoded here?) under the source lock, re-checking: read-ahead may have just decoded it."""
        with self._source_lock:
            with self._lock:
                frame = self._lookup(index)
            if frame is not None:
                return frame, False
            frame = self._source.read(index)
        frame.flags.writeable = False
        with self._lock:
            self._insert(index, frame)
        return frame, True

    def _insert(self, index: int, frame: np.ndarray) -> None:
        if frame.nbytes > self._max_bytes:
            return
        old = self._frames.pop(index, None)
        if old is not None:
            self._bytes -= old.nbytes
        self._frames[index] = frame
        self._bytes += frame.nbytes
        while self._bytes > self._max_bytes:
            _, evicted = self._frames.popitem(last=False)
            self._bytes -= evicted.nbytes

    def _schedule_read_ahead(self, index: int) -> None:
        if self._worker is None:
            return
        count = self._source.info.frame_count
        with self._wakeup:
            if self._direction > 0:
                self._deferred_backward = None
                wanted = range(index + 1, min(count, index + 1 + self._read_ahead))
                self._plan = [i for i in wanted if i not in self._frames]
                self._wakeup.notify_all()
            else:
                self._plan_backward(index)

    def _plan_backward(self, index: int) -> None:
        """Backward: decode whole blocks in ascending order (one seek, then sequential steps), the
        next one as soon as less than a window below `index` is cached. Planning the one newly
        needed frame at each step made every backward step a seek. While a frame is being decoded
        the block waits for it (its seek would interrupt that read) and the read-ahead thread
        plans it when done: dropped then, the block waited for the next get. Lock held."""
        self._deferred_backward = None
        lowest = index
        while lowest > 0 and lowest - 1 in self._frames:
            lowest -= 1
        if index - lowest >= self._read_ahead or any(i < index for i in self._plan):
            self._plan = [i for i in self._plan if i < index]
            return
        if self._busy:
            self._plan = []
            self._deferred_backward = index
            return
        wanted = range(max(0, lowest - self._read_ahead), lowest)
        self._plan = [i for i in wanted if i not in self._frames]
        self._wakeup.notify_all()

    def _read_ahead_loop(self) -> None:
        while True:
            with self._wakeup:
                self._wakeup.wait_for(lambda: self._plan or self._closed)
                if self._closed:
                    return
                index = self._plan.pop(0)
                self._busy = True
            try:
                self._read_ahead_one(index)
            finally:
                with self._wakeup:
                    self._busy = False
                    if not self._plan and self._deferred_backward is not None and not self._closed:
                        self._plan_backward(self._deferred_backward)
                    self._wakeup.notify_all()

    def _read_ahead_one(self, index: int) -> None:
        with self._source_lock:
            with self._lock:
                if self._closed or index in self._frames:
                    return
            try:
                frame = self._source.read(index)
            except MediaError:
                return  # a broken frame is reported when someone actually asks for it
        frame.flags.writeable = False
        with self._lock:
            if not self._closed:
                self._insert(index, frame)
                self._loaded_ahead += 1

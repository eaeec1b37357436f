"""A FrameSource over a labelled Sequence (image files), with a bounded decode cache.

The simulator and tests walk the same frames many times (passes from every keyframe);
decoding each JPEG once and keeping it while the byte budget allows is most of the speed.
"""
from __future__ import annotations

from collections import OrderedDict
from types import SimpleNamespace

import numpy as np

from ..errors import MediaError
from ..media.sequence import Sequence

DEFAULT_CACHE_BYTES = 768 * 1024 * 1024


class SequenceSource:
    """Exact frames of a Sequence by index: ``.info.frame_count``, ``.read(i)``, ``len()``."""

    def __init__(self, sequence: Sequence, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.sequence = sequence
        self.info = SimpleNamespace(frame_count=len(sequence), path=sequence.name, kind="images")
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self.decodes = 0

    def __len__(self) -> int:
        return len(self.sequence)

    def read(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self.sequence):
            raise MediaError(f"Frame {index} does not exist in {self.sequence.name} ({len(self.sequence)} frames).")
        frame = self._cache.get(index)
        if frame is not None:
            self._cache.move_to_end(index)
            return frame
        frame = self.sequence.read_frame(index)
        frame.setflags(write=False)
        self.decodes += 1
        self._cache[index] = frame
        self._bytes += frame.nbytes
        while self._bytes > self._max_bytes and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._bytes -= old.nbytes
        return frame

    def close(self) -> None:
        self._cache.clear()
        self._bytes = 0

    def __enter__(self) -> SequenceSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""What every frame source promises: exact frames by index, described by a frozen MediaInfo.

Frame N must be the same pixels whether reached by stepping, seeking or from another
source opened on the same file, because boxes are stored per frame index: a source that
is off by one frame silently shifts every label. A source is NOT thread-safe; open one
per thread (or share it through ``FrameCache``, which serialises access).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np

from core.annotations.model import MediaRef


@dataclass(frozen=True)
class MediaInfo:
    """A decoded description of the media (not the container header's claims).

    frame_count comes from actual decoding for videos; fps is the average rate, and
    ``variable_fps`` says the timestamps are irregular (``note`` explains in one sentence).
    """

    path: str
    kind: str  # "video" | "images"
    frame_count: int
    width: int
    height: int
    fps: float
    fingerprint: str
    variable_fps: bool = False
    note: str = ""

    @property
    def frame_bytes(self) -> int:
        """Bytes of one decoded BGR frame (what a cache entry costs)."""
        return self.width * self.height * 3

    def to_media_ref(self) -> MediaRef:
        return MediaRef(
            path=self.path,
            kind=self.kind,
            frame_count=self.frame_count,
            width=self.width,
            height=self.height,
            fps=self.fps,
            fingerprint=self.fingerprint,
        )


_Source = TypeVar("_Source", bound="FrameSource")
_Base = TypeVar("_Base", bound="BaseFrameSource")


@runtime_checkable
class FrameSource(Protocol):
    """Exact random access to the frames of one video or image folder."""

    @property
    def info(self) -> MediaInfo: ...

    def read(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as uint8 HxWx3 BGR; MediaError with one sentence if it cannot."""
        ...

    def to_media_ref(self) -> MediaRef: ...

    def close(self) -> None: ...

    def __len__(self) -> int: ...

    def __enter__(self: _Source) -> _Source: ...

    def __exit__(self, *exc: object) -> None: ...


class BaseFrameSource:
    """Shared plumbing for concrete sources: length, media ref, context manager, index checks."""

    _info: MediaInfo

    @property
    def info(self) -> MediaInfo:
        return self._info

    def __len__(self) -> int:
        return self._info.frame_count

    def to_media_ref(self) -> MediaRef:
        return self._info.to_media_ref()

    def close(self) -> None:  # pragma: no cover - overridden where there is something to release
        pass

    def __enter__(self: _Base) -> _Base:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_index(self, index: int) -> int:
        from core.errors import MediaError

        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"frame index must be an int, got {type(index).__name__}")
        index = int(index)
        if not 0 <= index < self._info.frame_count:
            raise MediaError(
                f"Frame {index} does not exist in {self._info.path} (it has {self._info.frame_count} frames)."
            )
        return index

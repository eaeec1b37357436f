"""A labelled sequence as every reader returns it: frames (image files or a video) plus per-frame boxes and flags."""
from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import MediaError
from .source import FrameSource


class VideoHandle:
    """The open video of one Sequence: opened at the first read and kept, not reopened per frame.

    Opening a video scans it once to index its frames, so reopening it per read_frame cost a
    whole scan per frame. Reads are serialised by a lock (a decoder has one position; the
    propagation read-ahead thread and the caller may both read). A forked child (data-loader
    workers) gets a fresh lock and opens its own decoder; a pickled copy carries only the path.
    """

    _all: weakref.WeakSet[VideoHandle] = weakref.WeakSet()

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.opens = 0  # how many times the video was opened (tests, diagnostics)
        self._lock = threading.Lock()
        self._source: FrameSource | None = None
        VideoHandle._all.add(self)

    def read(self, index: int) -> np.ndarray:
        with self._lock:
            if self._source is None:
                from . import open_media  # video frames need the exact-index reader

                self._source = open_media(self.path)
                self.opens += 1
            return self._source.read(index)

    def close(self) -> None:
        with self._lock:
            source, self._source = self._source, None
        if source is not None:
            source.close()

    def _forget_after_fork(self) -> None:
        """In a forked child: the parent's lock may be held and its decoder is the parent's.

        The inherited decoder is kept referenced, never released: releasing FFmpeg state whose
        threads stayed in the parent hangs the child.
        """
        self._lock = threading.Lock()
        if self._source is not None:
            _INHERITED.append(self._source)
        self._source = None

    def __getstate__(self) -> dict[str, Path]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Path]) -> None:
        VideoHandle.__init__(self, Path(state["path"]))

    def __del__(self) -> None:
        source = getattr(self, "_source", None)
        if source is not None:
            try:
                source.close()
            except Exception:  # interpreter shutdown: nothing left to release
                pass


_INHERITED: list[object] = []


def _after_fork_in_child() -> None:
    for handle in list(VideoHandle._all):
        handle._forget_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


_FILLED_IN_POST_INIT: Any = None
"""Default of Sequence's per-frame arrays: None (or a caller's None) becomes the default array in
__post_init__, so the fields are always arrays after construction; typed Any to say so."""


@dataclass(frozen=True)
class Sequence:
    """One labelled sequence.

    frames: image paths in frame order (empty when the media is a video file).
    video: the video file when the frames live in one (frames is then empty).
    boxes: float64 Nx4, 0-based pixel x, y, w, h; rows are NaN where the target is absent.
    absent: bool N (True where the target is not visible at all; never a training positive).
    occluded, out_of_view, cut_by_image: bool N; cover: int N in 0-8 (-1 unknown).
    """

    name: str
    boxes: np.ndarray
    frames: tuple[Path, ...] = ()
    video: Path | None = None
    absent: np.ndarray = _FILLED_IN_POST_INIT
    occluded: np.ndarray = _FILLED_IN_POST_INIT
    out_of_view: np.ndarray = _FILLED_IN_POST_INIT
    cut_by_image: np.ndarray = _FILLED_IN_POST_INIT
    cover: np.ndarray = _FILLED_IN_POST_INIT
    meta: dict[str, str] = field(default_factory=dict)
    _video: VideoHandle | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.boxes)
        invalid = ~np.isfinite(self.boxes).all(axis=1) | (self.boxes[:, 2] <= 0) | (self.boxes[:, 3] <= 0)
        defaults = {
            "absent": invalid,
            "occluded": np.zeros(n, bool),
            "out_of_view": np.zeros(n, bool),
            "cut_by_image": np.zeros(n, bool),
            "cover": np.full(n, -1, np.int64),
        }
        for name, default in defaults.items():
            value = getattr(self, name)
            object.__setattr__(self, name, default if value is None else np.asarray(value))
        object.__setattr__(self, "absent", self.absent | invalid)
        object.__setattr__(self, "_video", VideoHandle(self.video) if self.video is not None else None)

    def __len__(self) -> int:
        return len(self.boxes)

    def read_frame(self, index: int) -> np.ndarray:
        """Frame `index` as uint8 HxWx3 BGR (image files, or the video kept open by VideoHandle)."""
        if self._video is not None:
            return self._video.read(index)
        image = cv2.imread(str(self.frames[index]), cv2.IMREAD_COLOR)
        if image is None:
            raise MediaError(f"Cannot decode frame {index + 1} of {self.name}: {self.frames[index]}.")
        return image

    def close(self) -> None:
        """Release the open video (it reopens if read again); image sequences hold nothing open."""
        if self._video is not None:
            self._video.close()

    def __enter__(self) -> Sequence:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

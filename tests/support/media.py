"""Media made on the fly (nothing copied from ../shared): small videos and image folders whose
frames differ, damaged copies of a real video, digests of what OpenCV decodes, and an
in-memory frame source that counts its reads."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import cv2
import numpy as np

from core.errors import MediaError
from core.media import MediaInfo


def write_video(path: Path, frames: int, size: tuple[int, int] = (96, 64), fps: float = 25.0,
                fourcc: str = "mp4v") -> Path:
    """A small video whose every frame differs (a green square sliding right over a background
    that brightens); fourcc "MJPG" for an .avi."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(synthetic_frame(i, width, height))
    writer.release()
    return path


def synthetic_frame(i: int, width: int, height: int) -> np.ndarray:
    frame = np.full((height, width, 3), (30 + 3 * i) % 200, np.uint8)
    x = (2 * i) % max(width - 20, 1)
    cv2.rectangle(frame, (x, height // 4), (x + 16, height // 4 + 16), (0, 255, 0), -1)
    return frame


def write_image_folder(folder: Path, frames: int, size: tuple[int, int] = (96, 64), start: int = 1) -> Path:
    """frames PNG images named 1.png, 2.png, ... (natural order differs from text order past 9)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        cv2.imwrite(str(folder / f"{start + i}.png"), synthetic_frame(i, *size))
    return folder


def damaged_copies(source: Path, folder: Path) -> dict[str, Path]:
    """Broken variants of a real H.264 mp4: truncated, header only, unknown codec, empty."""
    data = source.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    variants = {
        "truncated": data[: len(data) // 3],
        "header_only": data[:2048],
        "unsupported_codec": data.replace(b"avc1", b"zzzz"),
        "empty": b"",
        "text": b"this is a text file, not a video\n" * 20,
    }
    paths = {}
    for name, payload in variants.items():
        path = folder / f"{name}.mp4"
        path.write_bytes(payload)
        paths[name] = path
    return paths


def digest(frame: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(frame).tobytes()).hexdigest()


def sequential_digests(path: Path) -> list[str]:
    """The reference: OpenCV decoding the file from start to end, no seeking."""
    capture = cv2.VideoCapture(str(path))
    digests = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        digests.append(digest(frame))
    capture.release()
    return digests


class CountingSource:
    """A FrameSource that records every index read (under a lock) and never reads concurrently.

    By default it is in memory: ``frames`` frames whose pixels all hold the frame index (mod
    256), MediaError for the indices in ``broken`` and past the end. Given ``source``, it
    wraps that real source instead and counts what is decoded through it.
    """

    def __init__(self, source=None, *, frames: int = 50, width: int = 32, height: int = 16,
                 broken: tuple[int, ...] = ()) -> None:
        self.source = source
        self.info = source.info if source is not None else MediaInfo("memory", "images", frames, width, height,
                                                                     30.0, "sha1:test")
        self.reads: list[int] = []
        self.broken = broken
        self._lock = threading.Lock()
        self._busy = False

    def read(self, index: int) -> np.ndarray:
        with self._lock:  # a cache must never read concurrently from one source
            assert not self._busy, "concurrent read on a non-thread-safe source"
            self._busy = True
        try:
            if self.source is not None:
                frame = self.source.read(index)
            elif index in self.broken:
                raise MediaError(f"Frame {index} is broken.")
            elif not 0 <= index < self.info.frame_count:
                raise MediaError(f"Frame {index} does not exist.")
            else:
                frame = np.full((self.info.height, self.info.width, 3), index % 256, np.uint8)
            self.reads.append(index)  # no lock needed: reads never overlap (asserted above)
            return frame
        finally:
            self._busy = False

    def to_media_ref(self):
        return self.source.to_media_ref()

    def __len__(self) -> int:
        return self.info.frame_count

    def close(self) -> None:
        if self.source is not None:
            self.source.close()

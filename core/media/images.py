"""Image folders (OTB ``img/0001.jpg``, exported frame dumps) as exact frame sources.

Frames are ordered by natural sort so ``img2`` comes before ``img10``; files that are not
images are ignored. Images are decoded with ``np.fromfile`` + ``cv2.imdecode`` because
``cv2.imread`` cannot open non-ASCII paths on every platform.
"""
from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from core.errors import MediaError

from .fingerprint import folder_fingerprint
from .source import BaseFrameSource, MediaInfo

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm", ".pbm", ".pnm"}
)
NOMINAL_FPS = 30.0
_DIGITS = re.compile(r"(\d+)")


def natural_sort_key(name: str) -> tuple[object, ...]:
    """Sort key that orders embedded numbers by value: img2 < img10, frame_9 < frame_10."""
    parts: list[tuple[int, object]] = []
    for part in _DIGITS.split(name):
        if part.isdigit():
            parts.append((0, int(part)))
        elif part:
            parts.append((1, part.casefold()))
    return (tuple(parts), name)


def list_image_files(folder: Path) -> list[Path]:
    """The image files directly inside folder, in natural order (hidden files skipped)."""
    files = [
        entry
        for entry in folder.iterdir()
        if entry.is_file() and not entry.name.startswith(".") and entry.suffix.lower() in IMAGE_EXTENSIONS
    ]
    return sorted(files, key=lambda p: natural_sort_key(p.name))


def decode_image(path: Path) -> np.ndarray | None:
    """uint8 HxWx3 BGR pixels of an image file, or None if it is not a readable image."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:
        return None
    return image


class ImageFolderSource(BaseFrameSource):
    """A folder of same-sized images, one frame per file. Not thread-safe: one per thread."""

    def __init__(self, folder: str | Path, *, fps: float = NOMINAL_FPS) -> None:
        self._folder = Path(folder)
        try:
            self._files = list_image_files(self._folder)
        except OSError as error:
            raise MediaError(f"Folder {self._folder.name} cannot be listed ({error.strerror}).") from error
        if not self._files:
            raise MediaError(f"Folder {self._folder.name} contains no image files.")
        height, width = self._first_size()
        self._info = MediaInfo(
            path=str(self._folder),
            kind="images",
            frame_count=len(self._files),
            width=width,
            height=height,
            fps=fps,
            fingerprint=folder_fingerprint(self._files),
            note=f"Image folder: {fps:g} fps is nominal.",
        )
        self._closed = False

    @property
    def files(self) -> tuple[Path, ...]:
        """The frame files in frame order (frame i is files[i])."""
        return tuple(self._files)

    def _first_size(self) -> tuple[int, int]:
        """Frame size from the first readable image among the first few (a broken first file is only its own error)."""
        for path in self._files[:16]:
            image = decode_image(path)
            if image is not None:
                return int(image.shape[0]), int(image.shape[1])
        raise MediaError(f"None of the first images in {self._folder.name} can be decoded.")

    def read(self, index: int) -> np.ndarray:
        index = self._check_index(index)
        if self._closed:
            raise MediaError(f"{self._folder.name} was already closed.")
        path = self._files[index]
        image = decode_image(path)
        if image is None:
            raise MediaError(f"Frame {index} ({path.name}) in {self._folder.name} is not a readable image.")
        if image.shape[:2] != (self._info.height, self._info.width):
            raise MediaError(
                f"Frame {index} ({path.name}) is {image.shape[1]}x{image.shape[0]} but the folder's frames are "
                f"{self._info.width}x{self._info.height}; all images must have one size."
            )
        return image

    def close(self) -> None:
        self._closed = True

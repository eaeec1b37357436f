"""Frame files: listing image folders in natural order and writing frames for an export."""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..errors import MediaError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def natural_key(name: str) -> list[object]:
    """'img2' before 'img10': digits compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_images(folder: Path) -> list[Path]:
    """Image files of a folder in natural order (empty when the folder does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    return sorted(files, key=lambda p: natural_key(p.name))


def open_frame_reader(media_path: str) -> tuple[Callable[[int], np.ndarray], Callable[[], None]]:
    """(read(index), close) for a video or image folder, through core.media when it exists."""
    try:
        from ..media import open_media
    except ImportError:  # core.media not built yet: a minimal exact reader of our own
        return _fallback_reader(Path(media_path))
    source = open_media(media_path)
    return source.read, source.close


def _fallback_reader(path: Path) -> tuple[Callable[[int], np.ndarray], Callable[[], None]]:
    import cv2

    if path.is_dir():
        files = list_images(path)

        def read_image(index: int) -> np.ndarray:
            image = cv2.imread(str(files[index]), cv2.IMREAD_COLOR) if 0 <= index < len(files) else None
            if image is None:
                raise MediaError(f"Cannot read frame {index} of {path}.")
            return image

        return read_image, lambda: None
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise MediaError(f"Cannot open the video {path}.")
    position = [0]

    def read_video(index: int) -> np.ndarray:
        if index != position[0]:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = capture.read()
        position[0] = index + 1
        if not ok:
            raise MediaError(f"Cannot decode frame {index} of {path}.")
        return image

    return read_video, capture.release


def frame_reader(source: object) -> tuple[Callable[[int], np.ndarray], Callable[[], None]]:
    """(read, close) for an open FrameSource (not closed here) or a media path."""
    if hasattr(source, "read") and not isinstance(source, (str, Path)):
        return source.read, lambda: None  # type: ignore[attr-defined]
    return open_frame_reader(str(source))


def write_frames(source: object, targets: list[tuple[int, list[Path]]],
                 progress: Callable[[int, int], None] | None = None) -> None:
    """Write each frame index to its target paths: encoded once, then hard-linked (or copied)."""
    import cv2

    read, close = frame_reader(source)
    try:
        for done, (index, paths) in enumerate(targets, start=1):
            if paths:
                first = paths[0]
                first.parent.mkdir(parents=True, exist_ok=True)
                if not cv2.imwrite(str(first), read(index)):
                    raise MediaError(f"Cannot write the frame image {first}.")
                for other in paths[1:]:
                    other.parent.mkdir(parents=True, exist_ok=True)
                    other.unlink(missing_ok=True)
                    try:
                        os.link(first, other)
                    except OSError:
                        shutil.copyfile(first, other)
            if progress is not None:
                progress(done, len(targets))
    finally:
        close()


def media_ref_for(path: Path):
    """MediaRef of a video or image folder (through core.media when it exists)."""
    from ..annotations.model import MediaRef

    try:
        from ..media import open_media
    except ImportError:
        open_media = None
    if open_media is not None:
        with open_media(str(path)) as source:
            return source.to_media_ref()
    import cv2

    path = Path(path)
    if path.is_dir():
        files = list_images(path)
        first = cv2.imread(str(files[0])) if files else None
        if first is None:
            raise MediaError(f"{path}: no readable images in this folder.")
        return MediaRef(str(path), "images", len(files), first.shape[1], first.shape[0])
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise MediaError(f"Cannot open the video {path}.")
    try:
        return MediaRef(str(path), "video", int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
                        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                        float(capture.get(cv2.CAP_PROP_FPS) or 30.0))
    finally:
        capture.release()

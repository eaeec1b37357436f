"""Frame sources with exact indices (videos, image folders) and a byte-bounded frame cache.

``open_media(path)`` picks the source from the path; every source returns frame N as the
same uint8 BGR pixels however it is reached. Qt-free.
"""
from __future__ import annotations

import os
from pathlib import Path

from core.annotations.model import MediaRef
from core.errors import MediaError

from .cache import DEFAULT_MAX_BYTES, CacheStats, FrameCache
from .images import IMAGE_EXTENSIONS, ImageFolderSource, natural_sort_key
from .locate import MediaMismatch, MediaMissing, check_located
from .source import BaseFrameSource, FrameSource, MediaInfo
from .video import ProgressCallback, VideoSource

__all__ = [
    "DEFAULT_MAX_BYTES",
    "BaseFrameSource",
    "CacheStats",
    "FrameCache",
    "FrameSource",
    "ImageFolderSource",
    "MediaInfo",
    "MediaMismatch",
    "MediaMissing",
    "VideoSource",
    "check_located",
    "natural_sort_key",
    "open_media",
    "open_media_ref",
]


def open_media(path: str | Path, *, progress: ProgressCallback | None = None) -> FrameSource:
    """A FrameSource for a video file or an image folder; MediaError with one sentence otherwise.

    Opening a video decodes it once to index its frames;
    ``progress(done, total)`` is called during that scan and may raise ``Cancelled``.
    """
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path} does not exist.")
    if path.is_dir():
        return ImageFolderSource(path)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise MediaError(f"{path.name} is a single image; open the folder that holds the frames instead.")
    try:
        if path.stat().st_size == 0:
            raise MediaError(f"{path.name} is an empty file.")
    except OSError as error:
        raise MediaError(f"{path.name} cannot be read ({error.strerror}).") from error
    return VideoSource(path, progress=progress)


def open_media_ref(ref: MediaRef, *, progress: ProgressCallback | None = None) -> FrameSource:
    """Open a project's media and check it is the same media the project was labelled on.

    MediaMissing when nothing is at its path and MediaMismatch when what is there is other
    media (both MediaErrors that carry the ref), so the app can offer to locate it.
    """
    if not os.path.exists(ref.path):
        raise MediaMissing(ref)
    source = open_media(ref.path, progress=progress)
    info = source.info
    if ref.fingerprint and info.fingerprint != ref.fingerprint:
        source.close()
        raise MediaMismatch(f"{Path(ref.path).name} has changed since the project was made (fingerprint differs).",
                            ref)
    if ref.frame_count and info.frame_count != ref.frame_count:
        source.close()
        raise MediaMismatch(
            f"{Path(ref.path).name} has {info.frame_count} frames but the project expects {ref.frame_count}.", ref
        )
    return source

"""Frame files: listing image folders in natural order and writing frames for an export.

Reading media goes through core.media (exact frame indices, one sentence MediaError)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import MediaError


def natural_key(name: str) -> tuple[object, ...]:
    """'img2' before 'img10', exactly as core.media orders an image folder's frames."""
    from ..media import natural_sort_key

    return natural_sort_key(name)


def list_images(folder: Path) -> list[Path]:
    """Image files of a folder in the frame order core.media uses (empty if there is no folder)."""
    from ..media.images import list_image_files

    folder = Path(folder)
    return list_image_files(folder) if folder.is_dir() else []


def frame_reader(source: object) -> tuple[Callable[[int], np.ndarray], Callable[[], None]]:
    """(read, close) for an open FrameSource (not closed here) or a media path."""
    if hasattr(source, "read") and not isinstance(source, (str, Path)):
        return source.read, lambda: None
    from ..media import open_media

    opened = open_media(str(source))
    return opened.read, opened.close


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
    """MediaRef (with fingerprint) of a video file or an image folder."""
    from ..media import open_media

    with open_media(str(path)) as source:
        return source.to_media_ref()

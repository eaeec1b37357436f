"""Finding a project's media again after it was moved, renamed or copied elsewhere.

Labels are stored per frame index, so a project opened over other media would put every
box on the wrong picture. When the media is not where the project says, the user points
at it again and the fingerprint (see fingerprint.py) decides whether it is the same
media; the frame count is checked again when it is opened (open_media_ref).
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from core.annotations.model import MediaRef
from core.errors import MediaError

from .fingerprint import file_fingerprint, folder_fingerprint
from .images import list_image_files


def kind_word(kind: str) -> str:
    """How a message names the media: "video" or "image folder"."""
    return "image folder" if kind == "images" else "video"


class MediaMissing(MediaError):
    """The project's media is not where the project file says; ``ref`` says what to look for."""

    def __init__(self, ref: MediaRef) -> None:
        super().__init__(f"The project's {kind_word(ref.kind)} {ref.path} does not exist; "
                         "it was moved, renamed or deleted.")
        self.ref = ref


class MediaMismatch(MediaError):
    """The media at a path is not the one the project was labelled on; ``ref`` (when known) is
    the project's, so the app can offer to locate the right one."""

    def __init__(self, message: str, ref: MediaRef | None = None) -> None:
        super().__init__(message)
        self.ref = ref


def candidate_path(ref: MediaRef, chosen: str | os.PathLike[str]) -> Path:
    """The media a chosen path stands for: for an image folder, a file picked inside it means its folder."""
    path = Path(chosen)
    if ref.kind == "images" and path.is_file():
        return path.parent
    return path


def media_fingerprint(path: Path, kind: str) -> str:
    """The fingerprint the media source of that kind records for path (without decoding any frame)."""
    if kind == "images":
        return folder_fingerprint(list_image_files(path))
    return file_fingerprint(path)


def check_located(ref: MediaRef, chosen: str | os.PathLike[str]) -> MediaRef:
    """ref with its path moved to chosen when chosen is the same media; MediaMismatch otherwise.

    A project saved without a fingerprint cannot be checked here; its frame count still is
    when the media is opened.
    """
    path = candidate_path(ref, chosen)
    word = kind_word(ref.kind)
    if not path.exists():
        raise MediaMismatch(f"{path} does not exist.", ref)
    if (ref.kind == "images") != path.is_dir():
        raise MediaMismatch(f"{path.name} is not a{'n' if word[0] == 'i' else ''} {word}, "
                            f"and this project was labelled on one.", ref)
    if ref.fingerprint:
        try:
            found = media_fingerprint(path, ref.kind)
        except OSError as error:
            raise MediaMismatch(f"{path.name} cannot be read ({error.strerror or error}).", ref) from None
        if found != ref.fingerprint:
            raise MediaMismatch(f"{path.name} is not the {word} this project was labelled on "
                                "(its fingerprint differs).", ref)
    return replace(ref, path=str(path.absolute()))

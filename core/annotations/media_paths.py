"""Where a project file says its media is, and where that is on this machine.

A media path in memory is usable as it is (absolute, or relative to the working
directory the program runs in). On disk it is written relative to the project file's
folder when the media lies in that folder or below it, so a project folder moved or
copied together with its media still opens, and absolute otherwise (media kept
elsewhere stays found when the project file moves). A relative path read from a file is
always resolved against the file's folder, so a project opens the same from any
working directory. Files saved before this rule stored a path relative to the working
directory of the session that saved them; such a path is still used when it exists
there and the file's folder holds no such media.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path, PurePosixPath

from .model import Project


def stored_media_path(media_path: str, project_file: str | os.PathLike[str]) -> str:
    """The text a project file at project_file records for media_path.

    Relative paths are written with forward slashes, so a project folder moved between
    operating systems still finds its media.
    """
    media = os.path.abspath(media_path)
    folder = os.path.dirname(os.path.abspath(project_file))
    try:
        inside = os.path.commonpath([media, folder]) == folder
    except ValueError:  # different drives on Windows: nothing relative to say
        inside = False
    if not inside:
        return media
    return PurePosixPath(*Path(os.path.relpath(media, folder)).parts).as_posix()


def resolved_media_path(stored: str, project_file: str | os.PathLike[str], cwd: str | None = None) -> str:
    """The media path to use for the text a project file at project_file stored.

    An absolute path is kept. A relative one means the file's folder; only when nothing
    exists there but the path exists relative to cwd (the working directory by default)
    is it read as a path an older version stored relative to its working directory.
    When it exists nowhere the project-relative place is returned, so the error names
    where the media was expected.
    """
    path = Path(stored)
    if path.is_absolute():
        return stored
    beside = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(project_file)), stored))
    if os.path.exists(beside):
        return beside
    legacy = os.path.normpath(os.path.join(cwd if cwd is not None else os.getcwd(), stored))
    return legacy if os.path.exists(legacy) else beside


def for_file(project: Project, project_file: str | os.PathLike[str]) -> Project:
    """The project as a file at project_file stores it (a shallow copy; tracks are shared)."""
    if project.media is None:
        return project
    return replace(project, media=replace(project.media, path=stored_media_path(project.media.path, project_file)))


def from_file(project: Project, project_file: str | os.PathLike[str]) -> Project:
    """The project read from project_file with its media path resolved for this machine (in place)."""
    if project.media is not None:
        project.media = replace(project.media, path=resolved_media_path(project.media.path, project_file))
    return project

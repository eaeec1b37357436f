"""Writing a file so that a crash or a full disk leaves the old file or the new one, never half.

The bytes go to a temporary file beside the target (core.temp_files names it), are fsynced and
renamed over the target; the previous file can be kept as ``<name>.bak``, replaced atomically
too. Leftovers of a killed write are removed on the next write or read of the same file.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

from core.errors import UserError
from core.temp_files import clean_stale_temps, temp_path


class ProjectSaveError(UserError):
    """The project file could not be written; the previous file is untouched."""


def atomic_write(path: Path, payload: bytes, keep_backup: bool = False) -> None:
    """tmp file in the same folder + fsync + os.replace: readers see the old or the new file, never half."""
    clean_leftovers(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_backup and path.exists():
            _backup(path)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as error:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise ProjectSaveError(f"Cannot save {path.name}: {_why(error)}; the previous file is unchanged.") from error


BACKUP_TAG = ".bak"


def clean_leftovers(path: Path) -> list[Path]:
    """Remove `.<name>.<pid>.tmp` / `.<name>.bak.<pid>.tmp` files that killed saves of path left
    (only those whose process is gone); done once per file and process, on its first save or open."""
    return clean_stale_temps(path, tags=("", BACKUP_TAG))


def _backup(path: Path) -> None:
    """<name>.bak = the current file, replaced atomically too (hard link when possible: no copy)."""
    bak = path.with_name(path.name + ".bak")
    bak_tmp = temp_path(path, BACKUP_TAG)
    bak_tmp.unlink(missing_ok=True)  # a killed save's leftover may share .bak's inode: never write through it
    try:
        os.link(path, bak_tmp)
    except OSError:
        bak_tmp.write_bytes(path.read_bytes())
    os.replace(bak_tmp, bak)
    # rename() does nothing when both names already link one inode (a save killed between its two
    # renames leaves the file and .bak so): drop the extra name rather than leave it for next time.
    bak_tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not supported on this platform/filesystem; the data itself is already fsynced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _why(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the folder is not writable"
    return (error.strerror or str(error)).rstrip(".").lower()

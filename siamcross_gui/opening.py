"""What a path given to the app is: a project, a labelled sequence, a video or an image folder.

A user reaches a sequence by many doors: its folder, its labels file (``groundtruth_rect.txt``,
``gt/gt.txt``, ``absence.label``...), one of its frames (``img/0001.jpg``) or, for COCO, its
annotations file. Each of them opens the sequence; a text file that belongs to no sequence is
refused with one sentence instead of being handed to the video decoder.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import MediaError
from core.formats.layout import is_coco_file

SEQUENCE_FORMATS = ("otb", "got10k", "lasot", "mot")
COCO_FORMATS = ("coco", "coco-vid")
FRAME_FOLDERS = {"img", "img1", "images", "frames"}  # where OTB / MOT / COCO sequences keep their frames
TEXT_SUFFIXES = {".txt", ".label", ".ini", ".csv", ".md", ".xml", ".yaml", ".yml"}
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
LABEL_SUFFIXES = (".txt", ".label", ".ini")


@dataclass(frozen=True)
class OpenPlan:
    """kind: project | sequence | media; fmt: the dataset format of a sequence; name: what the
    window title calls it ("Car4" for a sequence whose frames are in Car4/img); media: the frames
    of a COCO sequence (its annotations name image files, not a folder).

    path is absolute: the media path a new project records must not depend on the working
    directory the app was started from.
    """

    path: Path
    kind: str
    fmt: str | None = None
    name: str = ""
    media: Path | None = None


def plan_open(path: str | Path) -> OpenPlan:
    """Decide how to open path; a folder with dataset labels opens as a sequence to correct."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path} does not exist.")
    path = Path(os.path.abspath(path))
    if path.is_dir():
        return _plan_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        if is_coco_file(path):
            return _plan_coco(path)
        return OpenPlan(path, "project", name=path.name)
    if suffix in IMAGE_SUFFIXES or suffix in TEXT_SUFFIXES:
        sequence = _sequence_holding(path)
        if sequence is not None:
            return sequence
        if suffix in IMAGE_SUFFIXES:  # one frame: open the folder of frames it belongs to
            return OpenPlan(path.parent, "media", name=media_name(path.parent))
        raise MediaError(f"{path.name} is a text file but not the labels of an OTB, GOT-10k, LaSOT or MOT "
                         "sequence; open a video, an image folder, a project or a sequence folder.")
    return OpenPlan(path, "media", name=path.name)


def media_name(path: Path) -> str:
    """A video's file name; an image folder's name, or its sequence's when it is img/, img1/..."""
    path = Path(path)
    if path.is_dir() and path.name.lower() in FRAME_FOLDERS and path.parent.name:
        return path.parent.name
    return path.name


def _plan_folder(folder: Path) -> OpenPlan:
    if folder.name.lower() in FRAME_FOLDERS and labels_here(folder.parent) is not None:
        return OpenPlan(folder.parent, "sequence", labels_here(folder.parent), name=folder.parent.name)
    fmt = _sequence_format(folder)
    if fmt in SEQUENCE_FORMATS:
        return OpenPlan(folder, "sequence", fmt, name=folder.name)
    if fmt == "coco":
        from core.formats import coco

        try:
            file = coco.find_file(folder)
        except Exception:  # not a readable COCO folder after all: treat it as frames
            file = None
        if file is not None and is_coco_file(file):
            return _plan_coco(file, name=folder.name)
    return OpenPlan(folder, "media", name=media_name(folder))


def _sequence_format(folder: Path) -> str | None:
    from core.datasets import detect_layout

    try:
        layout = detect_layout(folder)
    except Exception:  # an unrecognised folder is simply media
        return None
    return layout if layout in (*SEQUENCE_FORMATS, "coco") else None


def labels_here(folder: Path) -> str | None:
    """The format whose labels lie directly in folder (not in its sub-folders), else None."""
    if (folder / "gt" / "gt.txt").is_file():
        return "mot"
    if (folder / "groundtruth_rect.txt").is_file() or any(folder.glob("groundtruth_rect.*.txt")):
        return "otb"
    if (folder / "groundtruth.txt").is_file():
        if (folder / "absence.label").is_file():
            return "got10k"
        if (folder / "full_occlusion.txt").is_file():
            return "lasot"
    return None


def _sequence_holding(file: Path) -> OpenPlan | None:
    """The sequence a labels file or a frame belongs to (its folder, or the one above gt/ or img/)."""
    candidates = [file.parent]
    if file.parent.name.lower() in {"gt", *FRAME_FOLDERS}:
        candidates.append(file.parent.parent)
    for folder in candidates:
        fmt = labels_here(folder)
        if fmt is not None:
            return OpenPlan(folder, "sequence", fmt, name=folder.name)
    return None


def _plan_coco(path: Path, name: str | None = None) -> OpenPlan:
    from core.formats import detect_format

    try:
        fmt = detect_format(path)
    except Exception:  # the importer says what is wrong with it
        fmt = "coco"
    if name is None:
        folder = path.parent
        name = folder.parent.name if folder.name == "annotations" and folder.parent.name else folder.name
    return OpenPlan(path, "sequence", fmt if fmt in COCO_FORMATS else "coco", name=name, media=find_coco_media(path))


def find_coco_media(path: Path) -> Path | None:
    """The folder holding a COCO file's images: where our own export says its media is, or the
    folder beside or above the file (images/, images/<split>/, frames/) that holds its first image."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    ours = data.get("siamcross")
    if isinstance(ours, dict) and isinstance(ours.get("media"), dict):
        media = Path(str(ours["media"].get("path", "")))
        media = media if media.is_absolute() else path.parent / media
        if media.exists():
            return None  # the importer takes our own media record as it is
    images = data.get("images")
    if not isinstance(images, list) or not images or not isinstance(images[0], dict):
        return None
    file_name = str(images[0].get("file_name", ""))
    if not file_name:
        return None
    roots = [path.parent, path.parent.parent]
    for root in roots:
        direct = root / file_name
        if direct.is_file():
            return direct.parent
        folders = [root, root / "images", root / "frames"]
        if (root / "images").is_dir():
            folders += sorted(d for d in (root / "images").iterdir() if d.is_dir())
        for folder in folders:
            if (folder / Path(file_name).name).is_file():
                return folder
    return None

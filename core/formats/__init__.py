"""Dataset formats: one module per format, each with a reader, a writer and a validator.

``export_project(project, fmt, out_dir)`` writes a project as COCO, COCO-VID, GOT-10k,
LaSOT, OTB, MOT or our project JSON; ``import_project(src, fmt)`` reads it back. Round
trips of our own exports are exact (ids, boxes bit for bit, keyframes, flags); formats
that cannot carry provenance keep it in the ``siamcross_meta.json`` sidecar.
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..annotations.model import Project
from ..errors import FormatError, UserError
from . import coco, got10k, lasot, mot, otb, project_json
from .export_folder import staged_export
from .layout import detect_layout
from .single_object import export_single, import_single

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FormatSpec:
    """One format: how to write a project into a folder and read one back."""

    name: str
    description: str
    export: Callable[..., list[Path]]
    read: Callable[..., Project]
    validate: Callable[[Path], None]


def _validate_single(module) -> Callable[[Path], None]:
    def validate(out_dir: Path) -> None:
        seq_dirs = module.find_sequences(out_dir)
        if not seq_dirs:
            raise FormatError(f"{out_dir}: no {module.NAME} sequence found.")
        for seq_dir in seq_dirs:
            module.validate_sequence(seq_dir, len(module.read_sequence(seq_dir)))
    return validate


def _validate_mot(out_dir: Path) -> None:
    seq_dirs = mot.find_sequences(out_dir)
    if not seq_dirs:
        raise FormatError(f"{out_dir}: no MOT sequence found.")
    for seq_dir in seq_dirs:
        mot.validate_sequence(seq_dir)


def _export_project_json(project: Project, out_dir: Path, **_: object) -> list[Path]:
    path = Path(out_dir) / "project.json"
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    project_json.save(project, path)
    project_json.load(path)  # validator: it must read back
    return [path]


def _validate_project_json(out_dir: Path) -> None:
    _import_project_json(out_dir)  # reading it back is the check


def _import_project_json(src: Path, media: Path | None = None) -> Project:
    path = Path(src) / "project.json" if Path(src).is_dir() else Path(src)
    project = project_json.load(path)
    if media is not None:
        from .frames import media_ref_for

        project.media = media_ref_for(Path(media))
    return project


FORMATS: dict[str, FormatSpec] = {
    "coco": FormatSpec("coco", "COCO instances (one image per labelled frame)",
                       lambda p, o, **k: coco.export_coco(p, o, video=False, **k),
                       lambda s, media=None: coco.import_coco(s, video=False, media=media),
                       lambda o: coco.validate_coco(coco.find_file(o), video=False)),
    "coco-vid": FormatSpec("coco-vid", "COCO-VID (videos, frame_id, instance_id)",
                           lambda p, o, **k: coco.export_coco(p, o, video=True, **k),
                           lambda s, media=None: coco.import_coco(s, video=True, media=media),
                           lambda o: coco.validate_coco(coco.find_file(o), video=True)),
    "got10k": FormatSpec("got10k", "GOT-10k (train/<seq>/groundtruth.txt, .label files, list.txt)",
                         lambda p, o, **k: export_single(p, got10k, o, **k),
                         lambda s, media=None: import_single(s, got10k, media), _validate_single(got10k)),
    "lasot": FormatSpec("lasot", "LaSOT (<class>/<class>-<n>/groundtruth.txt, occlusion files)",
                        lambda p, o, **k: export_single(p, lasot, o, **k),
                        lambda s, media=None: import_single(s, lasot, media), _validate_single(lasot)),
    "otb": FormatSpec("otb", "OTB (<Name>/groundtruth_rect.txt, img/0001.jpg)",
                      lambda p, o, **k: export_single(p, otb, o, **k),
                      lambda s, media=None: import_single(s, otb, media), _validate_single(otb)),
    "mot": FormatSpec("mot", "MOTChallenge (gt/gt.txt, seqinfo.ini, img1/)",
                      lambda p, o, **k: mot.export_mot(p, o, **k),
                      lambda s, media=None: mot.import_mot(s, media), _validate_mot),
    "project": FormatSpec("project", "SiamCross project JSON", _export_project_json, _import_project_json,
                          _validate_project_json),
}


def _spec(fmt: str) -> FormatSpec:
    spec = FORMATS.get(fmt.lower().replace("_", "-"))
    if spec is None:
        raise FormatError(f"Unknown format '{fmt}'; use one of {', '.join(FORMATS)}.")
    return spec


class ExportError(UserError):
    """The export folder cannot be written (not a folder, not writable, disk full)."""


def _os_reason(error: OSError) -> str:
    reasons: dict[int | None, str] = {
        errno.ENOTDIR: "part of that path is a file, not a folder", errno.ENOSPC: "the disk is full",
        errno.EACCES: "the folder is not writable", errno.EPERM: "the folder is not writable",
        errno.EROFS: "the disk is read-only", errno.EEXIST: "a file is in the way"}
    return reasons.get(error.errno, (error.strerror or type(error).__name__).rstrip(".").lower())


def export_project(project: Project, fmt: str, out_dir: str | Path, source: object = None, *,
                   images: bool = False, progress: Progress | None = None) -> list[Path]:
    """Write the project into out_dir in fmt, validate what was written, return the main paths.

    The export replaces the previous export of fmt in out_dir (see export_folder): files it no
    longer writes (a deleted track's sequence) are removed; the user's own files stay.

    source: an open FrameSource or a media path for --images (default: the project's media).
    progress(done, total) is called per frame image written; raising core.errors.Cancelled
    from it stops the export (the label files are already written, frames so far are kept).
    """
    spec = _spec(fmt)

    def write(folder: Path, staged_progress: Progress | None) -> list[Path]:
        return spec.export(project, folder, source=source, images=images, progress=staged_progress)

    try:
        return staged_export(Path(out_dir), spec.name, write, progress)
    except OSError as error:  # a path under a file, a read-only folder, a full disk: the user's to fix
        raise ExportError(f"Cannot write the {spec.name} export into {out_dir}: {_os_reason(error)}.") from None


def detect_format(src: str | Path) -> str:
    """The format of a file or folder (the GUI opens sequences without asking): COCO files with
    'videos' are COCO-VID; otherwise detect_layout (core.formats.layout) decides."""
    layout = detect_layout(Path(src))
    if layout == "coco":
        path = coco.find_file(Path(src))
        head = path.read_text(encoding="utf-8", errors="replace")
        if '"videos"' in head and '"video_id"' in head:
            return "coco-vid"
    return layout


def import_project(src: str | Path, fmt: str, media: str | Path | None = None) -> Project:
    """A project from a file or folder in fmt ("auto": detect_format); media (video or image
    folder) overrides the media found with the labels."""
    if not Path(src).exists():
        raise FormatError(f"{src}: no such file or folder.")
    if fmt == "auto":
        fmt = detect_format(src)
    return _spec(fmt).read(Path(src), media=Path(media) if media is not None else None)


def validate_export(out_dir: str | Path, fmt: str) -> None:
    """Check an export folder (ours or foreign) parses and is consistent; FormatError if not."""
    _spec(fmt).validate(Path(out_dir))


__all__ = ["ExportError", "FORMATS", "FormatSpec", "detect_format", "export_project", "import_project",
           "validate_export"]

"""GOT-10k: <split>/<seq>/groundtruth.txt, absence.label, cover.label, cut_by_image.label,
meta_info.ini and 00000001.jpg frames; <split>/list.txt names the sequences.

Boxes are 0-based x,y,w,h, one row per frame (absent frames 0,0,0,0 with absence 1).
cover is the visible fraction in eighths (0 invisible .. 8 fully visible), as the
got10k toolkit and pytracking read it. Provenance and track ids go in the sidecar.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..annotations.model import Box, Flags, FrameLabel
from ..errors import FormatError
from ..media.sequence import Sequence
from .frames import list_images
from .text import content_lines, format_box_row, format_ini, parse_box_rows, parse_ini, parse_label_column, read_text

NAME = "got10k"
CARRIED: tuple[str, ...] = ("absent", "cover", "cut_by_image")
GROUNDTRUTH = "groundtruth.txt"
LABELS = {"absence": (0, 1), "cover": (0, 8), "cut_by_image": (0, 1)}


def read_list(split_dir: Path) -> list[str]:
    """Sequence names of a split's list.txt (blank lines skipped)."""
    path = Path(split_dir) / "list.txt"
    return [line.strip() for line in content_lines(read_text(path)) if line.strip()]


def find_sequences(root: Path) -> list[Path]:
    """A sequence folder, a split folder with list.txt, or a root with train/ and val/.

    The test split (first-frame boxes only) is read only when its folder is given itself.
    """
    root = Path(root)
    if (root / GROUNDTRUTH).is_file():
        return [root]
    if (root / "list.txt").is_file():
        found = []
        for name in read_list(root):
            seq_dir = root / name
            if "/" in name or "\\" in name or name in {".", ".."} or not (seq_dir / GROUNDTRUTH).is_file():
                raise FormatError(f"{root / 'list.txt'}: sequence '{name[:40]}' has no folder with {GROUNDTRUTH}.")
            found.append(seq_dir)
        return found
    found = []
    for split in ("train", "val"):
        if (root / split / "list.txt").is_file():
            found.extend(find_sequences(root / split))
    if found:
        return found
    return sorted((d for d in root.iterdir() if d.is_dir() and (d / GROUNDTRUTH).is_file()), key=lambda p: p.name)


def read_sequence(seq_dir: Path) -> Sequence:
    seq_dir = Path(seq_dir)
    gt_path = seq_dir / GROUNDTRUTH
    boxes = parse_box_rows(read_text(gt_path), str(gt_path))
    n = len(boxes)
    labels = {}
    for name, (low, high) in LABELS.items():
        path = seq_dir / f"{name}.label"
        if not path.is_file():  # the test split has none of them
            continue
        values = parse_label_column(read_text(path), str(path), low=low, high=high)
        if len(values) != n:
            raise FormatError(f"{path}: {len(values)} labels for {n} ground-truth rows.")
        labels[name] = values
    meta_path = seq_dir / "meta_info.ini"
    meta = parse_ini(read_text(meta_path), str(meta_path), "METAINFO") if meta_path.is_file() else {}
    absence = labels.get("absence", np.zeros(n, np.int64)).astype(bool)
    cover = labels.get("cover", np.full(n, -1, np.int64))
    return Sequence(
        name=seq_dir.name,
        boxes=boxes,
        frames=tuple(list_images(seq_dir)),
        absent=absence | (cover == 0),
        occluded=(cover >= 0) & (cover < 8) & ~absence,
        cut_by_image=labels.get("cut_by_image", np.zeros(n, np.int64)).astype(bool),
        cover=cover,
        meta=meta,
    )


def write_sequence(seq: Sequence, seq_dir: Path) -> None:
    seq_dir = Path(seq_dir)
    seq_dir.mkdir(parents=True, exist_ok=True)
    rows = [format_box_row(tuple(b) if np.isfinite(b).all() else None) for b in seq.boxes]
    (seq_dir / GROUNDTRUTH).write_text("\n".join(rows) + "\n", encoding="utf-8")
    columns = {"absence": seq.absent.astype(int), "cover": seq.cover, "cut_by_image": seq.cut_by_image.astype(int)}
    for name, values in columns.items():
        (seq_dir / f"{name}.label").write_text("".join(f"{int(v)}\n" for v in values), encoding="utf-8")
    meta = {"object_class": "object", **seq.meta}
    (seq_dir / "meta_info.ini").write_text(format_ini("METAINFO", meta), encoding="utf-8")


def write_list(split_dir: Path, names: list[str]) -> None:
    (Path(split_dir) / "list.txt").write_text("\n".join(names) + "\n", encoding="utf-8")


def validate_sequence(seq_dir: Path, frame_count: int) -> None:
    seq = read_sequence(seq_dir)
    for name in LABELS:
        if not (Path(seq_dir) / f"{name}.label").is_file():
            raise FormatError(f"{seq_dir}: {name}.label is missing.")
    if len(seq) != frame_count:
        raise FormatError(f"{Path(seq_dir) / GROUNDTRUTH}: {len(seq)} rows for {frame_count} frames.")
    if seq.frames and len(seq.frames) != frame_count:
        raise FormatError(f"{seq_dir}: {len(seq.frames)} images for {frame_count} rows.")


def frame_path(seq_dir: Path, index: int) -> Path:
    return Path(seq_dir) / f"{index + 1:08d}.jpg"


def image_folder(seq_dir: Path) -> Path:
    return Path(seq_dir)


def encode(label: FrameLabel | None) -> tuple[Box | None, dict[str, object]]:
    """What the GOT-10k files say about a frame; an unknown cover is 0 when absent, else 8."""
    if label is None:
        return None, {"absent": True, "cover": 0, "cut_by_image": False}
    absent = label.flags.absent or label.box is None
    cover = label.flags.cover if label.flags.cover is not None else (0 if absent else 8)
    return label.box, {"absent": absent or cover == 0, "cover": cover, "cut_by_image": label.flags.cut_by_image}


def decode(box: Box | None, native: dict[str, Any]) -> Flags:
    cover = int(native["cover"])
    absent = bool(native["absent"]) or box is None
    return Flags(absent=absent, occluded=(cover < 8 and not absent) if cover >= 0 else False,
                 cut_by_image=bool(native["cut_by_image"]), cover=cover if cover >= 0 else None)

"""LaSOT: <class>/<class>-<n>/groundtruth.txt (1-based x,y,w,h), full_occlusion.txt and
out_of_view.txt (one comma-separated line of 0/1), nlp.txt and img/00000001.jpg.

An absent frame is written 0,0,0,0; full_occlusion marks frames where the target is
absent for a reason other than leaving the view. Provenance and ids go in the sidecar.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..annotations.model import Box, Flags, FrameLabel
from ..errors import FormatError
from ..media.sequence import Sequence
from .frames import list_images
from .text import format_box_row, parse_box_rows, parse_label_column, read_text

NAME = "lasot"
CARRIED: tuple[str, ...] = ("occluded", "out_of_view")
GROUNDTRUTH = "groundtruth.txt"
ATTRIBUTES = ("full_occlusion", "out_of_view")


def is_sequence(path: Path) -> bool:
    """groundtruth.txt next to img/ or full_occlusion.txt (GOT-10k folders have neither)."""
    path = Path(path)
    return (path / GROUNDTRUTH).is_file() and ((path / "img").is_dir() or (path / "full_occlusion.txt").is_file())


def find_sequences(root: Path) -> list[Path]:
    """A sequence folder, a class folder of sequences, or the root of class folders."""
    root = Path(root)
    if is_sequence(root):
        return [root]
    direct = [d for d in root.iterdir() if d.is_dir() and is_sequence(d)]
    if direct:
        return sorted(direct, key=lambda p: p.name)
    nested = [s for c in root.iterdir() if c.is_dir() for s in c.iterdir() if s.is_dir() and is_sequence(s)]
    return sorted(nested, key=lambda p: (p.parent.name, p.name))


def read_sequence(seq_dir: Path) -> Sequence:
    seq_dir = Path(seq_dir)
    gt_path = seq_dir / GROUNDTRUTH
    boxes = parse_box_rows(read_text(gt_path), str(gt_path), one_based=True)
    n = len(boxes)
    flags = {}
    for name in ATTRIBUTES:
        path = seq_dir / f"{name}.txt"
        if not path.is_file():
            flags[name] = np.zeros(n, bool)
            continue
        values = parse_label_column(read_text(path), str(path), low=0, high=1, one_line=True)
        if len(values) != n:
            raise FormatError(f"{path}: {len(values)} values for {n} ground-truth rows.")
        flags[name] = values.astype(bool)
    nlp_path = seq_dir / "nlp.txt"
    meta = {"nlp": read_text(nlp_path).strip()} if nlp_path.is_file() else {}
    return Sequence(
        name=seq_dir.name,
        boxes=boxes,
        frames=tuple(list_images(seq_dir / "img")),
        absent=flags["full_occlusion"] | flags["out_of_view"],
        occluded=flags["full_occlusion"],
        out_of_view=flags["out_of_view"],
        meta=meta,
    )


def write_sequence(seq: Sequence, seq_dir: Path) -> None:
    seq_dir = Path(seq_dir)
    seq_dir.mkdir(parents=True, exist_ok=True)
    rows = [format_box_row(tuple(b) if np.isfinite(b).all() else None, one_based=True) for b in seq.boxes]
    (seq_dir / GROUNDTRUTH).write_text("\n".join(rows) + "\n", encoding="utf-8")
    for name, values in (("full_occlusion", seq.occluded), ("out_of_view", seq.out_of_view)):
        (seq_dir / f"{name}.txt").write_text(",".join(str(int(v)) for v in values) + "\n", encoding="utf-8")
    nlp = " ".join(seq.meta.get("nlp", seq.meta.get("label", "")).split())
    (seq_dir / "nlp.txt").write_text(nlp + "\n", encoding="utf-8")


def validate_sequence(seq_dir: Path, frame_count: int) -> None:
    seq = read_sequence(seq_dir)
    for name in ATTRIBUTES:
        if not (Path(seq_dir) / f"{name}.txt").is_file():
            raise FormatError(f"{seq_dir}: {name}.txt is missing.")
    if len(seq) != frame_count:
        raise FormatError(f"{Path(seq_dir) / GROUNDTRUTH}: {len(seq)} rows for {frame_count} frames.")
    if seq.frames and len(seq.frames) != frame_count:
        raise FormatError(f"{Path(seq_dir) / 'img'}: {len(seq.frames)} images for {frame_count} rows.")


def frame_path(seq_dir: Path, index: int) -> Path:
    return Path(seq_dir) / "img" / f"{index + 1:08d}.jpg"


def image_folder(seq_dir: Path) -> Path:
    return Path(seq_dir) / "img"


def encode(label: FrameLabel | None) -> tuple[Box | None, dict[str, object]]:
    """full_occlusion = absent but not out of view; out_of_view as flagged."""
    if label is None:
        return None, {"occluded": False, "out_of_view": False}
    absent = label.flags.absent or label.box is None
    return label.box, {"occluded": absent and not label.flags.out_of_view, "out_of_view": label.flags.out_of_view}


def decode(box: Box | None, native: dict[str, object]) -> Flags:
    full, out = bool(native["occluded"]), bool(native["out_of_view"])
    return Flags(absent=full or out or box is None, occluded=full, out_of_view=out)

"""OTB: <Name>/img/0001.jpg and groundtruth_rect.txt, 1-based x,y,w,h per frame.

Rows are read comma, tab or space separated and written comma separated; 1-based values
are shifted exactly (see text.format_one_based). OTB carries no flags: an absent frame is
written 0,0,0,0 and flags, provenance and track ids go in the siamcross_meta.json sidecar.
Sequences with several targets use groundtruth_rect.1.txt, .2.txt (Jogging, Skating2).
"""
from __future__ import annotations

from pathlib import Path

from ..annotations.model import Box, Flags, FrameLabel
from ..errors import FormatError
from ..media.sequence import Sequence
from .frames import list_images
from .text import format_box_row, parse_box_rows, read_text

NAME = "otb"
CARRIED: tuple[str, ...] = ()
GROUNDTRUTH = "groundtruth_rect.txt"


def groundtruth_files(seq_dir: Path) -> list[Path]:
    """groundtruth_rect.txt, or the numbered files of a multi-target sequence."""
    seq_dir = Path(seq_dir)
    single = seq_dir / GROUNDTRUTH
    if single.is_file():
        return [single]
    return sorted(seq_dir.glob("groundtruth_rect.*.txt"))


def find_sequences(root: Path) -> list[Path]:
    root = Path(root)
    if groundtruth_files(root):
        return [root]
    return sorted((d for d in root.iterdir() if d.is_dir() and groundtruth_files(d)), key=lambda p: p.name)


def read_sequence(seq_dir: Path, groundtruth: Path | None = None) -> Sequence:
    """All ground-truth rows and all frames (they may differ in count; callers decide)."""
    seq_dir = Path(seq_dir)
    files = [groundtruth] if groundtruth is not None else groundtruth_files(seq_dir)
    if not files:
        raise FormatError(f"{seq_dir}: no {GROUNDTRUTH} in this OTB sequence folder.")
    path = files[0]
    boxes = parse_box_rows(read_text(path), str(path), one_based=True)
    name = seq_dir.name if path.name == GROUNDTRUTH else f"{seq_dir.name}.{path.name.split('.')[1]}"
    return Sequence(name=name, boxes=boxes, frames=tuple(list_images(seq_dir / "img")))


def read_targets(seq_dir: Path) -> list[Sequence]:
    """One Sequence per target of the folder (several only for numbered ground-truth files)."""
    return [read_sequence(seq_dir, groundtruth) for groundtruth in groundtruth_files(seq_dir)]


def write_sequence(seq: Sequence, seq_dir: Path) -> None:
    rows = [format_box_row(None if not _finite(b) else tuple(b), one_based=True) for b in seq.boxes]
    Path(seq_dir).mkdir(parents=True, exist_ok=True)
    (Path(seq_dir) / GROUNDTRUTH).write_text("\n".join(rows) + "\n", encoding="utf-8")


def validate_sequence(seq_dir: Path, frame_count: int) -> None:
    seq = read_sequence(seq_dir)
    if len(seq) != frame_count:
        raise FormatError(f"{seq_dir / GROUNDTRUTH}: {len(seq)} rows for {frame_count} frames.")
    images = len(seq.frames)
    if images and images != frame_count:
        raise FormatError(f"{seq_dir / 'img'}: {images} images for {frame_count} rows.")


def frame_path(seq_dir: Path, index: int) -> Path:
    return Path(seq_dir) / "img" / f"{index + 1:04d}.jpg"


def image_folder(seq_dir: Path) -> Path:
    return Path(seq_dir) / "img"


def encode(label: FrameLabel | None) -> tuple[Box | None, dict[str, object]]:
    return (label.box if label is not None else None), {}


def decode(box: Box | None, native: dict[str, object]) -> Flags:
    return Flags(absent=box is None)


def _finite(box) -> bool:
    import math

    return all(math.isfinite(float(v)) for v in box)

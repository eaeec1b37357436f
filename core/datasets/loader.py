"""load_sequences: every labelled sequence under a folder, whatever its layout."""
from __future__ import annotations

from pathlib import Path

from ..errors import FormatError
from .detect import LAYOUTS, detect_layout
from .sequence import Sequence


def load_sequences(root: str | Path, layout: str | None = None) -> list[Sequence]:
    """Sequences of an OTB/GOT-10k/LaSOT/MOT/COCO folder or of our project(s), 0-based boxes.

    layout None detects it (detect_layout). COCO annotations become one-frame sequences
    (static-image pairs); MOT and projects give one sequence per track.
    """
    root = Path(root)
    layout = detect_layout(root) if layout is None else layout.lower().replace("-", "")
    if layout not in LAYOUTS:
        raise FormatError(f"Unknown dataset layout '{layout}'; use one of {', '.join(LAYOUTS)}.")
    if not root.exists():
        raise FormatError(f"{root}: no such file or folder.")
    if layout == "otb":
        from .otb import read_otb as read
    elif layout == "got10k":
        from .got10k import read_got10k as read
    elif layout == "lasot":
        from .lasot import read_lasot as read
    elif layout == "mot":
        from .mot import read_mot as read
    elif layout == "coco":
        from .coco import read_coco as read
    else:
        from .project import read_project

        def read(path: Path) -> list[Sequence]:
            files = [path] if path.is_file() else sorted(path.glob("*.json"))
            return [s for f in files for s in read_project(f)]
    sequences = read(root)
    if not sequences:
        raise FormatError(f"{root}: no labelled sequences found for layout {layout}.")
    return sequences

"""GOT-10k sequences: absence and cover 0 become absent frames (never training positives)."""
from __future__ import annotations

from pathlib import Path

from .otb import trim_to_frames
from .sequence import Sequence


def read_got10k(root: Path) -> list[Sequence]:
    """root: a sequence folder, a split folder with list.txt, or the dataset root (train, val, test)."""
    from ..formats import got10k

    return [trim_to_frames(got10k.read_sequence(d)) for d in got10k.find_sequences(Path(root))]

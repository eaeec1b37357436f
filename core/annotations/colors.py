"""Track colours: distinct, readable on video, and stable per track id (so undo restores the same colour)."""
from __future__ import annotations

import re

# Tableau-20 style palette, bright entries first: they stay visible on dark and light video.
PALETTE: tuple[str, ...] = (
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
    "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
    "#808000", "#ffd8b1", "#000075", "#808080",
)
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def color_for(track_id: int) -> str:
    """The palette colour of a track id (ids start at 1)."""
    return PALETTE[(track_id - 1) % len(PALETTE)]


def is_hex_color(value: object) -> bool:
    """True for '#rrggbb' strings, the only colour form the project file stores."""
    return isinstance(value, str) and bool(_HEX_COLOR.match(value))

"""Drawing boxes in the app the way a user does: real mouse drags on the frame view."""
from __future__ import annotations

from siamcross_gui.testing import drag, key


def drag_box(window, box) -> None:
    """Drag from the box's top-left to its bottom-right corner (frame pixels, x, y, w, h)."""
    x, y, w, h = box
    drag(window.view, window.view.viewport_point(x, y), window.view.viewport_point(x + w, y + h))


def draw_box(window, box) -> None:
    """Press the draw key (N), then drag the box on the frame with the mouse."""
    key(window, "N")
    drag_box(window, box)

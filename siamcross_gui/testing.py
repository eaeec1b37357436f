"""Driving the app from tests, benchmarks and the screenshot script: stand-in trackers, real mouse drags, keys."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtTest import QTest

from core.tracking import IdentityTracker
from core.tracking.result import ResponseMaps, TrackResult

if TYPE_CHECKING:  # the window is imported where it is made (this module loads without it)
    from .main_window import MainWindow
    from .settings import AppSettings

MOVE_INTERVAL_MS = 25
DEMO_VIDEO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "bigbuckbunny.mp4"


class SlowIdentityTracker(IdentityTracker):
    """Identity boxes, but each frame takes `delay` seconds (so a run can be cancelled mid-way)."""

    def __init__(self, delay: float = 0.05) -> None:
        super().__init__()
        self.delay = delay
        self.frames_tracked = 0
        self.lock = threading.Lock()

    def track_many(self, frame_bgr, targets):
        time.sleep(self.delay)
        with self.lock:
            self.frames_tracked += 1
        return super().track_many(frame_bgr, targets)


class MapsTracker(IdentityTracker):
    """Identity boxes with synthetic size x size response maps, a search region twice the box
    size, and a score that drops below 0.3 on every 10th tracked frame (for low-confidence tests)."""

    def __init__(self, size: int = 16) -> None:
        super().__init__()
        self.calls = 0
        self.size = size

    def track_many(self, frame_bgr, targets):
        self.calls += 1
        score = 0.1 if self.calls % 10 == 0 else 0.9
        out = []
        for t in targets:
            x, y, w, h = t.box_xywh
            n = self.size
            yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
            c = (n - 1) / 2.0
            peak = np.exp(-((xx - c) ** 2 + (yy - c) ** 2) / (20.0 * (n / 25.0) ** 2))
            peak = (peak / peak.max()).astype(np.float32)
            # boxes grow to the peak
            reg = (np.stack([xx + 1, n - xx, yy + 1, n - yy]) * (0.5 + peak)).astype(np.float32)
            maps = ResponseMaps(cls=peak, align=peak[::-1].copy(), score=peak * 0.5, reg=reg)
            region = (x - w / 2, y - h / 2, 2 * w, 2 * h)
            out.append(TrackResult(box_xywh=t.box_xywh, score=score, maps=maps, search_region_xywh=region))
        return out


MakeWindow = Callable[..., "object"]  # (tracker=None, settings=None, path=None) -> MainWindow


def tracker_factory_for(tracker=None):
    """A TrackerFactory from a tracker instance (shared by every run) or a factory; IdentityTracker by default."""
    tracker = tracker if tracker is not None else IdentityTracker()
    if callable(tracker) and not hasattr(tracker, "track_many"):
        return tracker
    return lambda model, device: tracker


@contextmanager
def window_maker(qtbot, default_settings: Callable[[], AppSettings], size: tuple[int, int] = (1280, 820),
                 focus: bool = True) -> Iterator[MakeWindow]:
    """Yield make(tracker=None, settings=None, path=None) -> a shown MainWindow; every window it
    made is shut down and closed on exit (shut down first, so no "save changes?" question blocks).

    default_settings builds the settings of a window made without any; focus=True waits until
    the window is exposed and active (keyboard tests need it).
    """
    from .main_window import MainWindow

    windows: list[MainWindow] = []

    def make(tracker=None, settings: AppSettings | None = None, path: Path | None = None) -> MainWindow:
        window = MainWindow(settings or default_settings(), tracker_factory=tracker_factory_for(tracker),
                            persist_settings=False)
        window.files.ask_recover = lambda recovery: False  # type: ignore[method-assign]  # no question in tests
        window.resize(*size)
        window.show()
        windows.append(window)
        if focus:
            qtbot.waitExposed(window)
        if path is not None:
            assert window.files.open_path(path), window.last_error
        if focus:
            activate(qtbot, window)
        return window

    try:
        yield make
    finally:
        for window in windows:
            window.controller.shutdown()
            window.close()
            window.deleteLater()


def activate(qtbot, window: MainWindow) -> None:
    """Give the window keyboard focus (offscreen Qt activates windows asynchronously). A message
    the window opened while it loaded (a window-modal box, e.g. an engine warning) keeps the
    focus: the window counts as active when it or one of its own dialogs is."""
    window.raise_()
    window.activateWindow()

    def active() -> bool:
        widget = QtWidgets.QApplication.activeWindow()
        while widget is not None and widget is not window:
            widget = widget.parentWidget()
        return widget is window

    qtbot.waitUntil(active, timeout=5000)
    window.view.setFocus()


def _send_mouse(viewport: QtWidgets.QWidget, kind: QtCore.QEvent.Type, pos: QtCore.QPoint,
                button: QtCore.Qt.MouseButton, buttons: QtCore.Qt.MouseButton) -> None:
    local = QtCore.QPointF(pos)
    event = QtGui.QMouseEvent(kind, local, QtCore.QPointF(viewport.mapToGlobal(pos)), button, buttons,
                              QtCore.Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(viewport, event)
    if kind == QtCore.QEvent.Type.MouseMove:
        QTest.qWait(MOVE_INTERVAL_MS)  # pyqtgraph drops moves closer than ~16 ms, as a real hand never sends


def drag(widget: QtWidgets.QAbstractScrollArea, start: QtCore.QPoint, end: QtCore.QPoint, steps: int = 8) -> None:
    """A real left-button press-drag-release on the widget's viewport (as a user would).

    QTest.mouseMove does not carry the pressed button, so pyqtgraph would never see a
    drag; these are the same QMouseEvents a window system delivers.
    """
    viewport = widget.viewport()
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    Type = QtCore.QEvent.Type
    _send_mouse(viewport, Type.MouseMove, start, none, none)
    _send_mouse(viewport, Type.MouseButtonPress, start, left, left)
    for i in range(1, steps + 1):
        p = QtCore.QPoint(round(start.x() + (end.x() - start.x()) * i / steps),
                          round(start.y() + (end.y() - start.y()) * i / steps))
        _send_mouse(viewport, Type.MouseMove, p, none, left)
    _send_mouse(viewport, Type.MouseButtonRelease, end, left, none)
    QtWidgets.QApplication.processEvents()


def click(widget: QtWidgets.QAbstractScrollArea, pos: QtCore.QPoint) -> None:
    """A real left click on the widget's viewport."""
    viewport = widget.viewport()
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    _send_mouse(viewport, QtCore.QEvent.Type.MouseMove, pos, none, none)
    _send_mouse(viewport, QtCore.QEvent.Type.MouseButtonPress, pos, left, left)
    _send_mouse(viewport, QtCore.QEvent.Type.MouseButtonRelease, pos, left, none)
    QtWidgets.QApplication.processEvents()


def key(window: QtWidgets.QWidget, sequence: str) -> None:
    """Press a key sequence on the window the way the keymap describes it (e.g. 'Ctrl+Z', 'F')."""
    combo = QtGui.QKeySequence(sequence)[0]  # type: ignore[index]  # PySide6's stubs lack QKeySequence[i]
    QTest.keyClick(window.focusWidget() or window, combo.key(), combo.keyboardModifiers())

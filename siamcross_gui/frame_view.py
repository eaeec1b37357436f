"""The frame canvas: one image in an aspect-locked ViewBox, zoom and pan, and a drawing mode.

It renders frames (``follow``: a controller's current frame) and reports boxes the user drew; it
never touches the store or the model.
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from core.errors import UserError

Box = tuple[float, float, float, float]
MIN_BOX_SIDE = 2.0


class DrawingViewBox(pg.ViewBox):
    """A ViewBox that, in drawing mode, turns a left-button drag into a box instead of a pan."""

    boxDrawn = QtCore.Signal(object)  # (x, y, w, h) in image pixels

    def __init__(self) -> None:
        super().__init__(invertY=True, lockAspect=True, enableMenu=False)
        self.drawing = False
        self._rubber = QtWidgets.QGraphicsRectItem()
        self._rubber.setPen(pg.mkPen("#ffff00", width=2, style=QtCore.Qt.PenStyle.DashLine, cosmetic=True))
        self._rubber.setZValue(1000)
        self._rubber.hide()
        self.addItem(self._rubber, ignoreBounds=True)
        self._start: QtCore.QPointF | None = None

    def mouseDragEvent(self, ev, axis=None) -> None:
        if not self.drawing or ev.button() != QtCore.Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        if ev.isStart():
            self._start = self.mapSceneToView(ev.buttonDownScenePos())
        if self._start is None:
            return
        current = self.mapSceneToView(ev.scenePos())
        rect = QtCore.QRectF(self._start, current).normalized()
        self._rubber.setRect(rect)
        self._rubber.show()
        if ev.isFinish():
            self._rubber.hide()
            self._start = None
            if rect.width() >= MIN_BOX_SIDE and rect.height() >= MIN_BOX_SIDE:
                self.boxDrawn.emit((rect.x(), rect.y(), rect.width(), rect.height()))


class FrameView(pg.GraphicsLayoutWidget):
    """Shows BGR frames (converted to RGB once per frame) with the overlay colour bar beside."""

    boxDrawn = QtCore.Signal(object)
    drawingChanged = QtCore.Signal(bool)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("#202020")
        self.view = DrawingViewBox()
        self.addItem(self.view, row=0, col=0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-100)
        self.view.addItem(self.image)
        self.view.boxDrawn.connect(self._on_box_drawn)
        self._frame_size: tuple[int, int] | None = None
        self.setAcceptDrops(False)  # the main window handles drops
        # draw mode is never invisible: a crosshair cursor and this banner while it is on
        self.mode_label = QtWidgets.QLabel("Draw mode: drag a box on the frame · Esc or N leaves", self)
        self.mode_label.setStyleSheet("background: rgba(255, 215, 0, 220); color: black; padding: 3px 8px;"
                                      " border-radius: 3px; font-weight: bold;")
        self.mode_label.adjustSize()
        self.mode_label.move(8, 8)
        self.mode_label.hide()

    # --- frames -------------------------------------------------------------------------
    def follow(self, controller, report_error: Callable[[str], None]) -> None:
        """Show controller's current frame whenever it changes; a frame that cannot be read is
        reported (report_error(sentence)) and the last one stays."""
        self._controller = controller
        self._report_error = report_error
        controller.frameChanged.connect(self._show_current)

    def _show_current(self, _frame: int) -> None:
        try:
            image = self._controller.current_frame_bgr()
        except UserError as error:
            self._report_error(str(error))
            return
        if image is not None:
            self.set_frame(image)

    def set_frame(self, frame_bgr: np.ndarray) -> None:
        """Show a frame; the view range is fitted only when the frame size changes."""
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)  # SIMD: faster than a numpy flip
        self.image.setImage(rgb, autoLevels=False, levels=None)  # uint8 as is: no rescale pass
        size = (rgb.shape[1], rgb.shape[0])
        if size != self._frame_size:
            self._frame_size = size
            self.fit()

    def fit(self) -> None:
        if self._frame_size is not None:
            w, h = self._frame_size
            self.view.setRange(QtCore.QRectF(0, 0, w, h), padding=0.01)

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return self._frame_size

    # --- drawing ------------------------------------------------------------------------
    def set_drawing(self, on: bool) -> None:
        if self.view.drawing != on:
            self.view.drawing = on
            cursor = QtCore.Qt.CursorShape.CrossCursor if on else QtCore.Qt.CursorShape.ArrowCursor
            self.setCursor(cursor)
            self.viewport().setCursor(cursor)
            self.mode_label.setVisible(on)
            self.drawingChanged.emit(on)

    @property
    def drawing(self) -> bool:
        return self.view.drawing

    def _on_box_drawn(self, box: Box) -> None:
        try:
            self.boxDrawn.emit(clip_box(box, self._frame_size))  # still in draw mode: "new track" holds
        finally:
            self.set_drawing(False)

    # --- helpers for tests and the screenshot script ------------------------------------
    def viewport_point(self, x: float, y: float) -> QtCore.QPoint:
        """Viewport pixel of the image point (x, y)."""
        scene = self.view.mapViewToScene(QtCore.QPointF(x, y))
        return self.mapFromScene(scene)


def clip_box(box: Box, frame_size: tuple[int, int] | None) -> Box:
    """Clip a drawn box to the frame so a drag past the border still gives a valid box."""
    x, y, w, h = box
    if frame_size is None:
        return box
    fw, fh = frame_size
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(float(fw), x + w), min(float(fh), y + h)
    return (x1, y1, max(0.0, x2 - x1), max(0.0, y2 - y1))

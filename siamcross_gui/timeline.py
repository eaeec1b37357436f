"""Confidence timeline under the frame view: score per frame per track, keyframes, low spans.

Clicking or dragging the frame cursor asks to seek; the widget never changes the store.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from core.annotations.model import Project

from .confidence import low_confidence_frames, score_curve


class ConfidenceTimeline(pg.PlotWidget):
    """One curve per visible track, keyframe markers, frames below the threshold shaded red."""

    seekRequested = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, background="#202020")
        self.setMinimumHeight(110)
        self.setMaximumHeight(170)
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)
        plot.setYRange(0, 1.05, padding=0)
        plot.setLabel("left", "score")
        plot.showGrid(x=False, y=True, alpha=0.2)
        self.low_bars = pg.BarGraphItem(x=[], height=[], width=1.0, y0=0,
                                        brush=pg.mkBrush(255, 60, 60, 70), pen=pg.mkPen(None))
        plot.addItem(self.low_bars)
        self.threshold_line = pg.InfiniteLine(angle=0, pos=0.3, movable=False,
                                              pen=pg.mkPen("#ff5050", style=QtCore.Qt.PenStyle.DotLine))
        plot.addItem(self.threshold_line)
        self.cursor = pg.InfiniteLine(angle=90, pos=0, movable=True, pen=pg.mkPen("#ffffff", width=2))
        self.cursor.sigDragged.connect(lambda line: self.seekRequested.emit(int(round(line.value()))))
        plot.addItem(self.cursor)
        self._curves: dict[int, pg.PlotDataItem] = {}
        self._keys: dict[int, pg.ScatterPlotItem] = {}
        self.low_frames: list[int] = []
        self._frame_count = 1
        plot.scene().sigMouseClicked.connect(self._on_click)

    def set_frame(self, frame: int) -> None:
        self.cursor.blockSignals(True)
        self.cursor.setValue(frame)
        self.cursor.blockSignals(False)

    def refresh(self, project: Project, threshold: float) -> None:
        """Redraw every curve from the project (cheap: one numpy array per track)."""
        n = project.media.frame_count if project.media else 1
        if n != self._frame_count:
            self._frame_count = n
            self.getPlotItem().setXRange(0, max(1, n - 1), padding=0.01)
            self.getPlotItem().getViewBox().setLimits(xMin=-1, xMax=n)
        x = np.arange(n)
        shown = {tid: t for tid, t in project.tracks.items() if not t.hidden}
        for tid in list(self._curves):
            if tid not in shown:
                self.getPlotItem().removeItem(self._curves.pop(tid))
                self.getPlotItem().removeItem(self._keys.pop(tid))
        for tid, track in shown.items():
            if tid not in self._curves:
                self._curves[tid] = self.getPlotItem().plot(connect="finite")
                self._keys[tid] = pg.ScatterPlotItem(symbol="d", size=9)
                self.getPlotItem().addItem(self._keys[tid])
            curve = score_curve(track, n)
            self._curves[tid].setData(x, curve, connect="finite", pen=pg.mkPen(track.color, width=1.5))
            keys = [f for f in track.keyframes() if f < n]
            self._keys[tid].setData(keys, [1.0] * len(keys), brush=pg.mkBrush(track.color),
                                    pen=pg.mkPen("#ffffff"))
        self.low_frames = low_confidence_frames(shown.values(), threshold)
        self.low_bars.setOpts(x=np.asarray(self.low_frames, float), height=np.ones(len(self.low_frames)),
                              width=1.0)
        self.threshold_line.setValue(threshold)

    def frame_at_scene(self, scene_pos: QtCore.QPointF) -> int:
        x = self.getPlotItem().getViewBox().mapSceneToView(scene_pos).x()
        return int(min(max(round(x), 0), self._frame_count - 1))

    def _on_click(self, ev) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and \
                self.getPlotItem().getViewBox().sceneBoundingRect().contains(ev.scenePos()):
            self.seekRequested.emit(self.frame_at_scene(ev.scenePos()))

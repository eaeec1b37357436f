"""One timeline row per track under the confidence curves, and a row of reviewed frames.

Each row shows what its track has on every frame: a keyframe (solid, with a white tick), an
imported label (solid), a tracked or interpolated box (the track's colour, paler), a low score
(amber: a red track would hide red), absent (grey) or nothing. Rows are drawn from the confidence
timeline's arrays, which are patched frame by frame, so a refresh repaints only the tracks that
changed. Clicking a row selects
its track and goes to that frame; the x axis is linked to the confidence timeline's.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from core.annotations.model import Project, Track

from .timeline_data import ABSENT, DERIVED, HUMAN, KEY, LOW, TimelineData

ROW_PX = 14
ROWS_SHOWN = 5  # reviewed + 4 tracks at ROW_PX each; more tracks share the same height
REVIEWED_RGBA = (46, 160, 67, 230)
LOW_RGBA = (255, 190, 0, 255)
ABSENT_RGBA = (110, 110, 110, 200)
LEFT_AXIS_PX = 96  # both timelines reserve this much for their left axis, so their frames line up


def row_rgba(state: np.ndarray, color: str) -> np.ndarray:
    """1 x N RGBA of one track's row from its per-frame states."""
    qcolor = QtGui.QColor(color)
    rgb = np.array([qcolor.red(), qcolor.green(), qcolor.blue()], np.uint8)
    out = np.zeros((1, len(state), 4), np.uint8)
    for kind, alpha in ((KEY, 255), (HUMAN, 235), (DERIVED, 140)):
        mask = state == kind
        out[0, mask, :3] = rgb
        out[0, mask, 3] = alpha
    out[0, state == LOW] = LOW_RGBA
    out[0, state == ABSENT] = ABSENT_RGBA
    return out


def reviewed_rgba(reviewed: Iterable[int], frame_count: int) -> np.ndarray:
    out = np.zeros((1, max(frame_count, 1), 4), np.uint8)
    frames = np.fromiter((f for f in reviewed if 0 <= f < frame_count), dtype=np.int64)
    out[0, frames] = REVIEWED_RGBA
    return out


class TrackRows(pg.PlotWidget):
    """Row 0: reviewed frames; then one row per shown track, top to bottom by id."""

    seekRequested = QtCore.Signal(int)
    trackClicked = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, background="#202020")
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)
        plot.hideAxis("bottom")
        plot.getAxis("left").setWidth(LEFT_AXIS_PX)
        plot.getViewBox().invertY(True)
        self.cursor = pg.InfiniteLine(angle=90, pos=0, movable=False, pen=pg.mkPen("#ffffff", width=2))
        plot.addItem(self.cursor)
        self._reviewed = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self._reviewed)
        self._rows: dict[int, pg.ImageItem] = {}
        self._ticks: dict[int, pg.ScatterPlotItem] = {}
        self.order: list[int] = []
        self._frame_count = 1
        self._set_height(0)
        self.setToolTip("One row per track: solid = keyframe or imported label, pale = tracked or interpolated, "
                        "amber = low score, grey = absent, white tick = keyframe. Top row: reviewed frames (R). "
                        "Click a row to select its track and go to that frame.")
        plot.scene().sigMouseClicked.connect(self._on_click)

    def _set_height(self, tracks: int) -> None:
        """The widget's height never changes (a view that shrank under a drag would move the box being
        drawn): ROWS_SHOWN rows fit, and more tracks make the rows thinner."""
        self.setFixedHeight(8 + ROW_PX * ROWS_SHOWN)
        self.getPlotItem().setYRange(0, max(tracks + 1, ROWS_SHOWN), padding=0)

    def set_frame(self, frame: int) -> None:
        self.cursor.setValue(frame)

    def refresh(self, project: Project, data: TimelineData) -> None:
        """Rebuild every row (opening, tracks added, removed, recoloured, renamed or hidden)."""
        plot = self.getPlotItem()
        for item in (*self._rows.values(), *self._ticks.values()):
            plot.removeItem(item)
        self._rows.clear()
        self._ticks.clear()
        self._frame_count = data.frame_count
        shown = {tid: t for tid, t in project.tracks.items() if not t.hidden and tid in data.tracks}
        self.order = sorted(shown)
        for tid in self.order:
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            self._rows[tid] = image
            ticks = pg.ScatterPlotItem(symbol="s", size=3, pen=None, brush=pg.mkBrush("#ffffff"))
            plot.addItem(ticks)
            self._ticks[tid] = ticks
            self.update_track(shown[tid], data)
        labels = [(0.5, "reviewed")] + [(i + 1.5, _row_label(shown[tid])) for i, tid in enumerate(self.order)]
        plot.getAxis("left").setTicks([labels, []])
        self._set_height(len(self.order))
        self.update_reviewed(project)

    def update_track(self, track: Track, data: TimelineData) -> None:
        """Redraw one track's row from its arrays (cheap: numpy over the frame count)."""
        if track.id not in self._rows:
            return
        arrays = data.tracks[track.id]
        row = self.order.index(track.id) + 1
        image = self._rows[track.id]
        image.setImage(row_rgba(arrays.state, track.color), autoLevels=False, levels=None)
        image.setRect(QtCore.QRectF(-0.5, row + 0.15, float(self._frame_count), 0.7))
        keys = np.flatnonzero(arrays.key)
        self._ticks[track.id].setData(keys.astype(float), np.full(len(keys), row + 0.5))

    def update_reviewed(self, project: Project) -> None:
        self._reviewed.setImage(reviewed_rgba(project.reviewed, self._frame_count), autoLevels=False, levels=None)
        self._reviewed.setRect(QtCore.QRectF(-0.5, 0.2, float(self._frame_count), 0.6))

    def row_at(self, y: float) -> int | None:
        """The track id of the row at view y (None for the reviewed row or below the last)."""
        row = int(np.floor(y)) - 1
        return self.order[row] if 0 <= row < len(self.order) else None

    def _on_click(self, ev) -> None:
        vb = self.getPlotItem().getViewBox()
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        point = vb.mapSceneToView(ev.scenePos())
        frame = int(min(max(round(point.x()), 0), self._frame_count - 1))
        track_id = self.row_at(point.y())
        if track_id is not None:
            self.trackClicked.emit(track_id)
        self.seekRequested.emit(frame)


def _row_label(track: Track) -> str:
    text = f"#{track.id} {track.name or track.label}"
    return text if len(text) <= 14 else text[:13] + "…"

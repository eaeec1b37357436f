"""Confidence timeline under the frame view: score per frame per track, keyframes, low spans.

Clicking or dragging the frame cursor asks to seek; the widget never changes the store.
Updates are incremental (``update_frames``): each track's curve is drawn in pieces of
CHUNK frames and only the pieces a change touched are rebuilt and repainted, so the cost
of an update does not grow with the length of the video. Following a controller (``follow``),
it gathers the store's changes and redraws them every REFRESH_MS, and at once when a run ends.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from core.annotations.model import Project, Track

from .timeline_data import CHUNK, TimelineData, TrackArrays, chunk_count, chunk_span
from .timeline_rows import LEFT_AXIS_PX, TrackRows

LOW_RGBA = (255, 60, 60, 70)
REFRESH_MS = 150


@dataclass
class TimelineChanges:
    """Store changes gathered between two timeline refreshes; full when tracks were added,
    removed, recoloured or hidden (or a new project opened)."""

    full: bool = False
    track_ids: set[int] = field(default_factory=set)
    frames: set[int] = field(default_factory=set)

    def add(self, change) -> None:
        if change.structure:
            self.full = True
        self.track_ids |= change.track_ids
        self.frames |= change.frames


class FrameAxis(pg.AxisItem):
    """Numbers frames from 1, as the frame counter does; x itself stays the 0-based frame index.

    Ticks fall on round 1-based numbers (frame 20 sits at x = 19) and never between frames.
    """

    def tickValues(self, minVal, maxVal, size):
        levels = super().tickValues(minVal + 1, maxVal + 1, size)
        out = []
        for spacing, values in levels:
            if spacing < 1:
                continue
            out.append((spacing, [v - 1 for v in values if float(v).is_integer()]))
        return out

    def tickStrings(self, values, scale, spacing):
        return [str(int(round(v)) + 1) for v in values]


class ConfidenceTimeline(pg.PlotWidget):
    """One curve per visible track, keyframe markers, frames below the threshold shaded red."""

    seekRequested = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, background="#202020", axisItems={"bottom": FrameAxis("bottom")})
        self.setMinimumHeight(110)
        self.setMaximumHeight(170)
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)
        plot.setYRange(0, 1.05, padding=0)
        plot.setLabel("left", "score")
        plot.getAxis("left").setWidth(LEFT_AXIS_PX)  # as wide as the track rows' axis: frames line up
        plot.showGrid(x=False, y=True, alpha=0.2)
        self.threshold_line = pg.InfiniteLine(angle=0, pos=0.3, movable=False,
                                              pen=pg.mkPen("#ff5050", style=QtCore.Qt.PenStyle.DotLine))
        plot.addItem(self.threshold_line)
        self.cursor = pg.InfiniteLine(angle=90, pos=0, movable=True, pen=pg.mkPen("#ffffff", width=2))
        self.cursor.sigDragged.connect(lambda line: self.seekRequested.emit(int(round(line.value()))))
        plot.addItem(self.cursor)
        self._low_pieces: list[pg.ImageItem] = []  # 1 x CHUNK textures per chunk, not one bar per frame
        self._pieces: dict[int, list[pg.PlotCurveItem]] = {}  # per track, one curve piece per CHUNK frames
        self._keys: dict[int, pg.ScatterPlotItem] = {}
        self._data = TimelineData(frame_count=1, threshold=0.3)
        self.rows: TrackRows | None = None  # one row per track, drawn from the same arrays (attach_rows)
        self._low_any = np.zeros(1, bool)
        self._low_frames: list[int] | None = []
        self._frame_count = 1
        self._make_low_pieces()
        plot.scene().sigMouseClicked.connect(self._on_click)

    @property
    def low_frames(self) -> list[int]:
        """Sorted frames where a shown track scores below the threshold (for [ and ] navigation)."""
        if self._low_frames is None:
            self._low_frames = np.flatnonzero(self._low_any).tolist()
        return self._low_frames

    def attach_rows(self, rows: TrackRows) -> None:
        """Keep rows (one per track) in step with this timeline: same arrays, same x range."""
        self.rows = rows
        rows.setXLink(self)

    @property
    def data(self) -> TimelineData:
        return self._data

    # --- following the controller ----------------------------------------------------------
    def follow(self, controller) -> None:
        """Draw controller's project (its shown tracks, its score threshold) and frame; clicks seek it."""
        self._controller = controller
        self._changes = TimelineChanges()
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh_now)
        controller.frameChanged.connect(self.set_frame)
        controller.mediaOpened.connect(self._on_media_opened)
        controller.labelsChanged.connect(self._changes_add)
        controller.projectChanged.connect(self._schedule)
        controller.selectionChanged.connect(self._schedule)
        controller.propagationFinished.connect(self._on_run_finished)
        self.seekRequested.connect(controller.seek)
        if self.rows is not None:
            self.rows.trackClicked.connect(controller.select)
            self.rows.seekRequested.connect(controller.seek)

    def _on_media_opened(self) -> None:
        self._changes.full = True

    def _changes_add(self, change) -> None:
        self._changes.add(change)

    def _schedule(self, *_args) -> None:
        if self._controller.project is not None and not self._timer.isActive():
            self._timer.start()

    def _on_run_finished(self, _cancelled: bool) -> None:
        self._timer.stop()
        self.refresh_now()

    def refresh_now(self) -> None:
        """Redraw what changed since the last refresh (everything after a structural change)."""
        project = self._controller.project
        if project is None:
            return
        changes, self._changes = self._changes, TimelineChanges()
        threshold = self._controller.settings.score_threshold
        if changes.full:
            self.refresh(project, threshold)
        else:  # refreshes in full by itself when the threshold, the frame count or the shown tracks changed
            self.update_frames(project, threshold, changes.track_ids, changes.frames)

    def set_frame(self, frame: int) -> None:
        self.cursor.blockSignals(True)
        self.cursor.setValue(frame)
        self.cursor.blockSignals(False)
        if self.rows is not None:
            self.rows.set_frame(frame)

    def refresh(self, project: Project, threshold: float) -> None:
        """Rebuild every track's arrays and curve pieces (on opening, undo of structure, settings)."""
        n = project.media.frame_count if project.media else 1
        if n != self._frame_count:
            self._frame_count = n
            self.getPlotItem().setXRange(0, max(1, n - 1), padding=0.01)
            self.getPlotItem().getViewBox().setLimits(xMin=-1, xMax=n)
            self._make_low_pieces()
        for tid in list(self._pieces):
            self._remove_track(tid)
        self._data = TimelineData(frame_count=n, threshold=threshold)
        for track in self._shown(project).values():
            self._data.rebuild(track)
            self._add_track(track)
        self._low_any = self._data.low_any()
        self._low_frames = None
        for chunk in range(len(self._low_pieces)):
            self._draw_low(chunk)
        self.threshold_line.setValue(threshold)
        if self.rows is not None:
            self.rows.refresh(project, self._data)

    def update_frames(self, project: Project, threshold: float, track_ids: Iterable[int],
                      frames: Iterable[int]) -> None:
        """Patch the changed frames of the changed tracks and redraw only the pieces they touch;
        anything else (frame count, threshold, tracks shown or hidden) takes a full refresh."""
        n = project.media.frame_count if project.media else 1
        shown = self._shown(project)
        if n != self._frame_count or threshold != self._data.threshold or set(shown) != set(self._data.tracks):
            self.refresh(project, threshold)
            return
        frames = [f for f in frames if 0 <= f < n]
        if not frames:
            return
        for tid in track_ids:
            track = shown.get(tid)
            if track is None:
                continue
            arrays = self._data.tracks[tid]
            keys_before = arrays.key[frames]  # a copy (fancy indexing)
            for chunk in self._data.patch(track, frames):
                self._draw_piece(tid, chunk, arrays)
            if not np.array_equal(keys_before, arrays.key[frames]):
                self._draw_keys(track, arrays)
            if self.rows is not None:
                self.rows.update_track(track, self._data)
        if self.rows is not None:
            self.rows.update_reviewed(project)
        index = np.asarray(frames)
        low = np.zeros(len(index), bool)
        for arrays in self._data.tracks.values():
            low |= arrays.low[index]
        changed = index[self._low_any[index] != low]
        if len(changed):
            self._low_any[index] = low
            self._low_frames = None
            for chunk in sorted(set((changed // CHUNK).tolist())):
                self._draw_low(chunk)

    # --- drawing ---------------------------------------------------------------------------
    @staticmethod
    def _shown(project: Project) -> dict[int, Track]:
        return {tid: t for tid, t in project.tracks.items() if not t.hidden}

    def _add_track(self, track: Track) -> None:
        plot = self.getPlotItem()
        pen = pg.mkPen(track.color, width=1.5)
        pieces = []
        for _chunk in range(chunk_count(self._frame_count)):
            piece = pg.PlotCurveItem(pen=pen, connect="finite")
            plot.addItem(piece)
            pieces.append(piece)
        self._pieces[track.id] = pieces
        self._keys[track.id] = pg.ScatterPlotItem(symbol="d", size=9)
        plot.addItem(self._keys[track.id])
        arrays = self._data.tracks[track.id]
        for chunk in range(len(pieces)):
            self._draw_piece(track.id, chunk, arrays)
        self._draw_keys(track, arrays)

    def _remove_track(self, tid: int) -> None:
        plot = self.getPlotItem()
        for piece in self._pieces.pop(tid):
            plot.removeItem(piece)
        plot.removeItem(self._keys.pop(tid))

    def _draw_piece(self, tid: int, chunk: int, arrays: TrackArrays) -> None:
        start, stop = chunk_span(chunk, self._frame_count)
        self._pieces[tid][chunk].setData(np.arange(start, stop, dtype=float), arrays.score[start:stop],
                                         connect="finite")

    def _draw_keys(self, track: Track, arrays: TrackArrays) -> None:
        keys = np.flatnonzero(arrays.key)
        self._keys[track.id].setData(keys.astype(float), np.ones(len(keys)), brush=pg.mkBrush(track.color),
                                     pen=pg.mkPen("#ffffff"))

    def _make_low_pieces(self) -> None:
        plot = self.getPlotItem()
        for piece in self._low_pieces:
            plot.removeItem(piece)
        self._low_pieces = []
        for _ in range(chunk_count(self._frame_count)):
            # (no autoDownsample: pyqtgraph crashed painting a downsampled 1-row image)
            piece = pg.ImageItem(axisOrder="row-major")
            piece.setZValue(-10)
            plot.addItem(piece)
            self._low_pieces.append(piece)

    def _draw_low(self, chunk: int) -> None:
        """Frames below the threshold shaded red: a 1 x CHUNK RGBA image over x in [start - 0.5, stop - 0.5],
        y in [0, 1]."""
        start, stop = chunk * CHUNK, min(self._frame_count, (chunk + 1) * CHUNK)
        rgba = np.zeros((1, stop - start, 4), np.uint8)
        rgba[0, self._low_any[start:stop]] = LOW_RGBA
        piece = self._low_pieces[chunk]
        piece.setImage(rgba, autoLevels=False, levels=None)
        piece.setRect(QtCore.QRectF(start - 0.5, 0.0, float(stop - start), 1.0))

    def frame_at_scene(self, scene_pos: QtCore.QPointF) -> int:
        x = self.getPlotItem().getViewBox().mapSceneToView(scene_pos).x()
        return int(min(max(round(x), 0), self._frame_count - 1))

    def _on_click(self, ev) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and \
                self.getPlotItem().getViewBox().sceneBoundingRect().contains(ev.scenePos()):
            self.seekRequested.emit(self.frame_at_scene(ev.scenePos()))

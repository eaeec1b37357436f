"""Editable boxes on the frame: one pyqtgraph RectROI per visible track, with an id/label tag.

The layer only mirrors what it is given (track id -> label on the current frame; ``follow``
takes it from a controller whenever the frame, the project or the selection changes) and
reports edits; the controller decides what an edit means (a manual keyframe).
"""
from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6 import QtCore

from core.annotations.model import FrameLabel, Provenance

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class BoxView:
    """What the layer draws for one track on the current frame."""

    track_id: int
    label: FrameLabel
    text: str
    color: str
    selected: bool
    locked: bool = False


class TrackBox(pg.RectROI):
    """A resizable box; dashed when the frame's label is not a manual keyframe."""

    def __init__(self, track_id: int) -> None:
        super().__init__((0, 0), (1, 1), movable=True, rotatable=False, resizable=True,
                         removable=False, invertible=False)
        self.track_id = track_id
        self.addScaleHandle((0, 0), (1, 1))
        self.addScaleHandle((1, 0), (0, 1))
        self.addScaleHandle((0, 1), (1, 0))
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.LeftButton)
        self.tag = pg.TextItem(anchor=(0, 1), fill=pg.mkBrush(0, 0, 0, 200))
        self.tag.setZValue(20)

    def show_view(self, view: BoxView) -> None:
        x, y, w, h = view.label.box  # type: ignore[misc]  # shown views have boxes
        self.setPos((x, y), update=False, finish=False)
        self.setSize((w, h), update=True, finish=False)
        keyframe = view.label.provenance is Provenance.MANUAL
        style = QtCore.Qt.PenStyle.SolidLine if keyframe else QtCore.Qt.PenStyle.DashLine
        width = 3 if view.selected else 2
        self.setPen(pg.mkPen(view.color, width=width, style=style, cosmetic=True))
        self.hoverPen = pg.mkPen(view.color, width=width + 1, cosmetic=True)
        self.setZValue(11 if view.selected else 10)
        self.tag.setText(view.text, color=view.color)
        self.tag.setPos(x, y)
        self.locked = view.locked  # a locked track's box cannot be moved or resized
        self.translatable = not view.locked
        for handle in self.getHandles():
            handle.setVisible(not view.locked)

    def box(self) -> Box:
        pos, size = self.pos(), self.size()
        return (float(pos.x()), float(pos.y()), float(size.x()), float(size.y()))


def tag_text(track_id: int, class_label: str, label: FrameLabel, name: str = "", locked: bool = False) -> str:
    """'#3 car 0.82', '#3 Herbie (car) key' (score only for derived frames, 'key' for keyframes,
    flags and 'locked' appended)."""
    parts = [f"#{track_id}", f"{name} ({class_label})" if name else class_label]
    if label.provenance is Provenance.MANUAL:
        parts.append("key")
    elif label.score is not None:
        parts.append(f"{label.score:.2f}")
    flags = label.flags
    parts += [flag for flag, on in (("occluded", flags.occluded), ("out-of-view", flags.out_of_view)) if on]
    if locked:
        parts.append("locked")
    return " ".join(parts)


class BoxLayer(QtCore.QObject):
    """Keeps one TrackBox per shown track in a ViewBox and reports user edits and clicks."""

    boxEdited = QtCore.Signal(int, object)  # track id, (x, y, w, h) after a move/resize
    trackClicked = QtCore.Signal(int)

    def __init__(self, viewbox: pg.ViewBox) -> None:
        super().__init__()
        self._viewbox = viewbox
        self._boxes: dict[int, TrackBox] = {}
        self._updating = False

    @property
    def boxes(self) -> dict[int, TrackBox]:
        return self._boxes

    def follow(self, controller) -> None:
        """Show the boxes of controller's shown tracks on its frame; a click on a box selects its track."""
        self._controller = controller
        c = controller
        for signal in (c.frameChanged, c.projectChanged, c.selectionChanged, c.propagationFinished):
            signal.connect(self._mirror)
        self.trackClicked.connect(controller.select)

    def _mirror(self, *_args) -> None:
        c = self._controller
        if c.project is None:
            return
        views = []
        for track in c.project.tracks.values():
            label = track.frames.get(c.frame)
            if track.hidden or label is None or label.box is None:
                continue
            views.append(BoxView(track.id, label, tag_text(track.id, track.label, label, track.name, track.locked),
                                 track.color, track.id == c.selected, track.locked))
        self.show(views)

    def show(self, views: list[BoxView]) -> None:
        """Make the drawn boxes match views exactly (add, update, remove)."""
        self._updating = True
        try:
            wanted = {v.track_id: v for v in views if v.label.box is not None}
            for track_id in list(self._boxes):
                if track_id not in wanted:
                    self._remove(track_id)
            for track_id, view in wanted.items():
                box = self._boxes.get(track_id) or self._add(track_id)
                box.show_view(view)
        finally:
            self._updating = False

    def _add(self, track_id: int) -> TrackBox:
        box = TrackBox(track_id)
        box.sigRegionChangeFinished.connect(self._on_changed)
        box.sigRegionChangeStarted.connect(lambda roi: self.trackClicked.emit(roi.track_id))
        box.sigClicked.connect(lambda roi, _ev: self.trackClicked.emit(roi.track_id))
        self._viewbox.addItem(box)
        self._viewbox.addItem(box.tag, ignoreBounds=True)
        self._boxes[track_id] = box
        return box

    def _remove(self, track_id: int) -> None:
        box = self._boxes.pop(track_id)
        self._viewbox.removeItem(box.tag)
        self._viewbox.removeItem(box)

    def _on_changed(self, roi: TrackBox) -> None:
        if not self._updating:
            self.boxEdited.emit(roi.track_id, roi.box())

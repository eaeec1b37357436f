"""Response-map overlay: the tracker's maps, smooth and see-through, over the search region.

Which map (classification, alignment, fused score, regression extent) is a pure choice over
ResponseMaps (map_image), and how it is drawn is another (overlay_rgba): the coarse map (one cell
per stride of the model's output grid) is upsampled bilinearly, coloured, made
transparent where it is low and towards the region's edge, and cut to the frame, so it reads as a
glow over the target instead of a dark grid of blocks, and the boxes and their labels stay
readable. Regression extent is drawn faint, and only where the tracker looks (its alpha follows
the fused score). The item places the image in frame coordinates.
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from core.tracking.result import ResponseMaps, TrackResult

MAP_KINDS: dict[str, str] = {
    "score": "Fused score",
    "cls": "Classification",
    "align": "Alignment",
    "extent": "Regression extent",
}
COLORMAP = pg.colormap.get("inferno")
UPSAMPLE = 8          # output pixels per map cell: smooth at any zoom a user works at
FAINT = {"extent": 0.8}  # kinds drawn faint (their alpha scaled): they describe, the box decides
ALPHA_GAMMA = 0.7     # alpha = value ** gamma: low values fade out, the peak stays solid
EDGE_CELLS = 1.0      # the image fades to nothing over this many cells at the region's border

Rect = tuple[float, float, float, float]


def map_image(maps: ResponseMaps, kind: str) -> np.ndarray:
    """HxW float32 in [0, 1] for the chosen map.

    extent: the predicted box size at each cell (sqrt of its area) stretched from its smallest to
    its largest: where the tracker predicts a larger or smaller box than elsewhere. (Divided by its
    maximum alone it was nearly 1 everywhere: a uniform wash that said nothing.)
    """
    if kind == "extent":
        reg = np.clip(np.nan_to_num(np.asarray(maps.reg, dtype=np.float32)), 0, None)
        size = np.sqrt((reg[0] + reg[1]) * (reg[2] + reg[3]))
        if not size.size:
            return np.zeros_like(size)
        low, high = float(size.min()), float(size.max())
        if high - low <= 1e-6 * max(high, 1.0):
            return np.zeros_like(size)
        return np.clip((size - low) / (high - low), 0.0, 1.0).astype(np.float32)
    if kind not in MAP_KINDS:
        raise ValueError(f"unknown overlay map {kind!r}")
    image = np.asarray(getattr(maps, kind), dtype=np.float32)
    return np.clip(np.nan_to_num(image), 0.0, 1.0)


def map_weight(maps: ResponseMaps, kind: str) -> np.ndarray | None:
    """How opaque each cell is drawn, when not by its own value: the extent (a size, high almost
    everywhere) shows where the tracker looks, by the fused score relative to its peak."""
    if kind != "extent":
        return None
    score = np.clip(np.nan_to_num(np.asarray(maps.score, dtype=np.float32)), 0.0, None)
    top = float(score.max()) if score.size else 0.0
    return score / top if top > 0 else np.zeros_like(score)


_LUT = np.ascontiguousarray(COLORMAP.getLookupTable(0.0, 1.0, 256)[:, :3].astype(np.uint8))
_ALPHA = np.power(np.linspace(0.0, 1.0, 256), ALPHA_GAMMA).astype(np.float32)  # value index -> alpha in [0, 1]
_EDGES: dict[tuple[int, int, int], np.ndarray] = {}


def _edge_fade(up_h: int, up_w: int, upsample: int) -> np.ndarray:
    """float32 up_h x up_w: 1 inside, falling to 0 over EDGE_CELLS cells at the border (cached per shape)."""
    key = (up_h, up_w, upsample)
    fade = _EDGES.get(key)
    if fade is None:
        edge = max(1.0, EDGE_CELLS * upsample)
        ramp_x = np.clip((np.minimum(np.arange(up_w), np.arange(up_w)[::-1]) + 0.5) / edge, 0.0, 1.0)
        ramp_y = np.clip((np.minimum(np.arange(up_h), np.arange(up_h)[::-1]) + 0.5) / edge, 0.0, 1.0)
        fade = _EDGES[key] = np.minimum(ramp_y[:, None], ramp_x[None, :]).astype(np.float32)
    return fade


def overlay_rgba(values: np.ndarray, region_xywh: Rect, frame_wh: tuple[int, int] | None,
                 faint: float = 1.0, upsample: int = UPSAMPLE,
                 weight: np.ndarray | None = None) -> tuple[np.ndarray, Rect] | None:
    """(RGBA uint8 image, frame rectangle it covers) of a HxW map in [0, 1], or None if it lies
    outside the frame.

    Bilinear upsampling (cell centres stay where they were), the inferno colours, alpha rising
    with the value (or with weight, a HxW map in [0, 1], when given) and falling to 0 over
    EDGE_CELLS at the region's border, then cut to the frame (frame_wh None: not cut).
    """
    values = np.asarray(values, dtype=np.float32)
    h, w = values.shape
    if h == 0 or w == 0:
        return None
    up_h, up_w = h * upsample, w * upsample
    # colours and alpha through 256-entry tables, cheaper than float maths per pixel: this runs on
    # the GUI thread at every followed frame of a run
    index = cv2.resize(np.clip(values * 255.0 + 0.5, 0.0, 255.0), (up_w, up_h),
                       interpolation=cv2.INTER_LINEAR).astype(np.uint8)
    opaque = index if weight is None else cv2.resize(
        np.clip(np.asarray(weight, dtype=np.float32) * 255.0 + 0.5, 0.0, 255.0), (up_w, up_h),
        interpolation=cv2.INTER_LINEAR).astype(np.uint8)
    rgba = np.empty((up_h, up_w, 4), np.uint8)
    rgba[..., :3] = _LUT[index]
    alpha = _ALPHA[opaque] * _edge_fade(up_h, up_w, upsample)
    rgba[..., 3] = (alpha * (255.0 * faint) + 0.5).astype(np.uint8)
    x, y, rw, rh = (float(v) for v in region_xywh)
    px, py = rw / up_w, rh / up_h
    c0, r0, c1, r1 = 0, 0, up_w, up_h
    if frame_wh is not None:
        fw, fh = frame_wh
        c0 = int(np.clip(np.ceil(-x / px), 0, up_w)) if px > 0 else 0
        r0 = int(np.clip(np.ceil(-y / py), 0, up_h)) if py > 0 else 0
        c1 = int(np.clip(np.floor((fw - x) / px), 0, up_w)) if px > 0 else up_w
        r1 = int(np.clip(np.floor((fh - y) / py), 0, up_h)) if py > 0 else up_h
    if c1 <= c0 or r1 <= r0:
        return None
    return np.ascontiguousarray(rgba[r0:r1, c0:c1]), (x + c0 * px, y + r0 * py, (c1 - c0) * px, (r1 - r0) * py)


class OverlayItem(pg.ImageItem):
    """The heat map image; hidden until a TrackResult with maps and a search region arrives.

    frame_size() gives the shown frame's (width, height), so the map is cut to the frame.
    """

    def __init__(self, frame_size: Callable[[], tuple[int, int] | None] | None = None) -> None:
        super().__init__(axisOrder="row-major")
        self.setZValue(5)
        self.kind = "score"
        self.enabled = True
        self._frame_size = frame_size or (lambda: None)
        self._result: TrackResult | None = None
        self.covered: Rect | None = None  # the frame rectangle the shown image covers
        self.values: np.ndarray | None = None  # the HxW map in [0, 1] the image shows
        self._drawn_for: tuple | None = None  # (kind, frame size) of the image on screen
        self.hide()

    @property
    def has_image(self) -> bool:
        return self.image is not None and self.isVisible()

    @property
    def result(self) -> TrackResult | None:
        return self._result

    def show_result(self, result: TrackResult | None) -> None:
        if result is not None and result.maps is not None and result.search_region_xywh is not None:
            if result is self._result and self._drawn_for == (self.kind, self._frame_size()) and self.isVisible():
                return  # already on screen (a followed frame asks twice: its result, then the frame)
            self._result = result
        self._render()

    def clear_result(self) -> None:
        self._result = None
        self._render()

    def follow(self, controller) -> None:
        """Show the maps that explain the label on controller's frame (controller.result_for), and
        none where that label was corrected or undone."""
        self._controller = controller
        controller.mediaOpened.connect(self.clear_result)
        controller.frameChanged.connect(self._show_for)
        controller.labelsChanged.connect(self._on_labels_changed)
        controller.overlayResult.connect(self._on_result)

    def _show_for(self, frame: int) -> None:
        result = self._controller.result_for(frame)
        if result is None:
            self.clear_result()  # not just hidden: changing the map kind must not bring it back
        else:
            self.show_result(result)

    def _on_labels_changed(self, change) -> None:
        if self._controller.frame in change.frames:
            self._show_for(self._controller.frame)

    def _on_result(self, _result: TrackResult) -> None:
        self._show_for(self._controller.frame)

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self._render()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        self._render()

    def _render(self) -> None:
        result = self._result
        if not self.enabled or result is None or result.maps is None or result.search_region_xywh is None:
            self.covered = None
            self.hide()
            return
        self.values = map_image(result.maps, self.kind)
        drawn = overlay_rgba(self.values, result.search_region_xywh, self._frame_size(),
                             faint=FAINT.get(self.kind, 1.0), weight=map_weight(result.maps, self.kind))
        if drawn is None:
            self.covered = None
            self.hide()
            return
        rgba, rect = drawn
        self.setImage(rgba, autoLevels=False, levels=None)
        self.setRect(QtCore.QRectF(*rect))
        self.covered = rect
        self._drawn_for = (self.kind, self._frame_size())
        self.show()


def colorbar_pixmap(width: int, height: int) -> QtGui.QPixmap:
    """A horizontal strip of the overlay colour map from 0 (left) to 1 (right)."""
    lut = np.ascontiguousarray(COLORMAP.getLookupTable(0.0, 1.0, width)[:, :3].astype(np.uint8))
    strip = np.ascontiguousarray(np.repeat(lut[None, :, :], height, axis=0))
    image = QtGui.QImage(strip.data, width, height, 3 * width, QtGui.QImage.Format.Format_RGB888)
    return QtGui.QPixmap.fromImage(image.copy())


class OverlayControls(QtWidgets.QWidget):
    """Selector combo, opacity slider and a colour bar for the overlay."""

    def __init__(self, item: OverlayItem, opacity: float = 0.5,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.enabled_box = QtWidgets.QCheckBox("Heat map")
        self.enabled_box.setChecked(item.enabled)
        self.combo = QtWidgets.QComboBox()
        for kind, text in MAP_KINDS.items():
            self.combo.addItem(text, kind)
        self.opacity = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(opacity * 100))
        self.opacity.setMaximumWidth(120)
        self.opacity.setToolTip("Overlay opacity")
        self.colorbar = QtWidgets.QLabel()
        self.colorbar.setPixmap(colorbar_pixmap(140, 14))
        self.colorbar.setToolTip("Colour scale of the overlay: 0 (dark) to 1 (bright)")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.enabled_box, self.combo, QtWidgets.QLabel("Opacity"), self.opacity,
                       QtWidgets.QLabel("0"), self.colorbar, QtWidgets.QLabel("1")):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.enabled_box.toggled.connect(item.set_enabled)
        self.combo.currentIndexChanged.connect(lambda _i: item.set_kind(self.combo.currentData()))
        self.opacity.valueChanged.connect(lambda v: item.setOpacity(v / 100.0))
        item.setOpacity(opacity)

    def toggle(self) -> None:
        self.enabled_box.setChecked(not self.enabled_box.isChecked())

    def cycle(self) -> None:
        self.combo.setCurrentIndex((self.combo.currentIndex() + 1) % self.combo.count())

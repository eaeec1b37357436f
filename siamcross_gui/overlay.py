"""Response-map overlay: a semi-transparent colour-mapped image on the search region.

Which map (classification, alignment, fused score, regression extent) is a pure choice
over ResponseMaps (map_image), so it is tested without Qt; the item places it in frame
coordinates with setRect(search_region_xywh).
"""
from __future__ import annotations

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
def map_image(maps: ResponseMaps, kind: str) -> np.ndarray:
    """HxW float32 in [0, 1] for the chosen map; extent = predicted box area, normalised."""
    if kind == "extent":
        reg = np.asarray(maps.reg, dtype=np.float32)
        area = np.sqrt(np.clip((reg[0] + reg[1]) * (reg[2] + reg[3]), 0, None))
        top = float(area.max()) if area.size else 0.0
        return (area / top).astype(np.float32) if top > 0 else np.zeros_like(area)
    if kind not in MAP_KINDS:
        raise ValueError(f"unknown overlay map {kind!r}")
    image = np.asarray(getattr(maps, kind), dtype=np.float32)
    return np.clip(np.nan_to_num(image), 0.0, 1.0)


class OverlayItem(pg.ImageItem):
    """The heat map image; hidden until a TrackResult with maps and a search region arrives."""

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")
        self.setLookupTable(COLORMAP.getLookupTable(0.0, 1.0, 256))
        self.setZValue(5)
        self.kind = "score"
        self.enabled = True
        self._result: TrackResult | None = None
        self.hide()

    @property
    def has_image(self) -> bool:
        return self.image is not None and self.isVisible()

    def show_result(self, result: TrackResult | None) -> None:
        if result is not None and result.maps is not None and result.search_region_xywh is not None:
            self._result = result
        self._render()

    def clear_result(self) -> None:
        self._result = None
        self._render()

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self._render()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        self._render()

    def _render(self) -> None:
        result = self._result
        if not self.enabled or result is None or result.maps is None or result.search_region_xywh is None:
            self.hide()
            return
        image = map_image(result.maps, self.kind)
        self.setImage(image, autoLevels=False, levels=(0.0, 1.0))
        self.setRect(QtCore.QRectF(*result.search_region_xywh))  # the frame rectangle the cells cover
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

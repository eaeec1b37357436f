"""Play/pause, the frame slider, and the frame number and time under the view."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def format_time(frame: int, fps: float) -> str:
    seconds = frame / fps if fps > 0 else 0.0
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes):02d}:{rest:06.3f}"


class TransportBar(QtWidgets.QWidget):
    seekRequested = QtCore.Signal(int)
    playToggled = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setText("▶")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.slider.setRange(0, 0)
        self.label = QtWidgets.QLabel("– / –")
        self.label.setMinimumWidth(200)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self._fps = 30.0
        self.play_button.clicked.connect(self.playToggled)
        self.slider.valueChanged.connect(self.seekRequested)

    def set_media(self, frame_count: int, fps: float) -> None:
        self._fps = fps
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, frame_count - 1))
        self.slider.blockSignals(False)

    def set_frame(self, frame: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(frame)
        self.slider.blockSignals(False)
        total = self.slider.maximum() + 1
        self.label.setText(f"frame {frame + 1} / {total}   {format_time(frame, self._fps)}")

    def set_playing(self, playing: bool) -> None:
        self.play_button.setText("⏸" if playing else "▶")

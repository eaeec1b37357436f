"""Play/pause, the frame slider, and the frame number (type one to go there) and time under the view.

Frames are numbered from 1 on screen, here, on the timeline axis and in every message; the
engine's indices are 0-based and converted only for display.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def format_time(frame: int, fps: float) -> str:
    seconds = frame / fps if fps > 0 else 0.0
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes):02d}:{rest:06.3f}"


class FrameSpinBox(QtWidgets.QSpinBox):
    """The current frame, 1-based; typing a number and pressing Enter goes there (Ctrl+G focuses it)."""

    done = QtCore.Signal()  # Enter or Esc: the keyboard goes back to the frame view

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setKeyboardTracking(False)  # seek on Enter or focus out, not on every digit typed
        self.setRange(1, 1)
        self.setAccelerated(True)
        self.setToolTip("Current frame: type a number and press Enter to go there (Ctrl+G)")

    def keyPressEvent(self, event) -> None:
        super().keyPressEvent(event)
        if event.key() in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter, QtCore.Qt.Key.Key_Escape):
            self.done.emit()  # back to the frame view, so single-letter keys work again


class TransportBar(QtWidgets.QWidget):
    seekRequested = QtCore.Signal(int)  # 0-based frame index
    playToggled = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        style = self.style()
        self._play_icon = style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MediaPause)
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setIcon(self._play_icon)  # icons, not ▶/⏸ glyphs many fonts lack
        self.play_button.setToolTip("Play (Space)")
        self.play_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.playing = False
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.slider.setRange(0, 0)
        self.frame_box = FrameSpinBox()
        self.frame_box.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
        self.total_label = QtWidgets.QLabel("/ –")
        self.time_label = QtWidgets.QLabel("")
        self.time_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("00:00.000") + 12)
        self.reviewed_label = QtWidgets.QLabel("reviewed")
        self.reviewed_label.setToolTip("A person reviewed and accepted this frame (R toggles it)")
        self.reviewed_label.setStyleSheet("background: #2e7d32; color: white; padding: 1px 6px; border-radius: 3px;")
        self.reviewed_label.setVisible(False)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(QtWidgets.QLabel("frame"))
        layout.addWidget(self.frame_box)
        layout.addWidget(self.total_label)
        layout.addWidget(self.time_label)
        layout.addWidget(self.reviewed_label)
        self._fps = 30.0
        self.play_button.clicked.connect(self.playToggled)
        self.slider.valueChanged.connect(self.seekRequested)
        self.frame_box.valueChanged.connect(lambda number: self.seekRequested.emit(number - 1))

    def set_media(self, frame_count: int, fps: float) -> None:
        self._fps = fps
        for widget, (low, high) in ((self.slider, (0, max(0, frame_count - 1))),
                                    (self.frame_box, (1, max(1, frame_count)))):
            widget.blockSignals(True)
            widget.setRange(low, high)
            widget.blockSignals(False)
        self.frame_box.setMinimumWidth(self.frame_box.fontMetrics().horizontalAdvance(str(max(frame_count, 1)))
                                       + 40)

    def set_frame(self, frame: int) -> None:
        for widget, value in ((self.slider, frame), (self.frame_box, frame + 1)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        total = self.slider.maximum() + 1
        self.total_label.setText(f"/ {total}")
        self.time_label.setText(format_time(frame, self._fps))

    @property
    def frame_text(self) -> str:
        """'frame 41 / 132' as the bar shows it."""
        return f"frame {self.frame_box.value()} {self.total_label.text()}"

    def set_reviewed(self, reviewed: bool) -> None:
        self.reviewed_label.setVisible(reviewed)

    def set_playing(self, playing: bool) -> None:
        self.playing = playing
        self.play_button.setIcon(self._pause_icon if playing else self._play_icon)
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")

    def follow(self, controller) -> None:
        """Show controller's media, frame and whether the frame is reviewed; moving the slider or
        typing a frame number seeks it."""
        self._controller = controller
        controller.mediaOpened.connect(self._on_media_opened)
        controller.frameChanged.connect(self._on_frame)
        controller.labelsChanged.connect(self._on_labels_changed)
        self.seekRequested.connect(controller.seek)

    def _on_media_opened(self) -> None:
        media = self._controller.project.media
        self.set_media(media.frame_count, media.fps)

    def _on_frame(self, frame: int) -> None:
        self.set_frame(frame)
        self.set_reviewed(self._controller.is_reviewed())

    def _on_labels_changed(self, change) -> None:
        if self._controller.frame in change.frames:
            self.set_reviewed(self._controller.is_reviewed())

    def focus_frame_box(self) -> None:
        self.frame_box.setFocus(QtCore.Qt.FocusReason.ShortcutFocusReason)
        self.frame_box.selectAll()

"""A propagation run in the status bar: progress, frames per second, Cancel, and how it ended."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class RunStatus(QtCore.QObject):
    """Adds its widgets to a status bar and follows the controller's propagation signals."""

    def __init__(self, bar: QtWidgets.QStatusBar, controller) -> None:
        super().__init__(bar)
        self.bar = bar
        self.controller = controller
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setFormat("%v / %m frames")
        self.progress.hide()
        self.rate_label = QtWidgets.QLabel("")
        self.rate_label.setMinimumWidth(self.rate_label.fontMetrics().horizontalAdvance("loading the tracker…") + 8)
        self.cancel_button = QtWidgets.QPushButton("Cancel (Esc)")
        self.cancel_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(controller.cancel)
        bar.addPermanentWidget(self.rate_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        controller.propagationStarted.connect(self._on_started)
        controller.propagationProgress.connect(self._on_progress)
        controller.propagationFinished.connect(self._on_finished)

    def _on_started(self, _total: int) -> None:
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.rate_label.setText("loading the tracker…")

    def _on_progress(self, done: int, total: int, rate: float) -> None:
        # QProgressBar.setValue repaints at once (holding the GIL the worker needs) whenever its text
        # changes: only when a whole percent more is done
        total = max(total, 1)
        if self.progress.maximum() != total or done * 100 // total != self.progress.value() * 100 // total \
                or done >= total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.rate_label.setText(f"{rate:.1f} frames/s")

    def _on_finished(self, cancelled: bool) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.rate_label.setText("")
        stops = [stop.message() for stop in self.controller.run.run_stops]
        if stops:  # where and why passes stopped, not just that the run ended
            more = f"; {len(stops) - 3} more tracks stopped" if len(stops) > 3 else ""
            self.bar.showMessage("; ".join(stops[:3]) + more + ".", 20000)
        else:
            self.bar.showMessage("Propagation cancelled." if cancelled else "Propagation finished.", 5000)

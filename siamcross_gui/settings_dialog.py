"""Settings dialog: device, model, score threshold, keymap file."""
from __future__ import annotations

from PySide6 import QtWidgets

from .settings import AppSettings

DEVICES = ("auto", "cpu", "cuda", "mps")
MODELS = ("lite", "lite-fast", "r50")


class SettingsDialog(QtWidgets.QDialog):
    def __init__(self, settings: AppSettings, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.device = QtWidgets.QComboBox()
        self.device.addItems(DEVICES)
        self.device.setCurrentText(settings.device)
        self.model = QtWidgets.QComboBox()
        self.model.setEditable(True)
        self.model.addItems(MODELS)
        self.model.setCurrentText(settings.model)
        self.model.setToolTip("lite, lite-fast, r50 or the path of a weights file")
        self.threshold = QtWidgets.QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(settings.score_threshold)
        self.keymap = QtWidgets.QLineEdit(settings.keymap_file)
        self.keymap.setPlaceholderText("default: keymap.json in the config folder")
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        keymap_row = QtWidgets.QHBoxLayout()
        keymap_row.addWidget(self.keymap)
        keymap_row.addWidget(browse)
        form = QtWidgets.QFormLayout()
        form.addRow("Device", self.device)
        form.addRow("Model", self.model)
        form.addRow("Low-confidence threshold", self.threshold)
        form.addRow("Keymap file", keymap_row)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self._base = settings

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Keymap file", "", "JSON (*.json)")
        if path:
            self.keymap.setText(path)

    def result_settings(self) -> AppSettings:
        return self._base.with_(device=self.device.currentText(), model=self.model.currentText().strip() or "lite",
                                score_threshold=float(self.threshold.value()), keymap_file=self.keymap.text().strip())

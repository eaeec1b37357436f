"""Settings dialog: device, model, score threshold, keymap file.

Only what can run here is offered: named models whose weights file exists and devices this
machine has (see models.py); a weights file can be picked too. A saved setting that no longer
fits (r50 without weights, cuda on a machine without a GPU) is named in the dialog, not kept.
"""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets

from .models import available_devices, available_models, is_named_model
from .settings import AppSettings


class SettingsDialog(QtWidgets.QDialog):
    def __init__(self, settings: AppSettings, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        notes: list[str] = []
        self.device = QtWidgets.QComboBox()
        devices = available_devices()
        self.device.addItems(devices)
        if settings.device in devices:
            self.device.setCurrentText(settings.device)
        else:
            notes.append(f"The device '{settings.device}' is not available on this machine; "
                         "'auto' picks one that is.")
            self.device.setCurrentText("auto")
        self.device.setToolTip("auto picks CUDA, then Apple MPS, then the CPU; "
                               "only devices this machine has are listed")
        self.model = QtWidgets.QComboBox()
        models = available_models()
        for name in models:
            self.model.addItem(name, name)
        if settings.model in models:
            self.model.setCurrentIndex(models.index(settings.model))
        elif is_named_model(settings.model) or not Path(settings.model).is_file():
            if settings.model:
                notes.append(f"The model '{settings.model}' has no trained weights here; "
                             f"{models[0] if models else 'a weights file'} is used instead.")
        else:
            self._add_weights_file(settings.model)
        self.model.setToolTip("Named models with trained weights in resources/models, or a weights file")
        browse_model = QtWidgets.QPushButton("Weights file…")
        browse_model.clicked.connect(self._browse_model)
        model_row = QtWidgets.QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(browse_model)
        self.threshold = QtWidgets.QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(settings.score_threshold)
        self.adapt = QtWidgets.QCheckBox("Learn from each track's keyframes")
        self.adapt.setChecked(settings.adapt)
        self.adapt.setToolTip("Every pass adapts the tracker to the boxes you drew for that track (what the "
                              "target looks like, and what it was confused with); a track with one keyframe "
                              "is not adapted")
        self.keymap = QtWidgets.QLineEdit(settings.keymap_file)
        self.keymap.setPlaceholderText("default: keymap.json in the config folder")
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        keymap_row = QtWidgets.QHBoxLayout()
        keymap_row.addWidget(self.keymap)
        keymap_row.addWidget(browse)
        form = QtWidgets.QFormLayout()
        form.addRow("Device", self.device)
        form.addRow("Model", model_row)
        form.addRow("Low-confidence threshold", self.threshold)
        form.addRow("Adaptation", self.adapt)
        form.addRow("Keymap file", keymap_row)
        self.note = QtWidgets.QLabel(" ".join(notes))
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #b05000;")
        self.note.setVisible(bool(notes))
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self._base = settings

    def _add_weights_file(self, path: str) -> None:
        index = self.model.findData(path)
        if index < 0:
            self.model.addItem(Path(path).name, path)
            index = self.model.count() - 1
            self.model.setItemData(index, path, role=3)  # tooltip: the full path
        self.model.setCurrentIndex(index)

    def _browse_model(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Model weights", "", "Weights (*.pt *.pth)")
        if path:
            self._add_weights_file(path)

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Keymap file", "", "JSON (*.json)")
        if path:
            self.keymap.setText(path)

    def result_settings(self) -> AppSettings:
        model = self.model.currentData() or self._base.model
        return self._base.with_(device=self.device.currentText(), model=str(model),
                                score_threshold=float(self.threshold.value()), keymap_file=self.keymap.text().strip(),
                                adapt=self.adapt.isChecked())

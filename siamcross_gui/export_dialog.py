"""Export dialog: pick a format from core.formats.FORMATS and an output folder."""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets


def available_formats() -> list[str]:
    try:
        from core.formats import FORMATS
    except ImportError:
        return []
    return list(FORMATS)


class ExportDialog(QtWidgets.QDialog):
    def __init__(self, default_dir: Path, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export labels")
        self.format_combo = QtWidgets.QComboBox()
        for fmt in available_formats():
            self.format_combo.addItem(fmt, fmt)
        self.dir_edit = QtWidgets.QLineEdit(str(default_dir))
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.dir_edit)
        row.addWidget(browse)
        form = QtWidgets.QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("Output folder", row)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                                  | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def _browse(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export to", self.dir_edit.text())
        if folder:
            self.dir_edit.setText(folder)

    @property
    def choice(self) -> tuple[str, Path]:
        return self.format_combo.currentData(), Path(self.dir_edit.text())

"""Export dialog: a format from core.formats.FORMATS, an output folder, and whether to write the
frames the labels name (COCO's file_name, OTB's img/0001.jpg, MOT's img1/) as image files."""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets

NO_FRAMES = {"project"}  # formats that name no frame files


def available_formats() -> list[str]:
    from core.formats import FORMATS

    return list(FORMATS)


def format_description(fmt: str) -> str:
    from core.formats import FORMATS

    spec = FORMATS.get(fmt)
    return spec.description if spec else fmt


class ExportDialog(QtWidgets.QDialog):
    def __init__(self, default_dir: Path, parent: QtWidgets.QWidget | None = None, frame_count: int = 0) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export labels")
        self.format_combo = QtWidgets.QComboBox()
        for fmt in available_formats():
            self.format_combo.addItem(fmt, fmt)
            self.format_combo.setItemData(self.format_combo.count() - 1, format_description(fmt), role=3)
        self.dir_edit = QtWidgets.QLineEdit(str(default_dir))
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.dir_edit)
        row.addWidget(browse)
        frames = f" ({frame_count} frames at most)" if frame_count else ""
        self.images_box = QtWidgets.QCheckBox(f"Write the frames the labels name as image files{frames}")
        self.images_box.setChecked(True)
        self.images_box.setToolTip("COCO's file_name entries, OTB's img/0001.jpg, MOT's img1/...: without them the "
                                   "export names images that are not there")
        self.description = QtWidgets.QLabel()
        self.description.setWordWrap(True)
        form = QtWidgets.QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("", self.description)
        form.addRow("Output folder", row)
        form.addRow("", self.images_box)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                                  | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.format_combo.currentIndexChanged.connect(self._on_format)
        self._on_format()

    def _on_format(self, *_args) -> None:
        fmt = self.format_combo.currentData()
        self.description.setText(format_description(fmt) if fmt else "")
        self.images_box.setEnabled(fmt not in NO_FRAMES)

    def _browse(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export to", self.dir_edit.text())
        if folder:
            self.dir_edit.setText(folder)

    @property
    def choice(self) -> tuple[str, Path]:
        return self.format_combo.currentData(), Path(self.dir_edit.text())

    @property
    def write_images(self) -> bool:
        return self.images_box.isEnabled() and self.images_box.isChecked()

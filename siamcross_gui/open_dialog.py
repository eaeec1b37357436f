"""The Open dialog: videos, projects, COCO files, sequence label files, and folders too.

A plain file dialog picks files or folders, never both. This one (Qt's own dialog, the same
on every platform) lists every file the app opens, and when a folder is selected and Open
pressed it opens that folder if it holds frames or a labelled sequence; any other folder is
entered, as in every file dialog.
"""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from .opening import COCO_FORMATS, IMAGE_SUFFIXES, LABEL_SUFFIXES, VIDEO_SUFFIXES, labels_here, plan_open


def _globs(suffixes) -> str:
    return " ".join(f"*{s}" for s in suffixes)


NAME_FILTERS = [
    f"Everything SiamCross opens ({_globs(VIDEO_SUFFIXES)} *.json {_globs(LABEL_SUFFIXES)} {_globs(IMAGE_SUFFIXES)})",
    f"Videos ({_globs(VIDEO_SUFFIXES)})",
    "Projects and COCO annotations (*.json)",
    f"Sequence labels: OTB, GOT-10k, LaSOT, MOT ({_globs(LABEL_SUFFIXES)})",
    f"Frames: opens their folder ({_globs(IMAGE_SUFFIXES)})",
    "All files (*)",
]
HINT = ("Pick a video, a project or COCO .json, a sequence's labels file (groundtruth_rect.txt, "
        "groundtruth.txt, gt/gt.txt) or one of its frames. To open a folder of frames or a sequence "
        "folder, select it and press Open.")


def opens_as_folder(folder: Path) -> bool:
    """A folder the app opens itself (frames, a labelled sequence, a COCO folder) rather than one to
    look into (a dataset of many sequences is entered, so one of them can be picked)."""
    from core.media.images import list_image_files

    try:
        if labels_here(folder) is not None or bool(list_image_files(folder)):
            return True
        plan = plan_open(folder)
        return plan.kind == "sequence" and plan.fmt in COCO_FORMATS
    except (OSError, ValueError, Exception):  # unreadable: just browse into it
        return False


class OpenDialog(QtWidgets.QFileDialog):
    """Emits pathChosen(path) with the file or folder to open, then closes."""

    pathChosen = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None, directory: str = "") -> None:
        super().__init__(parent, "Open a video, image folder, project or sequence", directory)
        self.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog, True)
        self.setFileMode(QtWidgets.QFileDialog.FileMode.ExistingFile)
        self.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptOpen)
        self.setNameFilters(NAME_FILTERS)
        self.hint = QtWidgets.QLabel(HINT)
        self.hint.setWordWrap(True)
        layout = self.layout()
        if isinstance(layout, QtWidgets.QGridLayout):
            layout.addWidget(self.hint, layout.rowCount(), 0, 1, layout.columnCount())
        self.chosen: Path | None = None
        self.fileSelected.connect(self._on_file)

    @property
    def open_button(self) -> QtWidgets.QPushButton:
        box = self.findChild(QtWidgets.QDialogButtonBox)
        assert box is not None  # Qt's own (non-native) file dialog has one
        return box.button(QtWidgets.QDialogButtonBox.StandardButton.Open)

    def accept(self) -> None:
        selected = self.selectedFiles()
        path = Path(selected[0]) if selected else None
        if path is not None and path.is_dir() and opens_as_folder(path):
            self.chosen = path
            QtWidgets.QDialog.accept(self)
            self.pathChosen.emit(str(path))
            return
        super().accept()

    def _on_file(self, path: str) -> None:
        if path and not Path(path).is_dir():
            self.chosen = Path(path)
            self.pathChosen.emit(path)

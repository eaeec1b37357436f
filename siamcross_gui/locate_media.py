"""Asking where a project's media went: a message with Locate… and Cancel, then a picker.

The picked file or folder is accepted only when its fingerprint matches the project's
(core.media.check_located); otherwise the message comes back saying why, so a project is
never opened over other media. Non-blocking (QMessageBox.open, like every message of the
window): the caller continues from ``located``.
"""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from core.annotations.model import MediaRef
from core.errors import MediaError
from core.media import check_located
from core.media.locate import kind_word

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv);;All files (*)"


class LocateMedia(QtCore.QObject):
    """One locate conversation for one project; emits located(Path) or cancelled()."""

    located = QtCore.Signal(object)  # the chosen media path, already checked to be the same media
    cancelled = QtCore.Signal()

    def __init__(self, ref: MediaRef, project_file: Path, parent: QtWidgets.QWidget, reason: str | None = None) -> None:
        """reason: why the project's media cannot be used (default: it is not at its path)."""
        super().__init__(parent)
        self.ref = ref
        self.reason = reason
        self.project_file = project_file
        self.window = parent
        self.box: QtWidgets.QMessageBox | None = None
        self.locate_button: QtWidgets.QAbstractButton | None = None

    @property
    def name(self) -> str:
        return Path(self.ref.path).name

    def missing_text(self) -> str:
        return f"The {kind_word(self.ref.kind)} {self.name} of {self.project_file.name} is not at {self.ref.path}."

    def start(self) -> str:
        """Show the first question; returns its text (the window records it as its last message)."""
        return self.ask(self.reason or self.missing_text())

    def ask(self, text: str) -> str:
        """text: why the project cannot open yet, one sentence; the buttons say what can be done."""
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "Media not found", text,
                                    QtWidgets.QMessageBox.StandardButton.NoButton, self.window)
        box.setInformativeText("Locate it to open the project, or cancel to keep what is open now.")
        self.locate_button = box.addButton("Locate…", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(self.locate_button)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(self._on_button)
        self.box = box
        box.open()
        return text

    def _on_button(self, button: QtWidgets.QAbstractButton) -> None:
        self.box = None
        if button is self.locate_button:
            self.pick()
        else:
            self.cancelled.emit()

    def pick(self) -> None:
        """The file (video) or folder (image folder) picker, then the fingerprint check."""
        start = str(self.project_file.parent)
        caption = f"Locate {self.name}"
        if self.ref.kind == "images":
            chosen = QtWidgets.QFileDialog.getExistingDirectory(self.window, caption, start)
        else:
            chosen, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, caption, start, VIDEO_FILTER)
        if not chosen:
            self.ask(self.missing_text())
            return
        try:
            found = check_located(self.ref, chosen)
        except MediaError as error:
            self.ask(str(error))
            return
        self.located.emit(Path(found.path))

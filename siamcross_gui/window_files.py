"""Opening, saving and exporting from the window, with the questions they ask the user.

ProjectFiles runs each conversation: the Open dialog, recovering a crashed session's edits,
finding media that moved, Save As, "save the current project first?", the export dialog and its
progress. The work itself is the controller's (its session's); failures are one message
through window.show_error, and the current work is kept.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from core.errors import Cancelled, UserError
from core.media import MediaMismatch, MediaMissing

from .export_dialog import ExportDialog
from .locate_media import LocateMedia
from .open_dialog import OpenDialog
from .recent import add_recent, load_recent

log = logging.getLogger(__name__)


class ProjectFiles(QtCore.QObject):
    def __init__(self, window) -> None:
        """window: the MainWindow (parent of every dialog; its controller, show_error and status bar)."""
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.locate_media: LocateMedia | None = None  # the open "where did the media go?" conversation
        self.open_file_dialog: OpenDialog | None = None
        self.export_window: ExportDialog | None = None

    def _status(self, text: str, ms: int) -> None:
        self.window.statusBar().showMessage(text, ms)

    # --- opening ----------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        """Open anything the app understands; one clear message on failure, current work kept.

        A project whose media moved (or was replaced by other media) asks where it is
        (LocateMedia) and opens once the user points at the same media; False is returned meanwhile.
        """
        if not self.confirm_discard():
            return False
        try:
            self.controller.session.open(path, ask_recover=self.ask_recover)
        except MediaMissing as missing:
            self._locate_media(Path(path), missing.ref)
            return False
        except MediaMismatch as mismatch:
            if mismatch.ref is None:
                self.window.show_error(str(mismatch))
            else:
                self._locate_media(Path(path), mismatch.ref, str(mismatch))
            return False
        except UserError as error:
            self.window.show_error(str(error))
            return False
        add_recent(path)
        return True

    def _locate_media(self, project_file: Path, ref, reason: str | None = None) -> None:
        locate = LocateMedia(ref, project_file, self.window, reason)
        locate.located.connect(lambda media: self._open_located(project_file, media))
        locate.cancelled.connect(lambda: self._status(f"{project_file.name} was not opened.", 5000))
        self.locate_media = locate
        self.window.last_error = locate.start()
        log.warning("%s", self.window.last_error)

    def _open_located(self, project_file: Path, media: Path) -> None:
        try:
            self.controller.session.open(project_file, ask_recover=self.ask_recover, media_path=media)
        except UserError as error:
            self.window.show_error(str(error))
            return
        self.locate_media = None
        add_recent(project_file)

    def open_dialog(self) -> OpenDialog:
        """The Open dialog (files and folders: videos, image folders, projects, sequences), non-blocking."""
        recent = load_recent()
        start = str(Path(recent[0]).parent) if recent else ""
        dialog = OpenDialog(self.window, start)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.pathChosen.connect(lambda path: QtCore.QTimer.singleShot(0, self, lambda: self.open_path(path)))
        self.open_file_dialog = dialog
        dialog.open()
        return dialog

    def fill_recent(self, menu: QtWidgets.QMenu) -> None:
        menu.clear()
        for path in load_recent():
            menu.addAction(path, self._opener(path))

    def _opener(self, path: str) -> Callable[[], object]:
        return lambda: self.open_path(path)

    def ask_recover(self, recovery) -> bool:
        """Offer the edits a crashed session left in the autosave journal."""
        answer = QtWidgets.QMessageBox.question(
            self.window, "Recover unsaved work",
            f"{recovery.edits} unsaved edit(s) from a previous session were found. Recover them?")
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    # --- saving -----------------------------------------------------------------------------
    def save(self) -> bool:
        if self.controller.project is None:
            return False
        if self.controller.session.project_path is None:
            return self.save_as()
        return self.save_to(None)

    def save_as(self) -> bool:
        project = self.controller.project
        if project is None:
            return False
        media = Path(project.media.path) if project.media else Path.cwd()
        suggestion = str(media.with_suffix(".json")) if media.is_file() else str(media / "project.json")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Save project", suggestion, "Project (*.json)")
        return self.save_to(Path(path)) if path else False

    def save_to(self, path: Path | None) -> bool:
        """Save to path (None: where the project was saved); False, with one message, when it fails."""
        try:
            saved = self.controller.save(path)
        except UserError as error:
            self.window.show_error(str(error))
            return False
        add_recent(saved)
        self._status(f"Saved {saved}", 5000)
        return True

    def confirm_discard(self) -> bool:
        """Ask to save unsaved changes first; False when the user cancels (or saving fails)."""
        if not self.controller.session.dirty or self.controller.project is None:
            return True
        answer = QtWidgets.QMessageBox.question(
            self.window, "Unsaved changes", "Save the current project first?",
            QtWidgets.QMessageBox.StandardButton.Save | QtWidgets.QMessageBox.StandardButton.Discard
            | QtWidgets.QMessageBox.StandardButton.Cancel)
        if answer == QtWidgets.QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QtWidgets.QMessageBox.StandardButton.Discard

    # --- exporting --------------------------------------------------------------------------
    def export_dialog(self) -> ExportDialog | None:
        """The export dialog, non-blocking; OK exports (with the frames as images if ticked)."""
        if self.controller.project is None:
            return None
        project_path = self.controller.session.project_path
        default = (project_path.parent if project_path else Path.cwd()) / "export"
        dialog = ExportDialog(default, self.window, frame_count=self.controller.frame_count)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.export_to(*dialog.choice, images=dialog.write_images))
        self.export_window = dialog
        dialog.open()
        return dialog

    def export_to(self, fmt: str, out_dir: Path, images: bool = False) -> bool:
        """Export; writing frames shows a progress dialog whose Cancel keeps the frames written so far."""
        progress_dialog: QtWidgets.QProgressDialog | None = None
        if images:
            progress_dialog = QtWidgets.QProgressDialog("Writing the frames…", "Cancel", 0, 1, self.window)
            progress_dialog.setWindowTitle("Export")
            progress_dialog.setMinimumDuration(300)
            progress_dialog.setAutoClose(True)

        def progress(done: int, total: int) -> None:
            assert progress_dialog is not None  # progress is passed only when frames are written
            progress_dialog.setMaximum(total)
            progress_dialog.setValue(done)
            QtWidgets.QApplication.processEvents()
            if progress_dialog.wasCanceled():
                raise Cancelled()

        try:
            self.controller.export(fmt, out_dir, images=images, progress=progress if images else None)
        except Cancelled:
            self._status(f"Export cancelled; the labels and the frames written so far are in {out_dir}.", 8000)
            return False
        except UserError as error:
            self.window.show_error(str(error))
            return False
        finally:
            if progress_dialog is not None:
                progress_dialog.close()
                progress_dialog.deleteLater()
        self._status(f"Exported {fmt} to {out_dir}" + (" with its frames" if images else ""), 5000)
        return True

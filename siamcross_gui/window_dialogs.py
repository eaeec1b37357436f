"""The window's dialogs and questions over the open project: settings, classes, a track's attributes,
the shortcut list, deleting a track, replacing imported labels.

Each dialog is non-blocking (open(), not exec()) and kept in an attribute while it is open, so
tests and the screenshot script can reach it; what it decides goes through the controller.
"""
from __future__ import annotations

from typing import TypeVar

from PySide6 import QtCore, QtWidgets

from core.errors import UserError

from .settings_dialog import SettingsDialog
from .shortcuts import ShortcutsDialog
from .track_dialogs import AttributesDialog, ClassesDialog

Dialog = TypeVar("Dialog", bound=QtWidgets.QDialog)


class WindowDialogs(QtCore.QObject):
    def __init__(self, window) -> None:
        """window: the MainWindow (parent of every dialog; its controller, settings and show_error)."""
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.settings_window: SettingsDialog | None = None
        self.confirm_box: QtWidgets.QMessageBox | None = None
        self.classes_window: ClassesDialog | None = None
        self.attributes_window: AttributesDialog | None = None

    def _keep(self, dialog: Dialog) -> Dialog:
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def settings(self) -> SettingsDialog:
        """The settings, non-blocking; OK applies them."""
        dialog = SettingsDialog(self.window.settings, self.window)
        dialog.accepted.connect(lambda: self.window.apply_settings(dialog.result_settings()))
        self.settings_window = dialog
        return self._keep(dialog)

    def classes(self) -> ClassesDialog:
        """The class list editor (non-blocking; every change is one undo step)."""
        if self.controller.project is None:
            raise UserError("Open a video before editing the class list.")
        self.classes_window = ClassesDialog(self.controller, self.window)
        return self._keep(self.classes_window)

    def track_attributes(self, track_id: int | None = None) -> AttributesDialog:
        """The selected (or given) track's attributes (non-blocking); OK writes them as one undo step."""
        c = self.controller
        track = c.track(c.selected if track_id is None else track_id)
        if track is None:
            raise UserError("Select a track first.")
        self.attributes_window = AttributesDialog(
            track, lambda attributes: c.update_track(track.id, attributes=attributes), self.window)
        return self._keep(self.attributes_window)

    def shortcuts(self) -> None:
        ShortcutsDialog(self.window.bindings, self.window).open()

    def delete_track_asking(self, track_id: int) -> QtWidgets.QMessageBox | None:
        """Ask before deleting a whole track (non-blocking; No is the default); Delete removes it."""
        track = self.controller.track(track_id)
        if track is None:
            return None
        keys = len(track.keyframes())
        n = len(track.frames)
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Question, "Delete track",
            f"Delete track #{track_id} ({track.label}) with its {n} label{'' if n == 1 else 's'} "
            f"({keys} keyframe{'' if keys == 1 else 's'})? Undo (Ctrl+Z) brings it back.",
            QtWidgets.QMessageBox.StandardButton.Cancel, self.window)
        box.addButton("Delete", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(
            lambda button: box.buttonRole(button) == QtWidgets.QMessageBox.ButtonRole.DestructiveRole
            and self.window.guard(self.controller.delete_track)(track_id))
        self.confirm_box = box
        box.open()
        return box

    def propagate_over_imported(self, direction: str) -> bool:
        """The selected track's propagation that replaces imported labels, after confirm_overwrite."""
        return self.controller.propagate(direction, overwrite=True, confirm=self.confirm_overwrite)

    def confirm_overwrite(self, plan) -> bool:
        """Ask before a propagation replaces imported labels (a person's ground truth); No by default."""
        n = plan.replaced
        answer = QtWidgets.QMessageBox.question(
            self.window, "Replace imported labels",
            f"This replaces {n} human label{'' if n == 1 else 's'} imported from a dataset with tracked boxes "
            f"({plan.changes_text()} may change); undo brings them back. Replace them?",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
            QtWidgets.QMessageBox.StandardButton.No)
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

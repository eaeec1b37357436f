"""Small dialogs over the project's tracks: the class list editor and a track's attributes.

Both write through the controller (so through the store): every change is one undo step, and a
refused one (a class in use, a locked track) is one sentence in the dialog.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from core.errors import UserError


class ClassesDialog(QtWidgets.QDialog):
    """The class list: add a class, rename one (in every track that has it), remove an unused one."""

    def __init__(self, controller, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Classes")
        self.controller = controller
        self.list = QtWidgets.QListWidget()
        self.list.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.DoubleClicked
                                  | QtWidgets.QAbstractItemView.EditTrigger.EditKeyPressed)
        self.new_name = QtWidgets.QLineEdit()
        self.new_name.setPlaceholderText("new class")
        self.add_button = QtWidgets.QPushButton("Add")
        self.rename_button = QtWidgets.QPushButton("Rename")
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b05000;")
        add_row = QtWidgets.QHBoxLayout()
        add_row.addWidget(self.new_name, 1)
        add_row.addWidget(self.add_button)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.rename_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("Double-click a class to rename it; the tracks that have it follow."))
        layout.addWidget(self.list)
        layout.addLayout(add_row)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self._filling = False
        self.add_button.clicked.connect(self._add)
        self.new_name.returnPressed.connect(self._add)
        self.rename_button.clicked.connect(self._rename_current)
        self.remove_button.clicked.connect(self._remove)
        self.list.itemChanged.connect(self._renamed)
        controller.projectChanged.connect(self.refresh)
        self.refresh()
        self.resize(360, 420)

    def classes(self) -> list[str]:
        return list(self.controller.project.classes) if self.controller.project else []

    def refresh(self) -> None:
        project = self.controller.project
        if project is None:
            return
        current = self.list.currentRow()
        uses: dict[str, int] = {}
        for track in project.tracks.values():
            uses[track.label] = uses.get(track.label, 0) + 1
        self._filling = True
        try:
            self.list.clear()
            for name in project.classes:
                item = QtWidgets.QListWidgetItem(name)
                item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsEditable)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
                n = uses.get(name, 0)
                item.setToolTip(f"{n} track{'' if n == 1 else 's'}" if n else "no track has it")
                self.list.addItem(item)
            if self.list.count():
                self.list.setCurrentRow(min(max(current, 0), self.list.count() - 1))
        finally:
            self._filling = False

    def _run(self, edit: Callable[[], object]) -> bool:
        try:
            edit()
        except UserError as error:
            self.message.setText(str(error))
            self.refresh()
            return False
        self.message.setText("")
        return True

    def _add(self) -> None:
        name = self.new_name.text().strip()
        if not name:
            return
        if name in self.classes():
            self.message.setText(f"There is already a class '{name}'.")
            return
        if self._run(lambda: self.controller.set_classes([*self.classes(), name])):
            self.new_name.clear()

    def _rename_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _remove(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        name = item.data(QtCore.Qt.ItemDataRole.UserRole)
        self._run(lambda: self.controller.set_classes([c for c in self.classes() if c != name]))

    def _renamed(self, item: QtWidgets.QListWidgetItem) -> None:
        if self._filling:
            return
        old = item.data(QtCore.Qt.ItemDataRole.UserRole)
        new = item.text().strip()
        if new and new != old:
            self._run(lambda: self.controller.rename_class(old, new))
        else:
            QtCore.QTimer.singleShot(0, self.refresh)


class AttributesDialog(QtWidgets.QDialog):
    """A track's attributes as name / value rows; OK writes them (one undo step)."""

    def __init__(self, track, apply: Callable[[dict[str, str]], None],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Attributes of track #{track.id}")
        self._apply = apply
        self.table = QtWidgets.QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Attribute", "Value"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        for key, value in sorted(track.attributes.items()):
            self.add_row(key, value)
        self.add_button = QtWidgets.QPushButton("Add attribute")
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.add_button.clicked.connect(lambda: self.add_row("", ""))
        self.remove_button.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b05000;")
        if track.locked:
            self.message.setText("This track is locked; unlock it to change its attributes.")
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                                  | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(380, 320)

    def add_row(self, key: str, value: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QtWidgets.QTableWidgetItem(key))
        self.table.setItem(row, 1, QtWidgets.QTableWidgetItem(value))
        return row

    def attributes(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for row in range(self.table.rowCount()):
            key_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
            key = (key_item.text() if key_item else "").strip()
            value = (value_item.text() if value_item else "").strip()
            if key:
                out[key] = value
        return out

    def _ok(self) -> None:
        try:
            self._apply(self.attributes())
        except UserError as error:
            self.message.setText(str(error))
            return
        self.accept()

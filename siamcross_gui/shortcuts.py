"""Turn the keymap into QActions on a window, and the on-screen list of shortcuts (F1 / ?)."""
from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from .keymap import Binding


def build_actions(parent: QtWidgets.QWidget, bindings: dict[str, Binding],
                  handlers: dict[str, Callable[[], None]]) -> dict[str, QtGui.QAction]:
    """One QAction per handled action, with all its keys, added to parent so keys work anywhere in it."""
    actions: dict[str, QtGui.QAction] = {}
    for name, handler in handlers.items():
        binding = bindings.get(name)
        action = QtGui.QAction(binding.text if binding else name, parent)
        if binding:
            action.setShortcuts([QtGui.QKeySequence(k) for k in binding.keys])
            if binding.keys:
                action.setToolTip(f"{binding.text} ({binding.keys[0]})")
        action.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False, h=handler: h())
        parent.addAction(action)
        actions[name] = action
    return actions


class ShortcutsDialog(QtWidgets.QDialog):
    """A read-only table of every action and its keys."""

    def __init__(self, bindings: dict[str, Binding], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        table = QtWidgets.QTableWidget(len(bindings), 2)
        table.setHorizontalHeaderLabels(["Keys", "Action"])
        table.verticalHeader().hide()
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, binding in enumerate(bindings.values()):
            keys = ", ".join(QtGui.QKeySequence(k).toString(QtGui.QKeySequence.SequenceFormat.NativeText)
                             for k in binding.keys) or "(unbound)"
            table.setItem(row, 0, QtWidgets.QTableWidgetItem(keys))
            table.setItem(row, 1, QtWidgets.QTableWidgetItem(binding.text))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        self.table = table
        note = QtWidgets.QLabel("Keys come from resources/keymap.json; override them in your keymap file "
                                "(Settings).")
        note.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(560, 620)

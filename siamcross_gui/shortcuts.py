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


MOUSE_GESTURES: tuple[tuple[str, str], ...] = (
    ("Wheel over the frame", "Zoom in or out around the pointer"),
    ("Middle-drag, or left-drag outside draw mode", "Pan the frame"),
    ("Right-drag over the frame", "Zoom each axis by dragging (Ctrl+0 fits the frame again)"),
    ("Left-drag in draw mode (N, Draw box)", "Draw a box: a keyframe of the selected track, or a new track"),
    ("Drag a box", "Move it: the frame becomes a keyframe and the frames after it are re-tracked"),
    ("Drag a box's corner handle", "Resize it (a keyframe too)"),
    ("Click a box", "Select its track"),
    ("Click or drag on the timeline", "Go to that frame"),
    ("Click a track's row on the timeline", "Select the track and go to that frame"),
    ("Double-click a name or class in the track list", "Rename it"),
    ("Drop a file or folder on the window", "Open it"),
)


class ShortcutsDialog(QtWidgets.QDialog):
    """A read-only table of every action and its keys, and of the mouse gestures."""

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
        mouse = QtWidgets.QTableWidget(len(MOUSE_GESTURES), 2)
        mouse.setHorizontalHeaderLabels(["Mouse", "Does"])
        mouse.verticalHeader().hide()
        mouse.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, (gesture, effect) in enumerate(MOUSE_GESTURES):
            mouse.setItem(row, 0, QtWidgets.QTableWidgetItem(gesture))
            mouse.setItem(row, 1, QtWidgets.QTableWidgetItem(effect))
        mouse.resizeColumnsToContents()
        mouse.horizontalHeader().setStretchLastSection(True)
        self.mouse_table = mouse
        tabs = QtWidgets.QTabWidget()
        tabs.addTab(table, "Keys")
        tabs.addTab(mouse, "Mouse")
        self.tabs = tabs
        note = QtWidgets.QLabel("Keys come from resources/keymap.json; override them in your keymap file "
                                "(Settings).")
        note.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(560, 620)

"""The track list: add, select, name, classify, recolour, hide, lock, give attributes to and delete tracks.

It mirrors the project (``follow`` keeps it in step with a controller) and emits requests; the
controller writes them through the store, so undo covers every change made here.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from core.annotations.model import Project
from core.propagation.engine import track_adaptation_views

COL_SHOW, COL_ID, COL_LABEL, COL_NAME, COL_LOCK, COL_FRAMES = range(6)


class ClassDelegate(QtWidgets.QStyledItemDelegate):
    """Edits a track's class with an editable combo of the project's classes (new names allowed)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.classes: list[str] = []

    def createEditor(self, parent, option, index):
        combo = QtWidgets.QComboBox(parent)
        combo.setEditable(True)
        combo.addItems(self.classes)
        combo.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        finish = lambda *_: (self.commitData.emit(combo), self.closeEditor.emit(combo))  # noqa: E731
        combo.lineEdit().returnPressed.connect(finish)  # Return in the text commits, as in a plain cell
        combo.activated.connect(finish)                 # so does picking a class from the list
        return combo

    def setEditorData(self, editor, index):
        editor.setCurrentText(str(index.data() or ""))

    def setModelData(self, editor, model, index):
        text = editor.currentText().strip()
        if text:
            model.setData(index, text)


class TrackList(QtWidgets.QWidget):
    selectionChanged = QtCore.Signal(object)   # track id or None
    addRequested = QtCore.Signal()
    deleteRequested = QtCore.Signal(int)
    labelEdited = QtCore.Signal(int, str)
    nameEdited = QtCore.Signal(int, str)
    colorEdited = QtCore.Signal(int, str)
    hiddenToggled = QtCore.Signal(int, bool)
    lockToggled = QtCore.Signal(int, bool)
    attributesRequested = QtCore.Signal(int)
    classesRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QtWidgets.QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["Show", "Track", "Class", "Name", "Lock", "Frames"])
        for column, tip in ((COL_LOCK, "A locked track is finished: no edit and no propagation changes it "
                                       "until it is unlocked"),
                            (COL_NAME, "What you call this object (double-click to edit)")):
            heading = self.table.horizontalHeaderItem(column)
            if heading is not None:  # set by setHorizontalHeaderLabels above
                heading.setToolTip(tip)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        for col in (COL_SHOW, COL_ID, COL_LOCK, COL_FRAMES):
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_LABEL, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_NAME, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.DoubleClicked
                                   | QtWidgets.QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
        self.class_delegate = ClassDelegate(self.table)
        self.table.setItemDelegateForColumn(COL_LABEL, self.class_delegate)
        self.add_button = QtWidgets.QPushButton("Add")
        self.color_button = QtWidgets.QPushButton("Colour…")
        self.attributes_button = QtWidgets.QPushButton("Attributes…")
        self.delete_button = QtWidgets.QPushButton("Delete")
        self.classes_button = QtWidgets.QPushButton("Classes…")
        self.classes_button.setToolTip("Edit the project's class list: add, rename, remove")
        every = (self.add_button, self.color_button, self.attributes_button, self.delete_button, self.classes_button)
        for button in every:
            button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        buttons = QtWidgets.QGridLayout()
        buttons.addWidget(self.add_button, 0, 0)
        buttons.addWidget(self.color_button, 0, 1)
        buttons.addWidget(self.delete_button, 0, 2)
        buttons.addWidget(self.attributes_button, 1, 0, 1, 2)
        buttons.addWidget(self.classes_button, 1, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._filling = False
        self._selected: int | None = None
        self.color_dialog: QtWidgets.QColorDialog | None = None
        self._update_buttons()
        self.add_button.clicked.connect(self.addRequested)
        self.delete_button.clicked.connect(self._delete_selected)
        self.attributes_button.clicked.connect(
            lambda: self._selected is not None and self.attributesRequested.emit(self._selected))
        self.classes_button.clicked.connect(self.classesRequested)
        self.color_button.clicked.connect(self._pick_color)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_selection)

    # --- mirror the project ---------------------------------------------------------------
    def follow(self, controller) -> None:
        """Show controller's tracks and selection whenever they change; a row picked selects its track."""
        self._controller = controller
        for signal in (controller.projectChanged, controller.selectionChanged, controller.propagationFinished):
            signal.connect(self._mirror)
        self.selectionChanged.connect(controller.select)

    def _mirror(self, *_args) -> None:
        c = self._controller
        if c.project is not None:
            self.refresh(c.project, c.selected, c.settings.adapt)

    def refresh(self, project: Project, selected: int | None, adapt: bool = True) -> None:
        self._filling = True
        self.class_delegate.classes = list(project.classes)
        try:
            ids = sorted(project.tracks)
            self.table.setRowCount(len(ids))
            for row, tid in enumerate(ids):
                track = project.tracks[tid]
                show = self._item(row, COL_SHOW, "")
                show.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsUserCheckable
                              | QtCore.Qt.ItemFlag.ItemIsSelectable)
                show.setCheckState(QtCore.Qt.CheckState.Unchecked if track.hidden else QtCore.Qt.CheckState.Checked)
                ident = self._item(row, COL_ID, f"#{tid}")
                ident.setData(QtCore.Qt.ItemDataRole.UserRole, tid)
                ident.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable)
                ident.setBackground(QtGui.QColor(track.color))
                ident.setForeground(QtGui.QColor("#000000" if QtGui.QColor(track.color).lightness() > 128
                                                 else "#ffffff"))
                editable = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
                if not track.locked:
                    editable |= QtCore.Qt.ItemFlag.ItemIsEditable
                self._item(row, COL_LABEL, track.label).setFlags(editable)
                self._item(row, COL_NAME, track.name).setFlags(editable)
                lock = self._item(row, COL_LOCK, "")
                lock.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsUserCheckable
                              | QtCore.Qt.ItemFlag.ItemIsSelectable)
                lock.setCheckState(QtCore.Qt.CheckState.Checked if track.locked else QtCore.Qt.CheckState.Unchecked)
                lock.setToolTip("Locked: no edit or propagation changes this track" if track.locked
                                else "Lock this track when it is finished")
                learnt = track_adaptation_views(track) if adapt else 0
                text = f"{len(track.frames)} ({len(track.keyframes())} key)"
                text += f", adapted ×{learnt}" if learnt else ""
                frames = self._item(row, COL_FRAMES, text)
                frames.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable)
                frames.setToolTip(f"The tracker adapts to this track from {learnt} of its keyframes (the nearest "
                                  "to where each pass starts); undoing a keyframe undoes what it taught"
                                  if learnt else "Not adapted: the track has one keyframe and no correction"
                                  if adapt else "Adaptation is off in Settings")
                if track.attributes:
                    ident.setToolTip("\n".join(f"{k}: {v}" for k, v in sorted(track.attributes.items())))
                else:
                    ident.setToolTip("")
            self._select_row(ids.index(selected) if selected in ids else None)
            self._selected = selected if selected in ids else None
        finally:
            self._filling = False
        self._update_buttons()

    def _update_buttons(self) -> None:
        """Colour… and Delete act on the selected track: disabled, and saying so, when there is none."""
        has = self._selected is not None
        for button, what in ((self.color_button, "Change the selected track's colour"),
                             (self.attributes_button, "Edit the selected track's attributes (key: value)"),
                             (self.delete_button, "Delete the selected track (asks first; Ctrl+Z undoes it)")):
            button.setEnabled(has)
            button.setToolTip(what if has else "Select a track first")

    def _item(self, row: int, col: int, text: str) -> QtWidgets.QTableWidgetItem:
        item = self.table.item(row, col)
        if item is None:
            item = QtWidgets.QTableWidgetItem()
            self.table.setItem(row, col, item)
        if item.text() != text:
            item.setText(text)
        return item

    def _select_row(self, row: int | None) -> None:
        if row is None:
            self.table.clearSelection()
        elif self.table.currentRow() != row or not self.table.selectedItems():
            self.table.selectRow(row)

    def track_at(self, row: int) -> int | None:
        item = self.table.item(row, COL_ID)
        return None if item is None else int(item.data(QtCore.Qt.ItemDataRole.UserRole))

    # --- user actions -------------------------------------------------------------------------
    def _on_selection(self) -> None:
        if self._filling:
            return
        rows = {i.row() for i in self.table.selectedItems()}
        tid = self.track_at(min(rows)) if rows else None
        if tid != self._selected:
            self._selected = tid
            self._update_buttons()
            self.selectionChanged.emit(tid)

    def _on_item_changed(self, item: QtWidgets.QTableWidgetItem) -> None:
        if self._filling:
            return
        tid = self.track_at(item.row())
        if tid is None:
            return
        if item.column() == COL_SHOW:
            self.hiddenToggled.emit(tid, item.checkState() != QtCore.Qt.CheckState.Checked)
        elif item.column() == COL_LOCK:
            self.lockToggled.emit(tid, item.checkState() == QtCore.Qt.CheckState.Checked)
        elif item.column() == COL_LABEL and item.text().strip():
            self.labelEdited.emit(tid, item.text().strip())
        elif item.column() == COL_NAME:
            self.nameEdited.emit(tid, item.text().strip())

    def _delete_selected(self) -> None:
        if self._selected is not None:
            self.deleteRequested.emit(self._selected)

    def _pick_color(self) -> None:
        """A colour dialog for the selected track (non-blocking); choosing a colour recolours it."""
        if self._selected is None:
            return
        track_id = self._selected
        item = self.table.item(self.table.currentRow(), COL_ID)
        start = item.background().color() if item else QtGui.QColor("#ff0000")
        dialog = QtWidgets.QColorDialog(start, self)
        dialog.setOption(QtWidgets.QColorDialog.ColorDialogOption.DontUseNativeDialog, True)
        dialog.setWindowTitle(f"Colour of track #{track_id}")
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.colorSelected.connect(lambda color: self._color_chosen(track_id, color))
        self.color_dialog = dialog
        dialog.open()

    def _color_chosen(self, track_id: int, color: QtGui.QColor) -> None:
        if color.isValid():
            self.colorEdited.emit(track_id, color.name())

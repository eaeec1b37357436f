"""The main window assembles the widgets around the Controller and lets each follow it.

Each widget subscribes to the controller's signals itself (``follow``) and writes back through
it; the window lays them out, routes the requests that can be refused (shown as one message)
and holds the parts that talk to the user: ``files`` (open, save, export), ``dialogs``,
``navigation`` (play, jumps, the review queue), the keys, menus and toolbar (window_actions)
and the run's status bar widgets (run_status).
"""
from __future__ import annotations

import logging

from PySide6 import QtCore, QtGui, QtWidgets

from core.errors import UserError

from .box_items import BoxLayer
from .controller import Controller
from .frame_view import FrameView
from .keymap import Binding
from .navigation import Navigation
from .overlay import OverlayControls, OverlayItem
from .run_status import RunStatus
from .settings import AppSettings, load_settings, save_settings
from .timeline import ConfidenceTimeline
from .timeline_rows import TrackRows
from .track_list import TrackList
from .transport import TransportBar
from .window_actions import ActionStates, install_actions
from .window_dialogs import WindowDialogs
from .window_files import ProjectFiles
from .worker import TrackerFactory

log = logging.getLogger(__name__)


class MainWindow(QtWidgets.QMainWindow):
    toolbar: QtWidgets.QToolBar  # made by window_actions once the actions exist

    def __init__(self, settings: AppSettings | None = None, tracker_factory: TrackerFactory | None = None,
                 persist_settings: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("SiamCross Annotator")
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        self.settings = settings or load_settings()
        self._persist_settings = persist_settings
        self.controller = Controller(self.settings, tracker_factory, self)
        self.last_error: str | None = None
        self.message_box: QtWidgets.QMessageBox | None = None
        self._new_track_pending = False  # Add / Ctrl+N: the next box drawn starts a new track

        self.view = FrameView()
        self.boxes = BoxLayer(self.view.view)
        self.overlay = OverlayItem(lambda: self.view.frame_size)
        self.view.view.addItem(self.overlay, ignoreBounds=True)
        self.overlay_controls = OverlayControls(self.overlay, self.settings.overlay_opacity)
        self.transport = TransportBar()
        self.timeline = ConfidenceTimeline()
        self.track_rows = TrackRows()
        self.timeline.attach_rows(self.track_rows)
        self.tracks = TrackList()
        self._build_layout()
        self.run_status = RunStatus(self.statusBar(), self.controller)
        self.progress, self.rate_label = self.run_status.progress, self.run_status.rate_label
        self.files = ProjectFiles(self)
        self.dialogs = WindowDialogs(self)
        self.navigation = Navigation(self.controller, self.transport, self.statusBar().showMessage, self)
        self.bindings: dict[str, Binding] = {}
        self.actions_by_name: dict[str, QtGui.QAction] = {}
        install_actions(self)
        self._follow()

    # --- assembly -----------------------------------------------------------------------
    def _build_layout(self) -> None:
        center = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(center)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.overlay_controls)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.transport)
        layout.addWidget(self.timeline)
        layout.addWidget(self.track_rows)
        self.setCentralWidget(center)
        dock = QtWidgets.QDockWidget("Tracks", self)
        dock.setObjectName("tracks")
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setWidget(self.tracks)
        dock.setMinimumWidth(280)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.view.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)

    def _follow(self) -> None:
        """Every widget follows the controller; the requests it can refuse go through guard."""
        c = self.controller
        self.view.follow(c, self.show_error)
        self.transport.follow(c)
        ActionStates(self)
        self.timeline.follow(c)
        self.overlay.follow(c)
        self.boxes.follow(c)
        self.tracks.follow(c)
        for signal in (c.mediaOpened, c.projectChanged, c.propagationFinished):
            signal.connect(self._update_title)
        c.errorOccurred.connect(self.show_error)
        c.warningOccurred.connect(self.show_warning)
        c.notice.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.view.boxDrawn.connect(self.guard(self._on_box_drawn))
        self.view.drawingChanged.connect(self._on_drawing_changed)
        self.boxes.boxEdited.connect(self.guard(lambda tid, box: c.set_box(tid, box)))
        self.transport.frame_box.done.connect(self.view.setFocus)
        self.tracks.addRequested.connect(self.guard(self.new_track))
        self.tracks.deleteRequested.connect(self.guard(self.dialogs.delete_track_asking))
        self.tracks.labelEdited.connect(self.guard(lambda tid, text: c.update_track(tid, label=text)))
        self.tracks.colorEdited.connect(self.guard(lambda tid, color: c.update_track(tid, color=color)))
        self.tracks.hiddenToggled.connect(self.guard(lambda tid, hidden: c.update_track(tid, hidden=hidden)))
        self.tracks.nameEdited.connect(self.guard(lambda tid, text: c.update_track(tid, name=text)))
        self.tracks.lockToggled.connect(self.guard(lambda tid, on: c.update_track(tid, locked=on)))
        self.tracks.attributesRequested.connect(self.guard(self.dialogs.track_attributes))
        self.tracks.classesRequested.connect(self.guard(self.dialogs.classes))

    def guard(self, handler):
        """handler, with a UserError shown as one message; every view then redraws from the project,
        so a refused edit (a locked track) does not stay in the list or on the frame."""
        def run(*args) -> None:
            try:
                handler(*args)
            except UserError as error:
                self.show_error(str(error))
                self.controller.session.refresh()
        return run

    def tool_button(self, name: str) -> QtWidgets.QToolButton:
        """The toolbar's button of an action (tests and the screenshot script press it)."""
        button = self.toolbar.widgetForAction(self.actions_by_name[name])
        assert isinstance(button, QtWidgets.QToolButton)  # a toolbar shows its actions as tool buttons
        return button

    # --- messages and settings ----------------------------------------------------------
    def show_error(self, message: str) -> None:
        """One clear sentence in a non-blocking message box (the event loop keeps running)."""
        self.last_error = message
        log.warning("%s", message)
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "SiamCross Annotator", message,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_box = box

    def show_warning(self, message: str) -> None:
        """A warning the engine raised (e.g. untrained weights), in a message box, not only in a log."""
        self.show_error(message)

    def apply_settings(self, settings: AppSettings) -> None:
        keymap_changed = settings.keymap_file != self.settings.keymap_file
        self.settings = settings
        self.controller.set_settings(settings)  # every view redraws with the new settings
        if self._persist_settings:
            save_settings(settings)
        if keymap_changed:
            install_actions(self)

    def _update_title(self, *_args) -> None:
        c = self.controller
        session = c.session
        name = session.project_path.name if session.project_path else (session.display_name if c.project else "")
        self.setWindowTitle(f"{'*' if session.dirty else ''}{name} — SiamCross Annotator" if name
                            else "SiamCross Annotator")

    # --- drawing and Esc ----------------------------------------------------------------
    def new_track(self) -> None:
        """Draw mode for a new track; the track exists once its box is drawn (Esc leaves no empty track)."""
        if self.controller.store is None:
            raise UserError("Open a video before adding tracks.")
        self._new_track_pending = True
        self.view.set_drawing(True)
        self.statusBar().showMessage("Draw the new track's box: press, drag, release (Esc cancels).", 5000)

    def _on_box_drawn(self, box) -> None:
        new_track, self._new_track_pending = self._new_track_pending, False
        self.controller.draw_box(box, new_track=new_track)

    def _on_drawing_changed(self, on: bool) -> None:
        if not on:
            self._new_track_pending = False  # left draw mode without a box: no empty track

    def cancel(self) -> None:
        """Esc: stop the run, else leave draw mode, else pause."""
        if self.controller.busy:
            self.controller.cancel()
        elif self.view.drawing:
            self.view.set_drawing(False)
        elif self.navigation.playing:
            self.navigation.toggle_play()

    # --- window events -------------------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.files.open_path(urls[0])

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.navigation.stop()
        self.controller.shutdown()
        event.accept()

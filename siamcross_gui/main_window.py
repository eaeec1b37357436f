"""The main window only assembles widgets, menus and keys around the Controller."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from core.errors import UserError
from core.media import MediaMismatch, MediaMissing
from core.review import ReviewWalk

from .box_items import BoxLayer, BoxView, tag_text
from .controller import Controller
from .export_dialog import ExportDialog
from .frame_view import FrameView
from .keymap import load_keymap
from .locate_media import LocateMedia
from .open_dialog import OpenDialog
from .overlay import OverlayControls, OverlayItem
from .recent import add_recent, load_recent
from .settings import AppSettings, load_settings, save_settings
from .settings_dialog import SettingsDialog
from .shortcuts import ShortcutsDialog, build_actions
from .timeline import ConfidenceTimeline
from .timeline_rows import TrackRows
from .track_dialogs import AttributesDialog, ClassesDialog
from .track_list import TrackList
from .transport import TransportBar
from .worker import TrackerFactory

log = logging.getLogger(__name__)

TIMELINE_REFRESH_MS = 150


@dataclass
class TimelineChanges:
    """Store changes gathered between two timeline refreshes; full when tracks were added,
    removed, recoloured or hidden (or a new project opened)."""

    full: bool = False
    track_ids: set[int] = field(default_factory=set)
    frames: set[int] = field(default_factory=set)

    def add(self, change) -> None:
        if change.structure:
            self.full = True
        self.track_ids |= change.track_ids
        self.frames |= change.frames


class MainWindow(QtWidgets.QMainWindow):
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
        self.locate_media: LocateMedia | None = None  # the open "where did the media go?" conversation
        self.open_file_dialog: OpenDialog | None = None
        self.settings_window: SettingsDialog | None = None
        self.confirm_box: QtWidgets.QMessageBox | None = None
        self.export_window: ExportDialog | None = None
        self.classes_window: ClassesDialog | None = None
        self.attributes_window: AttributesDialog | None = None
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
        self._build_status_bar()
        self._timeline_timer = QtCore.QTimer(self)
        self._timeline_timer.setSingleShot(True)
        self._timeline_timer.setInterval(TIMELINE_REFRESH_MS)
        self._timeline_timer.timeout.connect(self._refresh_timeline)
        self._timeline_changes = TimelineChanges()
        self.review = ReviewWalk()  # ] and [ walk the review queue from the last frame they showed
        self._play_timer = QtCore.QTimer(self)
        self._play_timer.timeout.connect(self._play_tick)
        self.bindings = {}
        self.actions_by_name: dict[str, QtGui.QAction] = {}
        self._install_keys()
        self._build_menus()
        self._connect()
        self._refresh_all()

    # --- layout -------------------------------------------------------------------------
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

    def _build_status_bar(self) -> None:
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setFormat("%v / %m frames")
        self.progress.hide()
        self.rate_label = QtWidgets.QLabel("")
        self.rate_label.setMinimumWidth(self.rate_label.fontMetrics().horizontalAdvance("loading the tracker…") + 8)
        self.cancel_button = QtWidgets.QPushButton("Cancel (Esc)")
        self.cancel_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.controller.cancel)
        bar = self.statusBar()
        bar.addPermanentWidget(self.rate_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _install_keys(self) -> None:
        for action in self.actions_by_name.values():
            self.removeAction(action)
        keymap_file = Path(self.settings.keymap_file) if self.settings.keymap_file else None
        try:
            self.bindings = load_keymap(keymap_file)
        except UserError as error:
            self.show_error(str(error))
            self.bindings = load_keymap(Path(__file__).resolve().parents[1] / "resources" / "keymap.json")
        c = self.controller
        handlers = {
            "open": self.open_dialog, "save": self.save, "save_as": self.save_as, "export": self.export_dialog,
            "undo": c.undo, "redo": c.redo,
            "next_frame": lambda: c.step(1), "prev_frame": lambda: c.step(-1),
            "next_frame_10": lambda: c.step(10), "prev_frame_10": lambda: c.step(-10),
            "go_to_frame": self.transport.focus_frame_box, "first_frame": lambda: c.seek(0), "last_frame": lambda: c.seek(c.frame_count - 1),
            "play_pause": self.toggle_play, "draw_mode": lambda: self.view.set_drawing(not self.view.drawing),
            "new_track": self.new_track, "next_track": lambda: c.select_relative(1),
            "prev_track": lambda: c.select_relative(-1), "delete_box": c.delete_box,
            "remove_keyframe": c.remove_keyframe, "toggle_lock": c.toggle_lock,
            "track_attributes": self.track_attributes_dialog, "edit_classes": self.classes_dialog,
            "toggle_reviewed": c.toggle_reviewed,
            "interpolate_linear": c.interpolate, "interpolate_linear_all": lambda: c.interpolate(all_tracks=True),
            "propagate_forward": lambda: c.propagate("forward"),
            "propagate_backward": lambda: c.propagate("backward"),
            "propagate_fill": lambda: c.propagate("fill"),
            "propagate_forward_all": lambda: c.propagate("forward", all_tracks=True),
            "propagate_backward_all": lambda: c.propagate("backward", all_tracks=True),
            "propagate_fill_all": lambda: c.propagate("fill", all_tracks=True),
            "propagate_forward_overwrite": lambda: self.propagate_over_imported("forward"),
            "propagate_backward_overwrite": lambda: self.propagate_over_imported("backward"),
            "propagate_fill_overwrite": lambda: self.propagate_over_imported("fill"),
            "cancel": self.cancel, "next_low_confidence": self.next_low_confidence,
            "prev_low_confidence": self.prev_low_confidence,
            "next_keyframe": lambda: self._jump_keyframe(1), "prev_keyframe": lambda: self._jump_keyframe(-1),
            "toggle_absent": lambda: c.toggle_flag("absent"), "toggle_occluded": lambda: c.toggle_flag("occluded"),
            "toggle_out_of_view": lambda: c.toggle_flag("out_of_view"),
            "toggle_overlay": self.overlay_controls.toggle, "cycle_overlay": self.overlay_controls.cycle,
            "fit_view": self.view.fit, "settings": self.settings_dialog, "shortcuts": self.show_shortcuts,
            "quit": self.close,
        }
        self.actions_by_name = build_actions(self, self.bindings, self._guarded(handlers))

    def _guarded(self, handlers):
        """Every key handler shows a UserError as one message instead of raising into Qt."""
        def wrap(handler):
            def run() -> None:
                try:
                    handler()
                except UserError as error:
                    self.show_error(str(error))
            return run
        return {name: wrap(h) for name, h in handlers.items()}

    def _build_menus(self) -> None:
        a = self.actions_by_name
        menus = {
            "&File": ["open", None, "save", "save_as", "export", None, "settings", None, "quit"],
            "&Edit": ["undo", "redo", None, "draw_mode", "new_track", "delete_box", "remove_keyframe", None,
                      "toggle_absent", "toggle_occluded", "toggle_out_of_view", "toggle_reviewed", None,
                      "toggle_lock", "track_attributes", "edit_classes"],
            "&Propagate": ["propagate_forward", "propagate_backward", "propagate_fill", None,
                           "propagate_forward_all", "propagate_backward_all", "propagate_fill_all", None,
                           "interpolate_linear", "interpolate_linear_all", None,
                           "propagate_forward_overwrite", "propagate_backward_overwrite", "propagate_fill_overwrite",
                           None, "cancel"],
            "&Navigate": ["go_to_frame", "next_frame", "prev_frame", "next_frame_10", "prev_frame_10", "first_frame",
                          "last_frame",
                          None, "next_keyframe", "prev_keyframe", "next_low_confidence", "prev_low_confidence",
                          None, "next_track", "prev_track", "play_pause"],
            "&View": ["toggle_overlay", "cycle_overlay", "fit_view"],
            "&Help": ["shortcuts"],
        }
        bar = self.menuBar()
        bar.clear()
        for title, names in menus.items():
            menu = bar.addMenu(title)
            for name in names:
                if name is None:
                    menu.addSeparator()
                else:
                    menu.addAction(a[name])
            if title == "&File":
                self.recent_menu = QtWidgets.QMenu("Open &recent", self)
                menu.insertMenu(a["save"], self.recent_menu)
                self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._build_toolbar()

    TOOLBAR = {"draw_mode": "Draw box", "new_track": "New track", 0: None, "propagate_backward": "◀ Backward",
               "propagate_fill": "Fill", "propagate_forward": "Forward ▶", "interpolate_linear": "Interpolate",
               1: None, "toggle_reviewed": "Reviewed", "toggle_overlay": "Heat map"}

    def _build_toolbar(self) -> None:
        """The tools whose state matters, as buttons: Draw box and Heat map show when they are on."""
        a = self.actions_by_name
        a["draw_mode"].setCheckable(True)
        a["draw_mode"].setChecked(self.view.drawing)
        a["toggle_overlay"].setCheckable(True)
        a["toggle_overlay"].setChecked(self.overlay_controls.enabled_box.isChecked())
        toolbar = getattr(self, "toolbar", None)
        if toolbar is None:
            toolbar = self.toolbar = QtWidgets.QToolBar("Tools", self)
            toolbar.setObjectName("tools")
            toolbar.setMovable(False)
            toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, toolbar)
        toolbar.clear()
        a["toggle_reviewed"].setCheckable(True)
        a["toggle_reviewed"].setChecked(self.controller.is_reviewed())
        for name, text in self.TOOLBAR.items():
            if text is None:
                toolbar.addSeparator()
                continue
            a[name].setIconText(text)
            toolbar.addAction(a[name])

    def tool_button(self, name: str) -> QtWidgets.QToolButton:
        """The toolbar's button of an action (tests and the screenshot script press it)."""
        return self.toolbar.widgetForAction(self.actions_by_name[name])

    def _on_drawing_changed(self, on: bool) -> None:
        self.actions_by_name["draw_mode"].setChecked(on)
        if not on:
            self._new_track_pending = False  # left draw mode without a box: no empty track

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in load_recent():
            self.recent_menu.addAction(path, lambda p=path: self.open_path(p))

    def _connect(self) -> None:
        c = self.controller
        c.frameChanged.connect(self._on_frame)
        c.projectChanged.connect(self._refresh_all)
        c.labelsChanged.connect(lambda change: self._timeline_changes.add(change))
        c.labelsChanged.connect(self._on_labels_changed)
        c.selectionChanged.connect(lambda _tid: self._refresh_all())
        c.mediaOpened.connect(self._on_media_opened)
        c.propagationStarted.connect(self._on_run_started)
        c.propagationProgress.connect(self._on_progress)
        c.propagationFinished.connect(self._on_run_finished)
        c.overlayResult.connect(self._on_overlay_result)
        c.errorOccurred.connect(self.show_error)
        c.warningOccurred.connect(self.show_warning)
        c.notice.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.view.boxDrawn.connect(self._guard(self._on_box_drawn))
        self.view.drawingChanged.connect(self._on_drawing_changed)
        self.overlay_controls.enabled_box.toggled.connect(lambda on: self.actions_by_name["toggle_overlay"].setChecked(on))
        self.boxes.boxEdited.connect(self._guard(lambda tid, box: c.set_box(tid, box)))
        self.boxes.trackClicked.connect(c.select)
        self.transport.seekRequested.connect(c.seek)
        self.transport.playToggled.connect(self.toggle_play)
        self.timeline.seekRequested.connect(c.seek)
        self.track_rows.trackClicked.connect(c.select)
        self.track_rows.seekRequested.connect(c.seek)
        self.tracks.selectionChanged.connect(c.select)
        self.tracks.addRequested.connect(self._guard(self.new_track))
        self.tracks.deleteRequested.connect(self._guard(self.delete_track_asking))
        self.transport.frame_box.done.connect(self.view.setFocus)
        self.tracks.labelEdited.connect(self._guard(lambda tid, text: c.update_track(tid, label=text)))
        self.tracks.colorEdited.connect(self._guard(lambda tid, color: c.update_track(tid, color=color)))
        self.tracks.hiddenToggled.connect(self._guard(lambda tid, hidden: c.update_track(tid, hidden=hidden)))
        self.tracks.nameEdited.connect(self._guard(lambda tid, text: c.update_track(tid, name=text)))
        self.tracks.lockToggled.connect(self._guard(lambda tid, on: c.update_track(tid, locked=on)))
        self.tracks.attributesRequested.connect(self._guard(self.track_attributes_dialog))
        self.tracks.classesRequested.connect(self._guard(self.classes_dialog))

    def _guard(self, handler):
        def run(*args) -> None:
            try:
                handler(*args)
            except UserError as error:
                self.show_error(str(error))
                self._refresh_all()  # a refused edit (a locked track) must not stay in the list or on the frame
        return run

    # --- opening and saving ----------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        """Open anything the app understands; one clear message on failure, current work kept.

        A project whose media moved (or was replaced by other media) asks where it is
        (LocateMedia) and opens once the user points at the same media; False is returned meanwhile.
        """
        if not self._confirm_discard():
            return False
        try:
            self.controller.open(path, ask_recover=self.ask_recover)
        except MediaMissing as missing:
            self._locate_media(Path(path), missing.ref)
            return False
        except MediaMismatch as mismatch:
            if mismatch.ref is None:
                self.show_error(str(mismatch))
            else:
                self._locate_media(Path(path), mismatch.ref, str(mismatch))
            return False
        except UserError as error:
            self.show_error(str(error))
            return False
        add_recent(path)
        return True

    def _locate_media(self, project_file: Path, ref, reason: str | None = None) -> None:
        locate = LocateMedia(ref, project_file, self, reason)
        locate.located.connect(lambda media: self._open_located(project_file, media))
        locate.cancelled.connect(lambda: self.statusBar().showMessage(f"{project_file.name} was not opened.", 5000))
        self.locate_media = locate
        self.last_error = locate.start()
        log.warning("%s", self.last_error)

    def _open_located(self, project_file: Path, media: Path) -> None:
        try:
            self.controller.open(project_file, ask_recover=self.ask_recover, media_path=media)
        except UserError as error:
            self.show_error(str(error))
            return
        self.locate_media = None
        add_recent(project_file)

    def open_dialog(self) -> OpenDialog:
        """The Open dialog (files and folders: videos, image folders, projects, sequences), non-blocking."""
        recent = load_recent()
        start = str(Path(recent[0]).parent) if recent else ""
        dialog = OpenDialog(self, start)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.pathChosen.connect(lambda path: QtCore.QTimer.singleShot(0, self, lambda: self.open_path(path)))
        self.open_file_dialog = dialog
        dialog.open()
        return dialog

    def save(self) -> bool:
        if self.controller.project is None:
            return False
        if self.controller.project_path is None:
            return self.save_as()
        return self._save_to(None)

    def save_as(self) -> bool:
        if self.controller.project is None:
            return False
        media = Path(self.controller.project.media.path) if self.controller.project.media else Path.cwd()
        suggestion = str(media.with_suffix(".json")) if media.is_file() else str(media / "project.json")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save project", suggestion, "Project (*.json)")
        return self._save_to(Path(path)) if path else False

    def _save_to(self, path: Path | None) -> bool:
        try:
            saved = self.controller.save(path)
        except UserError as error:
            self.show_error(str(error))
            return False
        add_recent(saved)
        self.statusBar().showMessage(f"Saved {saved}", 5000)
        self._update_title()
        return True

    def export_dialog(self) -> ExportDialog | None:
        """The export dialog, non-blocking; OK exports (with the frames as images if ticked)."""
        if self.controller.project is None:
            return None
        default = (self.controller.project_path.parent if self.controller.project_path else Path.cwd()) / "export"
        dialog = ExportDialog(default, self, frame_count=self.controller.frame_count)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.export_to(*dialog.choice, images=dialog.write_images))
        self.export_window = dialog
        dialog.open()
        return dialog

    def export_to(self, fmt: str, out_dir: Path, images: bool = False) -> bool:
        """Export; writing frames shows a progress dialog whose Cancel keeps the frames written so far."""
        from core.errors import Cancelled

        progress_dialog = None
        if images:
            progress_dialog = QtWidgets.QProgressDialog("Writing the frames…", "Cancel", 0, 1, self)
            progress_dialog.setWindowTitle("Export")
            progress_dialog.setMinimumDuration(300)
            progress_dialog.setAutoClose(True)

        def progress(done: int, total: int) -> None:
            progress_dialog.setMaximum(total)
            progress_dialog.setValue(done)
            QtWidgets.QApplication.processEvents()
            if progress_dialog.wasCanceled():
                raise Cancelled()

        try:
            self.controller.export(fmt, out_dir, images=images, progress=progress if images else None)
        except Cancelled:
            self.statusBar().showMessage(f"Export cancelled; the labels and the frames written so far are in {out_dir}.",
                                         8000)
            return False
        except UserError as error:
            self.show_error(str(error))
            return False
        finally:
            if progress_dialog is not None:
                progress_dialog.close()
                progress_dialog.deleteLater()
        self.statusBar().showMessage(f"Exported {fmt} to {out_dir}" + (" with its frames" if images else ""), 5000)
        return True

    def ask_recover(self, recovery) -> bool:
        """Offer the edits a crashed session left in the autosave journal."""
        answer = QtWidgets.QMessageBox.question(
            self, "Recover unsaved work",
            f"{recovery.edits} unsaved edit(s) from a previous session were found. Recover them?")
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def propagate_over_imported(self, direction: str) -> bool:
        """The selected track's propagation that replaces imported labels, after confirm_overwrite."""
        return self.controller.propagate(direction, overwrite=True, confirm=self.confirm_overwrite)

    def confirm_overwrite(self, plan) -> bool:
        """Ask before a propagation replaces imported labels (a person's ground truth); No by default."""
        n = plan.replaced
        answer = QtWidgets.QMessageBox.question(
            self, "Replace imported labels",
            f"This replaces {n} human label{'' if n == 1 else 's'} imported from a dataset with tracked boxes "
            f"({plan.changes_text()} may change); undo brings them back. Replace them?",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
            QtWidgets.QMessageBox.StandardButton.No)
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def _confirm_discard(self) -> bool:
        if not self.controller.dirty or self.controller.project is None:
            return True
        answer = QtWidgets.QMessageBox.question(
            self, "Unsaved changes", "Save the current project first?",
            QtWidgets.QMessageBox.StandardButton.Save | QtWidgets.QMessageBox.StandardButton.Discard
            | QtWidgets.QMessageBox.StandardButton.Cancel)
        if answer == QtWidgets.QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QtWidgets.QMessageBox.StandardButton.Discard

    # --- dialogs ------------------------------------------------------------------------
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

    def settings_dialog(self) -> SettingsDialog:
        """The settings, non-blocking; OK applies them."""
        dialog = SettingsDialog(self.settings, self)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.result_settings()))
        self.settings_window = dialog
        dialog.open()
        return dialog

    def apply_settings(self, settings: AppSettings) -> None:
        keymap_changed = settings.keymap_file != self.settings.keymap_file
        self.settings = settings
        self.controller.set_settings(settings)
        if self._persist_settings:
            save_settings(settings)
        if keymap_changed:
            self._install_keys()
            self._build_menus()
        self._refresh_all()

    def classes_dialog(self) -> ClassesDialog | None:
        """The class list editor (non-blocking; every change is one undo step)."""
        if self.controller.project is None:
            raise UserError("Open a video before editing the class list.")
        dialog = ClassesDialog(self.controller, self)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.classes_window = dialog
        dialog.open()
        return dialog

    def track_attributes_dialog(self, track_id: int | None = None) -> AttributesDialog | None:
        """The selected (or given) track's attributes (non-blocking); OK writes them as one undo step."""
        c = self.controller
        track = c.track(c.selected if track_id is None else track_id)
        if track is None:
            raise UserError("Select a track first.")
        dialog = AttributesDialog(track, lambda attributes: c.update_track(track.id, attributes=attributes), self)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.attributes_window = dialog
        dialog.open()
        return dialog

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.bindings, self).open()

    # --- actions -------------------------------------------------------------------------
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
            QtWidgets.QMessageBox.StandardButton.Cancel, self)
        box.addButton("Delete", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: box.buttonRole(button) == QtWidgets.QMessageBox.ButtonRole.DestructiveRole
                                  and self._guard(self.controller.delete_track)(track_id))
        self.confirm_box = box
        box.open()
        return box

    def cancel(self) -> None:
        if self.controller.busy:
            self.controller.cancel()
        elif self.view.drawing:
            self.view.set_drawing(False)
        elif self._play_timer.isActive():
            self.toggle_play()

    def toggle_play(self) -> None:
        if self._play_timer.isActive():
            self._play_timer.stop()
        elif self.controller.frame_count:
            fps = self.controller.project.media.fps or 25.0
            self._play_timer.start(max(1, int(round(1000.0 / fps))))
        self.transport.set_playing(self._play_timer.isActive())

    def _play_tick(self) -> None:
        c = self.controller
        if c.frame >= c.frame_count - 1:
            self.toggle_play()
        else:
            c.step(1)

    def next_low_confidence(self) -> None:
        self._walk_review(1)

    def prev_low_confidence(self) -> None:
        self._walk_review(-1)

    def _walk_review(self, step: int) -> None:
        """] / [: the next / previous frame of the review queue (core.review) of the selected track,
        or of every shown track when none is selected; the status bar says why it is suspicious."""
        c = self.controller
        if c.project is None:
            return
        ids = [c.selected] if c.selected in c.project.tracks else \
            [t.id for t in c.project.tracks.values() if not t.hidden]
        landed = self.review.step(c.project, ids, step)
        if isinstance(landed, str):
            self.statusBar().showMessage(landed, 5000)
            return
        c.seek(landed.item.frame)
        self.statusBar().showMessage(landed.message(), 15000)

    def _jump_keyframe(self, direction: int) -> None:
        track = self.controller.track(self.controller.selected)
        if track is None:
            return
        f = self.controller.frame
        target = track.next_keyframe(f) if direction > 0 else track.previous_keyframe(f)
        if target is not None:
            self.controller.seek(target)

    # --- rendering -----------------------------------------------------------------------
    def _on_media_opened(self) -> None:
        self._timeline_changes.full = True
        media = self.controller.project.media
        self.transport.set_media(media.frame_count, media.fps)
        self.overlay.clear_result()
        self._update_title()

    def _on_frame(self, frame: int) -> None:
        try:
            image = self.controller.current_frame_bgr()
        except UserError as error:
            self.show_error(str(error))
            image = None
        if image is not None:
            self.view.set_frame(image)
        self.transport.set_frame(frame)
        self._show_reviewed()
        self.timeline.set_frame(frame)
        self._show_overlay_for(frame)
        self._refresh_boxes()

    def _show_overlay_for(self, frame: int) -> None:
        result = self.controller.result_for(frame)
        if result is None:
            self.overlay.clear_result()  # not just hidden: changing the map kind must not bring it back
        else:
            self.overlay.show_result(result)

    def _on_labels_changed(self, change) -> None:
        """A correction, undo or redo on this frame: its heat map may be gone (see Controller), and
        it may have become reviewed or not."""
        if self.controller.frame in change.frames:
            self._show_overlay_for(self.controller.frame)
            self._show_reviewed()

    def _show_reviewed(self) -> None:
        reviewed = self.controller.is_reviewed()
        self.transport.set_reviewed(reviewed)
        self.actions_by_name["toggle_reviewed"].setChecked(reviewed)

    def _on_overlay_result(self, result) -> None:
        self._show_overlay_for(self.controller.frame)

    def _refresh_all(self) -> None:
        project = self.controller.project
        if project is None:
            return
        self._refresh_boxes()
        self.tracks.refresh(project, self.controller.selected, self.settings.adapt)
        if not self._timeline_timer.isActive():
            self._timeline_timer.start()
        self._update_title()

    def _refresh_timeline(self) -> None:
        """At most ~6 times a second, only the frames changed since the last refresh are redrawn."""
        project = self.controller.project
        if project is None:
            return
        changes, self._timeline_changes = self._timeline_changes, TimelineChanges()
        threshold = self.controller.settings.score_threshold
        if changes.full:
            self.timeline.refresh(project, threshold)
        else:  # refreshes in full by itself when the threshold, the frame count or the shown tracks changed
            self.timeline.update_frames(project, threshold, changes.track_ids, changes.frames)

    def _refresh_boxes(self) -> None:
        project = self.controller.project
        if project is None:
            return
        views = []
        for track in project.tracks.values():
            label = track.frames.get(self.controller.frame)
            if track.hidden or label is None or label.box is None:
                continue
            views.append(BoxView(track.id, label, tag_text(track.id, track.label, label, track.name, track.locked),
                                 track.color, track.id == self.controller.selected, track.locked))
        self.boxes.show(views)

    def _update_title(self) -> None:
        c = self.controller
        name = c.project_path.name if c.project_path else (c.display_name if c.project is not None else "")
        self.setWindowTitle(f"{'*' if c.dirty else ''}{name} — SiamCross Annotator" if name
                            else "SiamCross Annotator")

    def _on_run_started(self, _total: int) -> None:
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.rate_label.setText("loading the tracker…")

    def _on_progress(self, done: int, total: int, rate: float) -> None:
        # QProgressBar.setValue repaints at once (~3 ms, holding the GIL the worker needs) whenever its
        # text changes: only when a whole percent more is done
        total = max(total, 1)
        if self.progress.maximum() != total or done * 100 // total != self.progress.value() * 100 // total \
                or done >= total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.rate_label.setText(f"{rate:.1f} frames/s")

    def _on_run_finished(self, cancelled: bool) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.rate_label.setText("")
        stops = [stop.message() for stop in self.controller.run_stops]
        if stops:  # where and why passes stopped, not just that the run ended
            more = f"; {len(stops) - 3} more tracks stopped" if len(stops) > 3 else ""
            self.statusBar().showMessage("; ".join(stops[:3]) + more + ".", 20000)
        else:
            self.statusBar().showMessage("Propagation cancelled." if cancelled else "Propagation finished.", 5000)
        self._refresh_all()
        self._timeline_timer.stop()
        self._refresh_timeline()

    # --- window events -------------------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0])

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        if not self._confirm_discard():
            event.ignore()
            return
        self._play_timer.stop()
        self.controller.shutdown()
        event.accept()

"""The window's keys, menus and toolbar: each keymap action bound to what it does.

``install_actions`` (re)builds them from the keymap the settings name, so a changed keymap
file takes effect without a restart; the window keeps them as ``bindings`` (keymap entries)
and ``actions_by_name`` (one QAction each).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from core.errors import UserError

from .keymap import DEFAULT_KEYMAP, load_keymap
from .shortcuts import build_actions

MENUS: dict[str, list[str | None]] = {  # None: a separator
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
# the tools whose state matters, as buttons (None: a separator); Draw box, Reviewed and Heat map show when on
TOOLBAR: list[tuple[str, str] | None] = [
    ("draw_mode", "Draw box"), ("new_track", "New track"), None, ("propagate_backward", "◀ Backward"),
    ("propagate_fill", "Fill"), ("propagate_forward", "Forward ▶"), ("interpolate_linear", "Interpolate"),
    None, ("toggle_reviewed", "Reviewed"), ("toggle_overlay", "Heat map")]


def handlers(window) -> dict[str, Callable[[], None]]:
    """What each keymap action does in window."""
    c, files, dialogs, nav = window.controller, window.files, window.dialogs, window.navigation
    return {
        "open": files.open_dialog, "save": files.save, "save_as": files.save_as, "export": files.export_dialog,
        "undo": c.undo, "redo": c.redo,
        "next_frame": lambda: c.step(1), "prev_frame": lambda: c.step(-1),
        "next_frame_10": lambda: c.step(10), "prev_frame_10": lambda: c.step(-10),
        "go_to_frame": window.transport.focus_frame_box, "first_frame": lambda: c.seek(0),
        "last_frame": lambda: c.seek(c.frame_count - 1),
        "play_pause": nav.toggle_play, "draw_mode": lambda: window.view.set_drawing(not window.view.drawing),
        "new_track": window.new_track, "next_track": lambda: c.select_relative(1),
        "prev_track": lambda: c.select_relative(-1), "delete_box": c.delete_box,
        "remove_keyframe": c.remove_keyframe, "toggle_lock": c.toggle_lock,
        "track_attributes": dialogs.track_attributes, "edit_classes": dialogs.classes,
        "toggle_reviewed": c.toggle_reviewed,
        "interpolate_linear": c.interpolate, "interpolate_linear_all": lambda: c.interpolate(all_tracks=True),
        "propagate_forward": lambda: c.propagate("forward"),
        "propagate_backward": lambda: c.propagate("backward"),
        "propagate_fill": lambda: c.propagate("fill"),
        "propagate_forward_all": lambda: c.propagate("forward", all_tracks=True),
        "propagate_backward_all": lambda: c.propagate("backward", all_tracks=True),
        "propagate_fill_all": lambda: c.propagate("fill", all_tracks=True),
        "propagate_forward_overwrite": lambda: dialogs.propagate_over_imported("forward"),
        "propagate_backward_overwrite": lambda: dialogs.propagate_over_imported("backward"),
        "propagate_fill_overwrite": lambda: dialogs.propagate_over_imported("fill"),
        "cancel": window.cancel, "next_low_confidence": lambda: nav.walk_review(1),
        "prev_low_confidence": lambda: nav.walk_review(-1),
        "next_keyframe": lambda: nav.jump_keyframe(1), "prev_keyframe": lambda: nav.jump_keyframe(-1),
        "toggle_absent": lambda: c.toggle_flag("absent"), "toggle_occluded": lambda: c.toggle_flag("occluded"),
        "toggle_out_of_view": lambda: c.toggle_flag("out_of_view"),
        "toggle_overlay": window.overlay_controls.toggle, "cycle_overlay": window.overlay_controls.cycle,
        "fit_view": window.view.fit, "settings": dialogs.settings, "shortcuts": dialogs.shortcuts,
        "quit": window.close,
    }


def install_actions(window) -> None:
    """(Re)build the window's actions from the keymap, then its menus and toolbar."""
    for action in window.actions_by_name.values():
        window.removeAction(action)
    keymap_file = Path(window.settings.keymap_file) if window.settings.keymap_file else None
    try:
        window.bindings = load_keymap(keymap_file)
    except UserError as error:
        window.show_error(str(error))
        window.bindings = load_keymap(DEFAULT_KEYMAP)
    guarded = {name: _shown_errors(window, handler) for name, handler in handlers(window).items()}
    window.actions_by_name = build_actions(window, window.bindings, guarded)
    _build_menus(window)
    _build_toolbar(window)


def _shown_errors(window, handler: Callable[[], object]) -> Callable[[], None]:
    """handler, with a UserError shown as one message instead of raised into Qt."""
    def run() -> None:
        try:
            handler()
        except UserError as error:
            window.show_error(str(error))
    return run


def _build_menus(window) -> None:
    a = window.actions_by_name
    bar = window.menuBar()
    bar.clear()
    for title, names in MENUS.items():
        menu = bar.addMenu(title)
        for name in names:
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(a[name])
        if title == "&File":
            window.recent_menu = QtWidgets.QMenu("Open &recent", window)
            menu.insertMenu(a["save"], window.recent_menu)
            window.recent_menu.aboutToShow.connect(lambda: window.files.fill_recent(window.recent_menu))


def _build_toolbar(window) -> None:
    a = window.actions_by_name
    a["draw_mode"].setCheckable(True)
    a["draw_mode"].setChecked(window.view.drawing)
    a["toggle_overlay"].setCheckable(True)
    a["toggle_overlay"].setChecked(window.overlay_controls.enabled_box.isChecked())
    toolbar = getattr(window, "toolbar", None)
    if toolbar is None:
        toolbar = window.toolbar = QtWidgets.QToolBar("Tools", window)
        toolbar.setObjectName("tools")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        window.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, toolbar)
    toolbar.clear()
    a["toggle_reviewed"].setCheckable(True)
    a["toggle_reviewed"].setChecked(window.controller.is_reviewed())
    for tool in TOOLBAR:
        if tool is None:
            toolbar.addSeparator()
            continue
        name, text = tool
        a[name].setIconText(text)
        toolbar.addAction(a[name])


class ActionStates(QtCore.QObject):
    """Keeps the checkable tools' state true: Draw box (the view's draw mode), Heat map (the overlay
    switch) and Reviewed (the current frame); it reads the window's actions at each change, so it
    follows a rebuilt keymap."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        c = window.controller
        c.frameChanged.connect(self._show_reviewed)
        c.labelsChanged.connect(self._on_labels_changed)
        window.view.drawingChanged.connect(lambda on: self._check("draw_mode", on))
        window.overlay_controls.enabled_box.toggled.connect(lambda on: self._check("toggle_overlay", on))

    def _check(self, name: str, on: bool) -> None:
        self.window.actions_by_name[name].setChecked(on)

    def _show_reviewed(self, *_args) -> None:
        self._check("toggle_reviewed", self.window.controller.is_reviewed())

    def _on_labels_changed(self, change) -> None:
        if self.window.controller.frame in change.frames:
            self._show_reviewed()

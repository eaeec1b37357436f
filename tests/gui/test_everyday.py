"""What annotators use every day in CVAT, Label Studio or DarkLabel, driven through the real widgets:
track names and a class list editor, per-track attributes, locked tracks, removing a keyframe,
one timeline row per track, linear interpolation between keyframes, reviewed frames, and the
mouse gestures listed beside the keys (F1)."""
from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtTest import QTest
from support.gui import draw_box

from core.annotations.model import Provenance
from siamcross_gui.main_window import MainWindow
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import SlowIdentityTracker, activate, click, key, window_maker
from siamcross_gui.track_list import COL_FRAMES, COL_LABEL, COL_LOCK, COL_NAME

WAIT_MS = 30_000
BOX = (400.0, 200.0, 300.0, 250.0)


@pytest.fixture
def make_window(qtbot):
    with window_maker(qtbot, AppSettings, size=(1280, 860), focus=True) as make:
        yield make


def two_keyframes(window: MainWindow, qtbot, first=0, second=40) -> None:
    c = window.controller
    c.seek(first)
    draw_box(window, BOX)
    c.seek(second)
    draw_box(window, (500.0, 260.0, 200.0, 150.0))


# --- track names and the class list ----------------------------------------------------------------
def test_a_track_is_named_in_the_list_and_the_name_shows_on_its_box(make_window, demo_video, qtbot):
    window = make_window(path=demo_video)
    draw_box(window, BOX)
    table = window.tracks.table
    assert table.horizontalHeaderItem(COL_NAME).text() == "Name"
    table.item(0, COL_NAME).setText("Big Buck")
    assert window.controller.project.tracks[1].name == "Big Buck"
    qtbot.waitUntil(lambda: "Big Buck (object)" in window.boxes.boxes[1].tag.toPlainText(), timeout=5000)
    key(window, "Ctrl+Z")
    assert window.controller.project.tracks[1].name == ""


def test_the_class_list_editor_adds_renames_and_removes_classes(make_window, demo_video, qtbot):
    window = make_window(path=demo_video)
    draw_box(window, BOX)
    window.tracks.classes_button.click()
    dialog = window.dialogs.classes_window
    assert dialog.isVisible() and [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["object"]
    dialog.new_name.setText("rabbit")
    dialog.add_button.click()
    dialog.new_name.setText("bird")
    QTest.keyClick(dialog.new_name, QtCore.Qt.Key.Key_Return)
    assert window.controller.project.classes == ["object", "rabbit", "bird"]
    item = dialog.list.item(0)  # rename "object" in place: the track that has it follows
    item.setText("bunny")
    qtbot.waitUntil(lambda: window.controller.project.tracks[1].label == "bunny", timeout=5000)
    assert window.controller.project.classes == ["bunny", "rabbit", "bird"]
    qtbot.waitUntil(lambda: window.tracks.table.item(0, COL_LABEL).text() == "bunny", timeout=5000)
    dialog.list.setCurrentRow(0)
    dialog.remove_button.click()  # used by track #1: refused, in the dialog
    assert "used by a track" in dialog.message.text() and "bunny" in window.controller.project.classes
    dialog.list.setCurrentRow(2)
    dialog.remove_button.click()
    assert window.controller.project.classes == ["bunny", "rabbit"]
    dialog.close()
    activate(qtbot, window)
    key(window, "Ctrl+Z")
    key(window, "Ctrl+Z")  # the removal, then the rename (one step for the list and the track)
    assert window.controller.project.classes == ["object", "rabbit", "bird"]
    assert window.controller.project.tracks[1].label == "object"


# --- per-track attributes -----------------------------------------------------------------------------
def test_track_attributes_are_edited_in_a_dialog(make_window, demo_video, qtbot):
    window = make_window(path=demo_video)
    draw_box(window, BOX)
    window.tracks.table.selectRow(0)
    qtbot.waitUntil(lambda: window.tracks.attributes_button.isEnabled(), timeout=5000)
    window.tracks.attributes_button.click()
    dialog = window.dialogs.attributes_window
    assert dialog.isVisible() and dialog.table.rowCount() == 0
    dialog.add_button.click()
    dialog.table.item(0, 0).setText("fur")
    dialog.table.item(0, 1).setText("grey")
    dialog.add_button.click()
    dialog.table.item(1, 0).setText("mood")
    dialog.table.item(1, 1).setText("sleepy")
    dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).click()
    assert window.controller.project.tracks[1].attributes == {"fur": "grey", "mood": "sleepy"}
    qtbot.waitUntil(lambda: "fur: grey" in window.tracks.table.item(0, 1).toolTip(), timeout=5000)
    activate(qtbot, window)
    key(window, "Ctrl+Z")
    assert window.controller.project.tracks[1].attributes == {}


# --- locking a track -------------------------------------------------------------------------------------
def test_a_locked_track_is_not_changed_by_edits_or_propagation(make_window, demo_video, qtbot):
    window = make_window(path=demo_video)
    c = window.controller
    draw_box(window, BOX)
    before = dict(c.project.tracks[1].frames)
    window.tracks.table.item(0, COL_LOCK).setCheckState(QtCore.Qt.CheckState.Checked)
    assert c.project.tracks[1].locked
    qtbot.waitUntil(lambda: "locked" in window.boxes.boxes[1].tag.toPlainText(), timeout=5000)
    box = window.boxes.boxes[1]
    assert not box.translatable and not any(h.isVisible() for h in box.getHandles())
    key(window, "F")  # propagation skips it, and says so
    assert not c.busy and c.project.tracks[1].frames == before
    key(window, "X")  # a flag is an edit: refused in one message
    assert "locked" in window.last_error and c.project.tracks[1].frames == before
    window.message_box.close()
    window.tracks.table.item(0, COL_LABEL).setText("car")  # a class change too, and the list shows it back
    assert c.project.tracks[1].label == "object"
    qtbot.waitUntil(lambda: window.tracks.table.item(0, COL_LABEL).text() == "object", timeout=5000)
    window.message_box.close()
    key(window, "Ctrl+L")  # unlocking
    assert not c.project.tracks[1].locked
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        c.propagate("forward", stop_frame=5)
    assert sorted(c.project.tracks[1].frames) == list(range(6))


# --- removing a keyframe ------------------------------------------------------------------------------------
def test_removing_a_keyframe_re_derives_the_frames_it_anchored_in_one_undo_step(make_window, demo_video, qtbot):
    window = make_window(tracker=SlowIdentityTracker(delay=0.0), path=demo_video)
    c = window.controller
    two_keyframes(window, qtbot, 0, 40)
    c.seek(20)
    draw_box(window, (100.0, 100.0, 80.0, 80.0))  # a third keyframe in between
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        c.seek(0)
        c.propagate("fill")
    frames = c.project.tracks[1].frames
    assert c.project.tracks[1].keyframes() == [0, 20, 40] and len(frames) == 132
    filled = {f: label.box for f, label in frames.items()}
    c.seek(20)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        key(window, "Shift+Delete")
    frames = c.project.tracks[1].frames
    assert not frames[20].is_keyframe and frames[20].provenance is Provenance.TRACKED
    assert c.project.tracks[1].keyframes() == [0, 40]
    assert all(frames[f].box != (100.0, 100.0, 80.0, 80.0) for f in range(1, 40))  # nothing follows it now
    key(window, "Ctrl+Z")  # the removal and the re-derivation are one step
    frames = c.project.tracks[1].frames
    assert frames[20].is_keyframe and {f: label.box for f, label in frames.items()} == filled


def test_removing_the_only_keyframe_takes_what_was_tracked_from_it(make_window, demo_video, qtbot):
    window = make_window(path=demo_video)
    c = window.controller
    draw_box(window, BOX)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        c.propagate("forward", stop_frame=10)
    key(window, "Home")  # the view followed the run to frame 11
    key(window, "Shift+Delete")
    assert c.project.tracks[1].frames == {}
    key(window, "Ctrl+Z")
    assert sorted(c.project.tracks[1].frames) == list(range(11))


# --- linear interpolation --------------------------------------------------------------------------------------
def test_interpolate_fills_between_keyframes_linearly_without_the_tracker(make_window, demo_video, qtbot):
    tracker = SlowIdentityTracker(delay=0.0)
    window = make_window(tracker=tracker, path=demo_video)
    c = window.controller
    two_keyframes(window, qtbot, 10, 30)
    a, b = c.project.tracks[1].frames[10].box, c.project.tracks[1].frames[30].box
    window.tool_button("interpolate_linear").click()
    frames = c.project.tracks[1].frames
    assert sorted(frames) == list(range(10, 31))  # between the keyframes only: nothing held after
    middle = frames[20]
    assert middle.provenance is Provenance.INTERPOLATED
    assert middle.box == pytest.approx(tuple((x + y) / 2 for x, y in zip(a, b)), abs=1e-6)
    assert tracker.frames_tracked == 0
    key(window, "Ctrl+Z")
    assert sorted(c.project.tracks[1].frames) == [10, 30]
    key(window, "I")
    assert len(c.project.tracks[1].frames) == 21


# --- one timeline row per track --------------------------------------------------------------------------------
def test_each_track_has_its_own_timeline_row_and_a_click_selects_it(make_window, demo_video, qtbot):
    window = make_window(path=demo_video)
    c = window.controller
    draw_box(window, BOX)
    c.seek(50)
    c.draw_box((100.0, 100.0, 120.0, 90.0), new_track=True)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        c.propagate("forward", stop_frame=80)
    rows = window.track_rows
    qtbot.waitUntil(lambda: rows.order == [1, 2], timeout=5000)
    row1 = rows._rows[1].image
    assert row1.shape == (1, 132, 4)
    assert row1[0, 0, 3] == 255 and row1[0, 1, 3] == 0  # track 1: its keyframe, nothing tracked
    row2 = rows._rows[2].image
    assert row2[0, 50, 3] == 255 and 0 < row2[0, 60, 3] < 255 and row2[0, 90, 3] == 0
    assert rows.isVisible() and rows.height() >= 3 * 14
    c.select(1)
    vb = rows.getPlotItem().getViewBox()
    point = vb.mapViewToScene(QtCore.QPointF(70, 2.5))  # track 2's row (row 0 is "reviewed")
    click(rows, rows.mapFromScene(point))
    assert c.selected == 2 and c.frame == pytest.approx(70, abs=1)


# --- reviewed frames --------------------------------------------------------------------------------------------
def test_r_marks_a_frame_reviewed_and_the_state_shows_everywhere(make_window, demo_video, qtbot, tmp_path):
    window = make_window(path=demo_video)
    c = window.controller
    button = window.tool_button("toggle_reviewed")
    assert not button.isChecked() and not window.transport.reviewed_label.isVisible()
    key(window, "R")
    assert c.project.reviewed == {0}
    assert button.isChecked() and window.transport.reviewed_label.isVisible()
    key(window, "Right")
    assert not button.isChecked() and not window.transport.reviewed_label.isVisible()
    key(window, "R")
    qtbot.waitUntil(lambda: window.track_rows._reviewed.image is not None
                    and window.track_rows._reviewed.image[0, :2, 3].tolist() == [230, 230], timeout=5000)
    key(window, "Ctrl+Z")
    assert c.project.reviewed == {0} and not button.isChecked()
    window.files.save_as = lambda: window.files.save_to(tmp_path / "p.json")
    assert window.files.save()
    from core.annotations.io import load_project

    assert load_project(tmp_path / "p.json").reviewed == {0}


# --- mouse gestures ---------------------------------------------------------------------------------------------
def test_f1_lists_the_mouse_gestures_and_wheel_and_middle_drag_do_what_it_says(make_window, demo_video, qtbot):
    window = make_window(path=demo_video)
    key(window, "F1")
    from siamcross_gui.shortcuts import ShortcutsDialog

    dialog = next(d for d in window.findChildren(ShortcutsDialog) if d.isVisible())
    gestures = [dialog.mouse_table.item(r, 0).text() for r in range(dialog.mouse_table.rowCount())]
    assert any("Wheel" in g for g in gestures) and any("Middle-drag" in g for g in gestures)
    assert dialog.tabs.tabText(1) == "Mouse"
    dialog.close()
    vb = window.view.view
    (x0, x1), _ = vb.viewRange()
    viewport = window.view.viewport()
    centre = QtCore.QPointF(viewport.width() / 2, viewport.height() / 2)
    wheel = QtGui.QWheelEvent(centre, QtCore.QPointF(viewport.mapToGlobal(centre.toPoint())), QtCore.QPoint(0, 0),
                              QtCore.QPoint(0, 240), QtCore.Qt.MouseButton.NoButton,
                              QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(viewport, wheel)
    (z0, z1), _ = vb.viewRange()
    assert z1 - z0 < 0.9 * (x1 - x0)  # zoomed in
    _middle_drag(viewport, QtCore.QPoint(400, 300), QtCore.QPoint(300, 300))
    (p0, p1), _ = vb.viewRange()
    assert p0 > z0 + 10 and p1 - p0 == pytest.approx(z1 - z0, rel=1e-3)  # panned, same zoom


def _middle_drag(viewport, start: QtCore.QPoint, end: QtCore.QPoint) -> None:
    from siamcross_gui.testing import _send_mouse

    middle, none = QtCore.Qt.MouseButton.MiddleButton, QtCore.Qt.MouseButton.NoButton
    Type = QtCore.QEvent.Type
    _send_mouse(viewport, Type.MouseMove, start, none, none)
    _send_mouse(viewport, Type.MouseButtonPress, start, middle, middle)
    for i in range(1, 7):
        p = QtCore.QPoint(round(start.x() + (end.x() - start.x()) * i / 6), start.y())
        _send_mouse(viewport, Type.MouseMove, p, none, middle)
    _send_mouse(viewport, Type.MouseButtonRelease, end, middle, none)
    QtWidgets.QApplication.processEvents()


# --- the tracker learns from keyframes -------------------------------------------------------------------
def test_the_track_list_shows_adaptation_and_undo_and_settings_take_it_back(make_window, demo_video, qtbot):
    window = make_window(tracker=SlowIdentityTracker(delay=0.0), path=demo_video)
    window.apply_settings(window.settings.with_(adapt=True))  # off by default
    frames = window.tracks.table.item
    draw_box(window, BOX)
    assert "adapted" not in frames(0, COL_FRAMES).text() and "one keyframe" in frames(0, COL_FRAMES).toolTip()
    window.controller.seek(40)
    draw_box(window, (500.0, 260.0, 200.0, 150.0))
    qtbot.waitUntil(lambda: "adapted ×2" in frames(0, COL_FRAMES).text(), timeout=5000)
    key(window, "Ctrl+Z")  # undoing the keyframe undoes what it taught
    qtbot.waitUntil(lambda: "adapted" not in frames(0, COL_FRAMES).text(), timeout=5000)
    key(window, "Ctrl+Shift+Z")
    qtbot.waitUntil(lambda: "adapted ×2" in frames(0, COL_FRAMES).text(), timeout=5000)
    window.apply_settings(window.settings.with_(adapt=False))
    qtbot.waitUntil(lambda: "adapted" not in frames(0, COL_FRAMES).text(), timeout=5000)
    assert "off in Settings" in frames(0, COL_FRAMES).toolTip()

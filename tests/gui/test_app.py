"""The desktop app driven as a user would: real widgets, real mouse drags and keys, a real
video decoded by OpenCV, the real worker thread and store. IdentityTracker-style stand-ins
keep it fast; one test runs the real SiamCross tracker."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets
from PySide6.QtTest import QTest
from support.gui import draw_box

from core.annotations.model import Provenance
from core.errors import ModelError
from core.tracking import IdentityTracker
from siamcross_gui.main_window import MainWindow
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import MapsTracker, SlowIdentityTracker, activate, click, drag, key, window_maker

WAIT_MS = 30_000


@pytest.fixture
def demo(demo_video: Path) -> Path:
    return demo_video


@pytest.fixture
def make_window(qtbot):
    with window_maker(qtbot, AppSettings, size=(1280, 820), focus=True) as make:
        yield make


def run_and_wait(qtbot, window: MainWindow, sequence: str) -> bool:
    """Press a propagation key and wait for the worker; returns whether it was cancelled."""
    with qtbot.waitSignal(window.controller.propagationFinished, timeout=WAIT_MS) as blocker:
        key(window, sequence)
    return blocker.args[0]


def boxes_of(window: MainWindow, track_id: int = 1) -> dict:
    return {f: (label.box, label.provenance) for f, label in window.controller.project.tracks[track_id].frames.items()}


# --- opening and drawing ----------------------------------------------------------------------
def test_opening_the_demo_video_shows_its_first_frame(make_window, demo):
    window = make_window(path=demo)
    image = window.view.image.image
    assert image.shape == (720, 1280, 3)
    assert image.std() > 10  # a real picture, not a blank
    assert window.transport.slider.maximum() == window.controller.frame_count - 1 == 131
    assert "bigbuckbunny.mp4" in window.windowTitle()
    assert window.transport.frame_text == "frame 1 / 132"


def test_drawing_with_the_mouse_creates_a_manual_keyframe(make_window, demo):
    window = make_window(path=demo)
    draw_box(window, (400, 200, 300, 250))
    project = window.controller.project
    assert list(project.tracks) == [1]
    label = project.tracks[1].frames[0]
    assert label.provenance is Provenance.MANUAL
    assert label.box == pytest.approx((400, 200, 300, 250), abs=4)
    assert set(window.boxes.boxes) == {1}
    assert not window.view.drawing  # one box per draw


def test_moving_a_box_with_the_mouse_makes_it_a_keyframe(make_window, demo, qtbot):
    window = make_window(path=demo)
    draw_box(window, (400, 200, 300, 250))
    run_and_wait(qtbot, window, "F")
    key(window, "Home")
    key(window, "Right")
    assert window.controller.frame == 1
    assert window.controller.project.tracks[1].frames[1].provenance is Provenance.TRACKED
    with qtbot.waitSignal(window.controller.propagationFinished, timeout=WAIT_MS):
        drag(window.view, window.view.viewport_point(550, 325), window.view.viewport_point(650, 375))
    moved = window.controller.project.tracks[1].frames[1]
    assert moved.provenance is Provenance.MANUAL
    assert moved.box == pytest.approx((500, 250, 300, 250), abs=6)


# --- propagation ------------------------------------------------------------------------------
def test_propagate_key_fills_later_frames_in_the_worker_and_the_view_follows(make_window, demo, qtbot):
    window = make_window(path=demo)
    draw_box(window, (400, 200, 300, 250))
    cancelled = run_and_wait(qtbot, window, "F")
    assert not cancelled
    frames = window.controller.project.tracks[1].frames
    assert sorted(frames) == list(range(132))
    assert all(frames[f].provenance is Provenance.TRACKED for f in range(1, 132))
    assert frames[131].box == frames[0].box
    assert window.controller.frame == 131  # the view followed the tracked frames
    assert set(window.boxes.boxes) == {1}
    assert not window.progress.isVisible()


def test_escape_cancels_within_one_frame_and_keeps_what_was_done(make_window, demo, qtbot):
    tracker = SlowIdentityTracker(delay=0.05)
    window = make_window(tracker=tracker, path=demo)
    draw_box(window, (400, 200, 300, 250))
    with qtbot.waitSignal(window.controller.propagationFinished, timeout=WAIT_MS) as blocker:
        key(window, "F")
        qtbot.waitUntil(lambda: tracker.frames_tracked >= 5, timeout=WAIT_MS)
        key(window, "Esc")
        at_cancel = tracker.frames_tracked
    assert blocker.args == [True]
    assert tracker.frames_tracked <= at_cancel + 1  # stopped within one frame
    frames = window.controller.project.tracks[1].frames
    tracked = [f for f, label in frames.items() if label.provenance is Provenance.TRACKED]
    assert 5 <= len(tracked) <= at_cancel + 1
    qtbot.wait(200)
    assert tracker.frames_tracked <= at_cancel + 1  # and the worker really stopped


def test_correction_repropagates_only_up_to_the_next_keyframe_and_undoes_in_one_step(make_window, demo, qtbot):
    window = make_window(path=demo)
    c = window.controller
    draw_box(window, (400, 200, 300, 250))
    run_and_wait(qtbot, window, "F")
    c.seek(80)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        c.set_box(1, (100, 100, 200, 200))  # keyframe at 80; re-propagates 81..131
    before = boxes_of(window)
    assert before[100] == ((100, 100, 200, 200), Provenance.TRACKED)
    c.seek(30)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        drag(window.view, window.view.viewport_point(550, 325), window.view.viewport_point(500, 325))
    after = boxes_of(window)
    changed = sorted(f for f in after if after[f] != before[f])
    assert changed[0] == 30 and after[30][1] is Provenance.MANUAL
    assert all(30 <= f < 80 for f in changed)  # nothing before the correction or past the next keyframe
    assert len(changed) > 40
    key(window, "Ctrl+Z")
    assert boxes_of(window) == before  # the correction and its re-propagation are one undo step
    key(window, "Ctrl+Shift+Z")
    assert boxes_of(window) == after


def test_flag_keys_mark_absent_and_occluded(make_window, demo):
    window = make_window(path=demo)
    draw_box(window, (400, 200, 300, 250))
    key(window, "O")
    assert window.controller.project.tracks[1].frames[0].flags.occluded
    key(window, "Right")
    key(window, "X")
    label = window.controller.project.tracks[1].frames[1]
    assert label.flags.absent and label.box is None and label.is_keyframe
    key(window, "Ctrl+Z")
    assert 1 not in window.controller.project.tracks[1].frames


# --- overlays, timeline -----------------------------------------------------------------------
def test_overlay_shows_the_response_map_on_the_search_region(make_window, demo, qtbot):
    window = make_window(tracker=MapsTracker(), path=demo)
    draw_box(window, (400, 200, 300, 250))
    run_and_wait(qtbot, window, "F")
    overlay = window.overlay
    assert overlay.isVisible() and overlay.image is not None and overlay.values.max() > 0.4
    x, y, w, h = window.controller.result_for(131).search_region_xywh
    rect = overlay.mapRectToParent(overlay.boundingRect())
    cx, cy = rect.center().x(), rect.center().y()
    assert (cx, cy) == pytest.approx((x + w / 2, y + h / 2), abs=1e-3)
    assert (rect.width(), rect.height()) == pytest.approx((w, h), abs=1e-3)
    score = overlay.values.copy()
    window.overlay_controls.combo.setCurrentIndex(window.overlay_controls.combo.findData("cls"))
    assert overlay.values.max() == pytest.approx(1.0, abs=1e-3) and score.max() < 0.6
    window.overlay_controls.opacity.setValue(20)
    assert overlay.opacity() == pytest.approx(0.2)
    key(window, "H")
    assert not overlay.isVisible()
    key(window, "H")
    window.controller.seek(0)  # the keyframe has no tracker output: no overlay there
    assert not overlay.isVisible()


def test_timeline_marks_low_confidence_frames_and_keys_jump_to_them(make_window, demo, qtbot):
    window = make_window(tracker=MapsTracker(), path=demo)
    draw_box(window, (400, 200, 300, 250))
    run_and_wait(qtbot, window, "F")
    low = window.timeline.low_frames
    assert low == list(range(10, 132, 10))
    window.controller.seek(0)
    key(window, "]")
    assert window.controller.frame == 10
    key(window, "]")
    assert window.controller.frame == 20
    key(window, "[")
    assert window.controller.frame == 10
    plot = window.timeline.getPlotItem().getViewBox()
    scene = plot.mapViewToScene(QtCore.QPointF(57, 0.5))
    point = window.timeline.mapFromScene(scene)

    click(window.timeline, point)
    assert window.controller.frame == 57


# --- errors, saving, export, recovery -----------------------------------------------------------
def test_worker_error_is_one_message_and_the_worker_stays_ready(make_window, demo, qtbot):
    calls = []

    def factory(model, device):
        calls.append(model)
        if len(calls) == 1:
            raise ModelError("The weights file siamcross-lite.pt is truncated.")
        return IdentityTracker()

    window = make_window(tracker=factory, path=demo)
    draw_box(window, (400, 200, 300, 250))
    assert run_and_wait(qtbot, window, "F") is True
    assert window.last_error == "The weights file siamcross-lite.pt is truncated."
    assert window.controller.project.tracks[1].frames[0].is_keyframe  # no edit lost
    box = window.message_box
    assert box is not None and box.isVisible() and box.text() == window.last_error
    box.button(QtWidgets.QMessageBox.StandardButton.Ok).click()  # the user reads it and clicks OK
    activate(qtbot, window)
    window.controller.seek(0)
    assert run_and_wait(qtbot, window, "F") is False
    assert len(window.controller.project.tracks[1].frames) == 132


def test_opening_a_broken_file_shows_one_sentence_and_keeps_the_project(make_window, demo, tmp_path):
    window = make_window(path=demo)
    draw_box(window, (400, 200, 300, 250))
    window.controller.session.dirty = False  # skip the save question
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    assert not window.files.open_path(broken)
    assert window.last_error and "\n" not in window.last_error
    assert 1 in window.controller.project.tracks


def test_save_export_and_reopen_round_trip(make_window, demo, qtbot, tmp_path):
    from pycocotools.coco import COCO

    window = make_window(path=demo)
    draw_box(window, (400, 200, 300, 250))
    run_and_wait(qtbot, window, "F")
    window.controller.update_track(1, label="rabbit")
    saved = window.controller.save(tmp_path / "demo.json")
    assert json.loads(saved.read_text())
    assert window.files.export_to("coco-vid", tmp_path / "export"), window.last_error
    annotations = next((tmp_path / "export").rglob("*.json"))
    coco = COCO(str(annotations))
    assert len(coco.getAnnIds()) == 132
    original = {tid: (t.label, dict(t.frames)) for tid, t in window.controller.project.tracks.items()}
    reopened = make_window(path=saved)
    again = {tid: (t.label, dict(t.frames)) for tid, t in reopened.controller.project.tracks.items()}
    assert again == original
    assert reopened.controller.session.project_path == saved


def test_a_crashed_session_is_recovered_from_the_autosave_journal(make_window, demo, qtbot):
    first = make_window(path=demo)
    draw_box(first, (400, 200, 300, 250))
    key(first, "Right")
    draw_box(first, (420, 210, 300, 250))
    first.controller.abandon()  # the process dies: no save, journal left behind
    first.controller.session.store = None
    second = make_window()
    offered = []
    second.files.ask_recover = lambda recovery: offered.append(recovery.edits) or True
    assert second.files.open_path(demo)
    assert offered and offered[0] >= 2
    frames = second.controller.project.tracks[1].frames
    assert frames[1].box == pytest.approx((420, 210, 300, 250), abs=4)
    assert second.controller.session.dirty


# --- track list ----------------------------------------------------------------------------------
def test_track_list_renames_hides_and_deletes_through_the_store(make_window, demo, qtbot):
    window = make_window(path=demo)
    draw_box(window, (400, 200, 300, 250))
    key(window, "Ctrl+N")
    drag(window.view, window.view.viewport_point(100, 100), window.view.viewport_point(200, 220))
    assert sorted(window.controller.project.tracks) == [1, 2]
    assert window.controller.selected == 2
    table = window.tracks.table
    assert table.rowCount() == 2
    table.item(0, 2).setText("bunny")
    assert window.controller.project.tracks[1].label == "bunny"
    qtbot.waitUntil(lambda: "bunny" in window.tracks.class_delegate.classes, timeout=5000)
    table.editItem(table.item(1, 2))  # the class editor offers the project's classes
    editor = table.findChild(QtWidgets.QComboBox)
    assert editor is not None and "bunny" in [editor.itemText(i) for i in range(editor.count())]
    editor.setCurrentText("bunny")
    QTest.keyClick(editor.lineEdit(), QtCore.Qt.Key.Key_Return)  # commit and close the editor
    assert window.controller.project.tracks[2].label == "bunny"
    window.view.setFocus()
    table.item(1, 0).setCheckState(QtCore.Qt.CheckState.Unchecked)
    assert window.controller.project.tracks[2].hidden
    qtbot.waitUntil(lambda: set(window.boxes.boxes) == {1}, timeout=5000)  # views repaint on the next loop pass
    table.selectRow(0)
    assert window.controller.selected == 1
    window.tracks.delete_button.click()
    box = window.dialogs.confirm_box  # a whole track goes only after the user says so
    assert box.isVisible() and sorted(window.controller.project.tracks) == [1, 2]
    next(b for b in box.buttons() if box.buttonRole(b) == QtWidgets.QMessageBox.ButtonRole.DestructiveRole).click()
    assert sorted(window.controller.project.tracks) == [2]
    key(window, "Ctrl+Z")
    assert sorted(window.controller.project.tracks) == [1, 2]
    assert window.controller.project.tracks[1].label == "bunny"


def test_user_keymap_overrides_a_default_key(make_window, demo, tmp_path):
    keymap = tmp_path / "keys.json"
    keymap.write_text(json.dumps({"actions": {"next_frame": ["L"]}}))
    window = make_window(settings=AppSettings(keymap_file=str(keymap)), path=demo)
    key(window, "L")
    assert window.controller.frame == 1
    key(window, "Right")
    assert window.controller.frame == 1  # the default key is no longer bound


@pytest.mark.slow
def test_real_siamcross_tracker_end_to_end(make_window, demo, qtbot):
    """The real lite tracker over the last 20 frames: tracked boxes and a non-empty heat map."""
    window = make_window(tracker=lambda model, device: _real_tracker(), path=demo)
    window.controller.seek(111)
    draw_box(window, (560, 300, 240, 300))
    assert not run_and_wait(qtbot, window, "F")
    frames = window.controller.project.tracks[1].frames
    assert sorted(frames) == list(range(111, 132))
    assert all(frames[f].provenance is Provenance.TRACKED and 0 <= frames[f].score <= 1 for f in range(112, 132))
    assert window.overlay.isVisible() and window.overlay.image is not None and window.overlay.image.max() > 0


def _real_tracker():
    from core.tracking import SiamCrossTracker

    return SiamCrossTracker.from_pretrained("lite", device="cpu")


# --- dialogs, playback, other ways in -----------------------------------------------------------
def test_opening_an_otb_sequence_shows_its_labels_for_correction(make_window, seqs_dir):
    sequence = seqs_dir / sorted(p.name for p in seqs_dir.iterdir() if p.is_dir())[0]
    window = make_window(path=sequence)
    project = window.controller.project
    assert project.tracks and window.controller.frame_count > 10
    track = next(iter(project.tracks.values()))
    assert track.frames[0].provenance is Provenance.IMPORTED
    assert set(window.boxes.boxes) == {track.id}


def test_dropping_a_video_on_the_window_opens_it(make_window, demo, qtbot):
    from PySide6 import QtGui

    window = make_window()
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(demo))])
    drop = QtGui.QDropEvent(QtCore.QPointF(50, 50), QtCore.Qt.DropAction.CopyAction, mime,
                            QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert window.controller.frame_count == 132
    from siamcross_gui.recent import load_recent
    assert load_recent()[0] == str(demo.resolve())


def test_space_plays_at_the_video_rate_and_stops(make_window, demo, qtbot):
    window = make_window(path=demo)
    key(window, "Space")
    qtbot.waitUntil(lambda: window.controller.frame >= 3, timeout=10_000)
    key(window, "Space")
    stopped_at = window.controller.frame
    qtbot.wait(200)
    assert window.controller.frame == stopped_at


def test_settings_change_the_threshold_and_the_shortcut_list_shows_every_action(make_window, demo, qtbot):
    window = make_window(tracker=MapsTracker(), path=demo)
    draw_box(window, (400, 200, 300, 250))
    run_and_wait(qtbot, window, "F")
    assert len(window.timeline.low_frames) == 13
    window.apply_settings(window.settings.with_(score_threshold=0.95))
    qtbot.waitUntil(lambda: len(window.timeline.low_frames) == 131, timeout=5000)
    key(window, "F1")
    dialog = qtbot.waitUntil(lambda: _visible_dialog(window) is not None, timeout=5000) or _visible_dialog(window)
    texts = {dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert {b.text for b in window.bindings.values()} == texts
    dialog.close()


def _visible_dialog(window):
    from siamcross_gui.shortcuts import ShortcutsDialog

    found = [d for d in window.findChildren(ShortcutsDialog) if d.isVisible()]
    return found[0] if found else None


def test_export_dialog_offers_every_format(make_window, demo):
    from core.formats import FORMATS
    from siamcross_gui.export_dialog import ExportDialog

    dialog = ExportDialog(Path("/tmp/out"))
    offered = [dialog.format_combo.itemData(i) for i in range(dialog.format_combo.count())]
    assert offered == list(FORMATS)
    assert dialog.choice == (offered[0], Path("/tmp/out"))
    dialog.deleteLater()


def test_correcting_while_a_run_is_going_cancels_it_and_repropagates_from_the_correction(make_window, demo, qtbot):
    tracker = SlowIdentityTracker(delay=0.02)
    window = make_window(tracker=tracker, path=demo)
    c = window.controller
    draw_box(window, (400, 200, 300, 250))
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS) as blocker:
        key(window, "F")
        qtbot.waitUntil(lambda: tracker.frames_tracked >= 3, timeout=WAIT_MS)
        c.set_box(1, (100, 100, 50, 50), frame=2)
    assert blocker.args == [False]  # the re-propagation after the correction ran to its end
    frames = c.project.tracks[1].frames
    assert frames[2].is_keyframe and frames[2].box == (100, 100, 50, 50)
    assert frames[131].box == (100, 100, 50, 50) and frames[1].box == pytest.approx((400, 200, 300, 250), abs=4)
    assert window.last_error is None


def test_opening_another_video_mid_run_never_writes_the_old_run_into_the_new_project(make_window, demo, qtbot):
    tracker = SlowIdentityTracker(delay=0.03)
    window = make_window(tracker=tracker, path=demo)
    draw_box(window, (400, 200, 300, 250))
    with qtbot.waitSignal(window.controller.propagationFinished, timeout=WAIT_MS):
        key(window, "F")
        qtbot.waitUntil(lambda: tracker.frames_tracked >= 3, timeout=WAIT_MS)
        window.controller.session.dirty = False  # skip the save question
        assert window.files.open_path(demo)
        window.controller.add_track()  # the new project has a track 1 too
    qtbot.wait(100)
    assert window.controller.project.tracks[1].frames == {}

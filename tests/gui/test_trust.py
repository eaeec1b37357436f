"""An app an annotator can trust: every mode shows its state, Settings offers only what can run,
warnings reach the window, exports write what they name, and the rough edges are gone. Each test
drives the real widgets (keys, mouse drags, buttons, dialogs) of a real window."""
from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from support.gui import drag_box

from core.annotations.model import Provenance
from core.tracking.result import ResponseMaps
from siamcross_gui.main_window import MainWindow
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import MapsTracker, key, window_maker

WAIT_MS = 30_000
BOX = (400.0, 200.0, 300.0, 250.0)


@pytest.fixture
def make_window(qtbot):
    with window_maker(qtbot, AppSettings, size=(1280, 820), focus=True) as make:
        yield make


def run_and_wait(qtbot, window: MainWindow, sequence: str) -> None:
    with qtbot.waitSignal(window.controller.propagationFinished, timeout=WAIT_MS):
        key(window, sequence)


# --- 5. modes with visible state ----------------------------------------------------------------
def test_draw_mode_shows_a_checked_tool_button_a_crosshair_and_a_banner(make_window, demo_video):
    window = make_window(path=demo_video)
    button = window.tool_button("draw_mode")
    arrow, cross = QtCore.Qt.CursorShape.ArrowCursor, QtCore.Qt.CursorShape.CrossCursor
    assert not button.isChecked() and window.view.viewport().cursor().shape() == arrow
    assert not window.view.mode_label.isVisible()
    key(window, "N")
    assert button.isChecked() and window.actions_by_name["draw_mode"].isChecked()
    assert window.view.viewport().cursor().shape() == cross and window.view.mode_label.isVisible()
    key(window, "N")  # pressed twice: off again, and it says so (a drag would pan now)
    assert not button.isChecked() and window.view.viewport().cursor().shape() == arrow
    assert not window.view.mode_label.isVisible()
    button.click()  # the button turns it on as well; drawing one box turns it off
    assert window.view.drawing and button.isChecked()
    drag_box(window, BOX)
    assert not window.view.drawing and not button.isChecked()
    assert window.controller.project.tracks[1].frames[0].box == pytest.approx(BOX, abs=4)


def test_the_heat_map_tool_button_follows_the_checkbox_and_the_key(make_window, demo_video):
    window = make_window(path=demo_video)
    button = window.tool_button("toggle_overlay")
    assert button.isChecked() and window.overlay_controls.enabled_box.isChecked()
    key(window, "H")
    assert not button.isChecked() and not window.overlay_controls.enabled_box.isChecked()
    button.click()
    assert button.isChecked() and window.overlay_controls.enabled_box.isChecked()


# --- 5. Settings offers only what can run; warnings reach the window ---------------------------
@pytest.fixture
def no_r50(monkeypatch, tmp_path):
    """The bundled weights as they are, and r50's file missing (as it is in the repository)."""
    from core.model import weights

    files = {name: path for name, path in weights.DEFAULT_FILES.items() if Path(path).is_file()}
    files["r50"] = tmp_path / "missing" / "siamcross-r50.pt"
    monkeypatch.setattr(weights, "DEFAULT_FILES", files)
    return sorted(name for name in files if name != "r50")


def _open_settings(window) -> QtWidgets.QDialog:
    key(window, "Ctrl+,")
    dialog = window.dialogs.settings_window
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_settings_offer_only_models_with_weights_and_devices_that_exist(make_window, demo_video, no_r50):
    from core.tracking.runtime.device import available_devices

    window = make_window(path=demo_video, settings=AppSettings(model="r50", device="cuda:3"))
    dialog = _open_settings(window)
    models = [dialog.model.itemData(i) for i in range(dialog.model.count())]
    assert sorted(models) == no_r50 and "r50" not in models
    devices = [dialog.device.itemText(i) for i in range(dialog.device.count())]
    assert devices == available_devices() and devices[:2] == ["auto", "cpu"]
    import torch

    assert ("cuda" in devices) == torch.cuda.is_available()
    assert dialog.note.isVisible()  # the saved r50 / cuda:3 are named, not silently kept
    assert "r50" in dialog.note.text() and "cuda:3" in dialog.note.text()
    dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).click()
    assert window.settings.model in no_r50 and window.settings.device == "auto"


def test_a_named_model_without_weights_is_refused_in_the_window_not_run(make_window, demo_video, qtbot, no_r50):
    from siamcross_gui.worker import default_tracker_factory

    window = make_window(tracker=default_tracker_factory, path=demo_video,
                         settings=AppSettings(model="r50", device="cpu"))
    key(window, "N")
    drag_box(window, BOX)
    run_and_wait(qtbot, window, "F")
    assert "no trained weights" in window.last_error and "r50" in window.last_error
    assert window.message_box.isVisible()
    frames = window.controller.project.tracks[1].frames
    assert list(frames) == [0] and frames[0].provenance is Provenance.MANUAL  # no junk boxes


def test_an_engine_warning_while_loading_is_shown_in_the_window(make_window, demo_video, qtbot):
    from core.tracking import IdentityTracker
    from siamcross_gui.worker import CORE_DIR

    def factory(model, device):
        warnings.warn_explicit("the heads are untrained, so tracking results are meaningless", UserWarning,
                               str(CORE_DIR / "model" / "weights.py"), 1)
        warnings.warn_explicit("a library's own chatter", UserWarning, "/somewhere/else.py", 1)
        return IdentityTracker()

    window = make_window(tracker=factory, path=demo_video)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=WAIT_MS)
    assert "heads are untrained" in window.last_error and window.message_box.isVisible()
    assert "chatter" not in window.last_error


# --- 5. export writes the frames it names, and only the classes in use --------------------------
def test_export_dialog_writes_the_coco_frames_it_names_and_only_classes_in_use(make_window, demo_video, qtbot,
                                                                               tmp_path):
    from pycocotools.coco import COCO

    window = make_window(path=demo_video)
    key(window, "N")
    drag_box(window, BOX)
    c = window.controller
    c.update_track(1, label="rabbit")  # was "object": renamed
    c.seek(5)
    c.draw_box((100.0, 100.0, 80.0, 60.0), new_track=True)
    c.update_track(2, label="bird")
    c.update_track(2, label="butterfly")  # "bird" is now in no track
    key(window, "Ctrl+E")
    dialog = window.files.export_window
    assert dialog.isVisible() and dialog.images_box.isChecked() and dialog.images_box.isEnabled()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("project"))
    assert not dialog.images_box.isEnabled()  # a project file names no frames
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("coco"))
    out = tmp_path / "export"
    dialog.dir_edit.setText(str(out))
    dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: (out / "annotations.json").exists(), timeout=WAIT_MS)
    data = json.loads((out / "annotations.json").read_text())
    names = [im["file_name"] for im in data["images"]]
    assert names == ["frames/000000.jpg", "frames/000005.jpg"]
    assert all((out / name).is_file() for name in names)  # every file_name exists
    assert sorted(cat["name"] for cat in data["categories"]) == ["butterfly", "rabbit"]
    coco = COCO(str(out / "annotations.json"))
    assert len(coco.getAnnIds()) == 2 and {coco.cats[i]["name"] for i in coco.getCatIds()} == {"butterfly", "rabbit"}
    assert window.last_error is None


def test_export_without_frames_writes_only_the_labels(make_window, demo_video, tmp_path):
    window = make_window(path=demo_video)
    window.controller.draw_box(BOX)
    assert window.files.export_to("coco-vid", tmp_path / "out", images=False), window.last_error
    assert not (tmp_path / "out" / "frames").exists()
    assert window.files.export_to("otb", tmp_path / "otb", images=True), window.last_error
    assert len(list((tmp_path / "otb").rglob("img/*.jpg"))) == 132


# --- 6. rough edges ------------------------------------------------------------------------------
def test_add_then_escape_leaves_no_empty_track(make_window, demo_video):
    window = make_window(path=demo_video)
    window.tracks.add_button.click()
    assert window.view.drawing and window.tool_button("draw_mode").isChecked()
    key(window, "Esc")
    assert not window.view.drawing and window.controller.project.tracks == {}
    key(window, "Ctrl+N")
    drag_box(window, BOX)
    assert list(window.controller.project.tracks) == [1]
    key(window, "Ctrl+Z")  # the new track and its box are one step
    assert window.controller.project.tracks == {}


def test_delete_asks_before_removing_a_whole_track(make_window, demo_video):
    window = make_window(path=demo_video)
    window.controller.draw_box(BOX)
    window.tracks.table.selectRow(0)
    window.tracks.delete_button.click()
    box = window.dialogs.confirm_box
    assert box.isVisible() and "track #1" in box.text() and "Undo" in box.text()
    assert box.defaultButton() is box.button(QtWidgets.QMessageBox.StandardButton.Cancel)
    box.button(QtWidgets.QMessageBox.StandardButton.Cancel).click()
    assert list(window.controller.project.tracks) == [1]
    window.tracks.delete_button.click()
    box = window.dialogs.confirm_box
    next(b for b in box.buttons() if box.buttonRole(b) == QtWidgets.QMessageBox.ButtonRole.DestructiveRole).click()
    assert window.controller.project.tracks == {}


def test_colour_and_delete_are_disabled_without_a_selected_track_and_colour_recolours(make_window, demo_video,
                                                                                     qtbot):
    window = make_window(path=demo_video)
    tracks = window.tracks
    assert not tracks.color_button.isEnabled() and not tracks.delete_button.isEnabled()
    assert "Select a track" in tracks.color_button.toolTip()
    window.controller.draw_box(BOX)
    qtbot.waitUntil(lambda: tracks.color_button.isEnabled(), timeout=5000)
    tracks.color_button.click()
    dialog = tracks.color_dialog
    assert dialog.isVisible()
    dialog.setCurrentColor(QtCore.Qt.GlobalColor.cyan)
    dialog.accept()
    assert window.controller.project.tracks[1].color == "#00ffff"


def test_play_and_pause_are_icons_not_font_glyphs(make_window, demo_video, qtbot):
    window = make_window(path=demo_video)
    button = window.transport.play_button
    play = button.icon().cacheKey()
    assert not button.icon().isNull() and button.text() == ""
    key(window, "Space")
    assert window.transport.playing and button.icon().cacheKey() != play and not button.icon().isNull()
    key(window, "Space")
    assert not window.transport.playing and button.icon().cacheKey() == play


def test_frame_numbers_are_1_based_on_the_counter_and_the_timeline_axis(make_window, demo_video, qtbot):
    window = make_window(path=demo_video)
    key(window, "End")
    assert window.transport.frame_text == "frame 132 / 132"
    axis = window.timeline.getPlotItem().getAxis("bottom")
    for _spacing, values in axis.tickValues(0, 131, 800):
        for value, text in zip(values, axis.tickStrings(values, 1, 1)):
            assert int(text) == value + 1 and float(value).is_integer()
    labels = [t for _s, values in axis.tickValues(0, 131, 800) for t in axis.tickStrings(values, 1, 1)]
    assert "100" in labels and "0" not in labels  # round 1-based numbers, never a frame 0


def test_go_to_frame_typed_in_the_frame_box(make_window, demo_video, qtbot):
    from PySide6.QtTest import QTest

    window = make_window(path=demo_video)
    key(window, "Ctrl+G")
    box = window.transport.frame_box
    assert box.hasFocus()
    QTest.keyClicks(box, "57")
    assert window.controller.frame == 0  # nothing happens while typing
    QTest.keyClick(box, QtCore.Qt.Key.Key_Return)
    assert window.controller.frame == 56 and window.transport.frame_text == "frame 57 / 132"
    assert window.view.hasFocus()  # the keyboard is back on the frame: single keys work again
    key(window, "Right")
    assert window.controller.frame == 57


def test_the_speed_label_has_room_for_its_text(make_window, demo_video, qtbot):
    from siamcross_gui.testing import SlowIdentityTracker

    window = make_window(tracker=SlowIdentityTracker(delay=0.01), path=demo_video)
    window.controller.draw_box(BOX)
    run_and_wait(qtbot, window, "F")
    window.rate_label.setText("123.4 frames/s")
    qtbot.wait(50)
    needed = window.rate_label.fontMetrics().horizontalAdvance("123.4 frames/s")
    assert window.rate_label.width() >= needed


# --- 6. the heat map: smooth, see-through, inside the frame, never stale --------------------------
def test_overlay_rgba_is_smooth_transparent_where_low_and_cut_to_the_frame():
    import numpy as np

    from siamcross_gui.overlay import UPSAMPLE, overlay_rgba

    yy, xx = np.mgrid[0:16, 0:16].astype(np.float32)
    values = np.exp(-((xx - 7.5) ** 2 + (yy - 7.5) ** 2) / 8.0).astype(np.float32)
    rgba, rect = overlay_rgba(values, (100.0, 50.0, 256.0, 256.0), None)
    assert rgba.shape == (16 * UPSAMPLE, 16 * UPSAMPLE, 4) and rect == (100.0, 50.0, 256.0, 256.0)
    alpha = rgba[..., 3].astype(int)
    # no blocks: neighbouring pixels differ by little, where 16 px cells jumped by up to ~100
    assert np.abs(np.diff(alpha, axis=0)).max() <= 16 and np.abs(np.diff(alpha, axis=1)).max() <= 16
    assert alpha[0].max() < 40 and alpha[:, 0].max() < 40  # no hard edge at the region border
    assert alpha.max() > 200 and alpha[5, 5] < 10  # solid at the peak, clear where the map is low
    # a region hanging over the top-left corner of a 640x480 frame is cut to the frame
    rgba, rect = overlay_rgba(values, (-64.0, -32.0, 256.0, 256.0), (640, 480))
    x, y, w, h = rect
    assert x >= 0 and y >= 0 and x == pytest.approx(0, abs=2) and y == pytest.approx(0, abs=2)
    assert x + w == pytest.approx(192.0) and y + h == pytest.approx(224.0)
    assert rgba.shape[1] * (256.0 / (16 * UPSAMPLE)) == pytest.approx(w)
    assert overlay_rgba(values, (700.0, 10.0, 50.0, 50.0), (640, 480)) is None  # wholly outside
    faint, _ = overlay_rgba(values, (0.0, 0.0, 64.0, 64.0), None, faint=0.8)
    assert faint[..., 3].max() <= 0.8 * 255 + 1
    weighted, _ = overlay_rgba(np.ones_like(values), (0.0, 0.0, 64.0, 64.0), None, weight=values)
    assert weighted[5, 5, 3] < 10 and weighted[..., 3].max() > 200  # opaque where the weight is, not the value


def test_the_heat_map_over_a_frame_corner_stays_in_the_frame_and_under_the_labels(make_window, demo_video,
                                                                                 qtbot):
    window = make_window(tracker=MapsTracker(), path=demo_video)
    key(window, "N")
    drag_box(window, (10.0, 10.0, 200.0, 160.0))  # the search region reaches past the top-left corner
    with qtbot.waitSignal(window.controller.propagationFinished, timeout=WAIT_MS):
        window.controller.propagate("forward", stop_frame=5)
    overlay = window.overlay
    rx, ry, rw, rh = window.controller.result_for(5).search_region_xywh
    assert rx < 0 and ry < 0
    x, y, w, h = overlay.covered
    assert overlay.isVisible() and x >= 0 and y >= 0 and x + w <= 1280 and y + h <= 720
    rect = overlay.mapRectToParent(overlay.boundingRect())
    assert rect.left() >= 0 and rect.top() >= 0
    assert overlay.image.shape[2] == 4 and overlay.image.shape[0] > 16 * 4  # RGBA, upsampled
    tag = window.boxes.boxes[1].tag
    assert tag.zValue() > overlay.zValue() and window.boxes.boxes[1].zValue() > overlay.zValue()
    window.overlay_controls.combo.setCurrentIndex(window.overlay_controls.combo.findData("extent"))
    assert overlay.isVisible() and overlay.image[..., 3].max() <= 0.8 * 255 + 1  # faint: the box shows
    assert 0.0 < overlay.values.mean() < 0.9  # the extent has structure, not a uniform wash


class PassArrayTracker(MapsTracker):
    """MapsTracker whose maps come as SiamCrossTracker's do: views into one [targets, 7, H, W]
    array per tracked frame (cls, align, score, then reg's four)."""

    def track_many(self, frame_bgr, targets):
        results = super().track_many(frame_bgr, targets)
        stacked = np.stack([np.concatenate([r.maps.cls[None], r.maps.align[None], r.maps.score[None], r.maps.reg])
                            for r in results])
        return [replace(r, maps=ResponseMaps(cls=stacked[i, 0], align=stacked[i, 1], score=stacked[i, 2],
                                             reg=stacked[i, 3:7])) for i, r in enumerate(results)]


def test_a_kept_heat_map_holds_only_its_own_maps_not_its_frames_array_of_every_target(make_window, demo_video,
                                                                                      qtbot):
    """A run keeps one target's maps per frame for scrubbing back; kept as views they would hold
    every target's maps of that frame in memory, over thousands of frames."""
    window = make_window(tracker=PassArrayTracker(), path=demo_video)
    c = window.controller
    for i in range(4):
        c.draw_box((100.0 + 250.0 * i, 200.0, 150.0, 150.0), new_track=True)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        assert c.propagate("forward", all_tracks=True, stop_frame=10)
    maps = c.result_for(5).maps
    arrays = [maps.cls, maps.align, maps.score, maps.reg]
    own = sum(a.nbytes for a in arrays)
    pinned = sum(a.nbytes if a.base is None else a.base.nbytes for a in arrays)  # the memory each keeps alive
    assert own == 7 * 16 * 16 * 4 and pinned == own  # one target's maps, not the frame's array of four


def test_a_correction_or_an_undo_takes_the_old_runs_map_off_the_screen(make_window, demo_video, qtbot):
    window = make_window(tracker=MapsTracker(), path=demo_video)
    c = window.controller
    key(window, "N")
    drag_box(window, BOX)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        c.propagate("forward", stop_frame=20)
    c.seek(10)
    assert window.overlay.isVisible() and c.result_for(10) is not None
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        c.set_box(1, (420.0, 210.0, 280.0, 240.0))  # a correction: frame 10 is a keyframe now
    assert c.result_for(10) is None and not window.overlay.isVisible()
    window.overlay_controls.cycle()  # another map kind must not bring the stale one back
    assert not window.overlay.isVisible()
    c.seek(15)
    assert window.overlay.isVisible()  # re-tracked after the correction: the new run's map
    key(window, "Ctrl+Z")  # the correction and its re-tracking go: so do their maps
    qtbot.waitUntil(lambda: not window.overlay.isVisible(), timeout=5000)
    assert c.result_for(15) is None and c.result_for(12) is None
    c.seek(5)
    assert window.overlay.isVisible()  # frames the undo did not touch keep theirs

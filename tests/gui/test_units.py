"""Qt-light parts of the app: keymap, settings, recent files, confidence navigation, overlay maps."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from core.annotations.model import FrameLabel, Provenance, Track
from core.errors import FormatError, MediaError
from core.tracking.result import ResponseMaps
from siamcross_gui.confidence import low_confidence_frames, next_after, previous_before, score_curve
from siamcross_gui.frame_view import clip_box
from siamcross_gui.keymap import DEFAULT_KEYMAP, conflicts, load_keymap
from siamcross_gui.opening import plan_open
from siamcross_gui.overlay import MAP_KINDS, map_image
from siamcross_gui.recent import add_recent, load_recent
from siamcross_gui.settings import AppSettings, load_settings, save_settings


def test_default_keymap_binds_every_action_without_conflicts():
    bindings = load_keymap()
    assert conflicts(bindings) == {}
    for action in ("propagate_forward", "propagate_backward", "propagate_fill", "cancel", "undo", "redo",
                   "next_low_confidence", "prev_low_confidence", "toggle_absent", "save", "shortcuts"):
        assert bindings[action].keys, action
    assert bindings["propagate_forward"].keys == ("F",)
    assert bindings["cancel"].keys == ("Esc",)


def test_user_keymap_overrides_and_unbinds(tmp_path):
    user = tmp_path / "keys.json"
    user.write_text(json.dumps({"actions": {"propagate_forward": "P", "play_pause": {"keys": []}}}))
    bindings = load_keymap(user)
    assert bindings["propagate_forward"].keys == ("P",)
    assert bindings["play_pause"].keys == ()
    assert bindings["propagate_forward"].text == load_keymap()["propagate_forward"].text


def test_user_keymap_in_the_config_dir_is_picked_up(tmp_path):
    from siamcross_gui.keymap import user_keymap_path

    user_keymap_path().write_text(json.dumps({"actions": {"next_frame": ["L"]}}))
    assert load_keymap()["next_frame"].keys == ("L",)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"actions": {"fly": ["Q"]}}), "unknown action 'fly'"),
    (json.dumps({"actions": {"undo": 3}}), "no list of keys for 'undo'"),
])
def test_broken_user_keymap_is_one_clear_sentence(tmp_path, content, message):
    user = tmp_path / "keys.json"
    user.write_text(content)
    with pytest.raises(FormatError, match=message) as info:
        load_keymap(user)
    assert "\n" not in str(info.value)


def test_conflicting_keys_are_reported(tmp_path):
    user = tmp_path / "keys.json"
    user.write_text(json.dumps({"actions": {"propagate_forward": ["B"]}}))
    assert conflicts(load_keymap(user)) == {"b": ["propagate_forward", "propagate_backward"]}


def test_default_keymap_file_is_valid_json_with_texts():
    data = json.loads(DEFAULT_KEYMAP.read_text())
    assert all(entry["text"] and isinstance(entry["keys"], list) for entry in data["actions"].values())


def test_settings_round_trip_and_damaged_file_falls_back_to_defaults(tmp_path):
    path = tmp_path / "settings.json"
    settings = AppSettings(device="cpu", model="r50", score_threshold=0.45)
    save_settings(settings, path)
    assert load_settings(path) == settings
    path.write_text("{broken")
    assert load_settings(path) == AppSettings()
    path.write_text(json.dumps({"device": "cpu", "unknown_key": 1}))
    assert load_settings(path) == AppSettings(device="cpu")


def test_recent_files_most_recent_first_and_only_existing(tmp_path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    a.write_bytes(b"x")
    b.write_bytes(b"x")
    add_recent(a)
    add_recent(b)
    add_recent(a)
    assert load_recent() == [str(a.resolve()), str(b.resolve())]
    b.unlink()
    assert load_recent() == [str(a.resolve())]


def _track() -> Track:
    frames = {0: FrameLabel((1, 1, 5, 5), Provenance.MANUAL)}
    for f, s in ((1, 0.9), (2, 0.2), (3, 0.8), (5, 0.1)):
        frames[f] = FrameLabel((1, 1, 5, 5), Provenance.TRACKED, score=s)
    frames[6] = FrameLabel((1, 1, 5, 5), Provenance.INTERPOLATED)
    return Track(1, frames=frames)


def test_score_curve_and_low_confidence_frames():
    track = _track()
    curve = score_curve(track, 8)
    assert curve[:4].tolist() == [1.0, 0.9, 0.2, 0.8]
    assert np.isnan(curve[4]) and np.isnan(curve[6]) and np.isnan(curve[7])
    low = low_confidence_frames([track], 0.3)
    assert low == [2, 5]
    assert next_after(low, 0) == 2 and next_after(low, 2) == 5 and next_after(low, 5) is None
    assert previous_before(low, 5) == 2 and previous_before(low, 2) is None


def _maps() -> ResponseMaps:
    cls = np.full((5, 5), 0.5, np.float32)
    cls[2, 2] = 1.5  # out of range values are clipped for display
    reg = np.zeros((4, 5, 5), np.float32)
    reg[:, 1, 1] = 10
    reg[:, 3, 3] = 5
    return ResponseMaps(cls=cls, align=cls * 0.2, score=cls * 0.5, reg=reg)


def test_map_image_for_every_kind_is_in_unit_range():
    maps = _maps()
    for kind in MAP_KINDS:
        image = map_image(maps, kind)
        assert image.shape == (5, 5) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
    assert map_image(maps, "cls")[2, 2] == 1.0
    extent = map_image(maps, "extent")
    assert extent[1, 1] == 1.0 and extent[3, 3] == pytest.approx(0.5) and extent[0, 0] == 0.0
    with pytest.raises(ValueError):
        map_image(maps, "nonsense")


def test_drawn_box_is_clipped_to_the_frame():
    assert clip_box((-10, 5, 50, 20), (100, 80)) == (0.0, 5.0, 40.0, 20.0)
    assert clip_box((90, 70, 50, 50), (100, 80)) == (90.0, 70.0, 10.0, 10.0)


def test_plan_open_tells_projects_sequences_and_media_apart(tmp_path, seqs_dir):
    project = tmp_path / "p.json"
    project.write_text("{}")
    assert plan_open(project).kind == "project"
    assert plan_open(tmp_path).kind == "media"
    otb = plan_open(seqs_dir / sorted(p.name for p in seqs_dir.iterdir())[0])
    assert (otb.kind, otb.fmt) == ("sequence", "otb")
    with pytest.raises(MediaError, match="does not exist"):
        plan_open(tmp_path / "missing.mp4")


def test_pyside_void_calls_do_not_leak_references_to_none():
    """PySide6 6.12.0 dropped a reference to None per void call (Python 3.11 then aborts after
    a few thousand calls); pyproject pins a release without the bug, and this shows it."""
    from PySide6 import QtCore

    obj = QtCore.QObject()
    before = sys.getrefcount(None)
    for _ in range(20000):
        obj.setObjectName("x")
    assert abs(sys.getrefcount(None) - before) < 100

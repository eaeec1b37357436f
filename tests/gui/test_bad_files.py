"""The app under bad files and faults: one message box, the open project untouched, the worker usable.

Every QMessageBox the window would show is recorded instead of shown (the static helpers
and QMessageBox.open, which MainWindow.show_error uses), so a test sees exactly what a user
would have had to read and click.
"""
from __future__ import annotations

import json
import pickle
import random
from pathlib import Path

import pytest
import torch
from PySide6 import QtWidgets
from support.media import damaged_copies, write_image_folder, write_video
from support.models import PickleBomb
from support.paths import DEMO_VIDEO
from support.projects import save_real_project

from core.annotations.io import load_project, project_to_dict
from core.annotations.journal import recover
from core.annotations.model import Provenance
from core.tracking import IdentityTracker
from siamcross_gui.main_window import MainWindow
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import SlowIdentityTracker, window_maker

pytestmark = pytest.mark.reliability

WAIT_MS = 60_000
FRAMES = 48
BOX = (10.0, 8.0, 30.0, 20.0)


@pytest.fixture
def boxes(monkeypatch) -> list[str]:
    """Every message box text the app tries to show (none is shown; questions answer Discard)."""
    shown: list[str] = []
    Box = QtWidgets.QMessageBox

    def record_static(kind):
        def record(parent, title, text, *args, **kwargs):
            shown.append(text)
            return Box.StandardButton.Ok
        return record

    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(Box, kind, staticmethod(record_static(kind)))
    monkeypatch.setattr(Box, "open", lambda self, *args: shown.append(self.text()))
    monkeypatch.setattr(Box, "exec", lambda self, *args: shown.append(self.text()) or Box.StandardButton.Ok)
    monkeypatch.setattr(Box, "question", staticmethod(lambda *args, **kwargs: Box.StandardButton.Discard))
    return shown


@pytest.fixture
def video(tmp_path) -> Path:
    return write_video(tmp_path / "clip.mp4", FRAMES)


@pytest.fixture
def make_window(qtbot):
    with window_maker(qtbot, lambda: AppSettings(device="cpu"), size=(900, 600), focus=False) as make:
        yield make


def _state(window: MainWindow) -> tuple:
    c = window.controller
    return (project_to_dict(c.project), c.session.project_path, c.session.dirty, c.frame, c.selected)


def _run(qtbot, window: MainWindow, start) -> bool:
    with qtbot.waitSignal(window.controller.propagationFinished, timeout=WAIT_MS) as blocker:
        start()
    return blocker.args[0]


# --- bad files ----------------------------------------------------------------------------------
def _bad_files(root: Path, good_video: Path) -> dict[str, Path]:
    files = dict(damaged_copies(DEMO_VIDEO, root / "videos"))
    files["zero_frames"] = write_video(root / "zero.mp4", 0)
    files["non_ascii_truncated"] = root / "vidéo 日本" / "clip broken.mp4"
    files["non_ascii_truncated"].parent.mkdir()
    files["non_ascii_truncated"].write_bytes(files["truncated"].read_bytes())
    files["missing"] = root / "missing.mp4"
    no_images = root / "no images"
    no_images.mkdir()
    (no_images / "readme.txt").write_text("nothing to see")
    files["folder_without_images"] = no_images
    mixed = write_image_folder(root / "mixed", 3)
    import cv2
    import numpy as np

    cv2.imwrite(str(mixed / "1.png"), np.zeros((10, 10, 3), np.uint8))
    files["folder_mixed_sizes"] = mixed
    projects = root / "projects"
    projects.mkdir()
    (projects / "not json.json").write_text("{ this is not json")
    files["project_not_json"] = projects / "not json.json"
    (projects / "pickle.json").write_bytes(pickle.dumps(PickleBomb(root / "CODE-RAN.txt")))
    files["project_pickle_bomb"] = projects / "pickle.json"
    good = json.loads(save_real_project(good_video, projects / "good.json").read_text())
    for name, change in {
        "project_newer": lambda d: d.update(version=7),
        "project_missing_media": lambda d: d["media"].update(path=str(root / "gone.mp4")),
        "project_broken_media": lambda d: d["media"].update(path=str(files["truncated"])),
        "project_swapped_media": lambda d: d["media"].update(path=str(write_video(root / "other.mp4", FRAMES,
                                                                                    fps=30.0))),
        "project_bad_box": lambda d: d["tracks"][0]["frames"][0].update(box=[1, 2, float("nan"), 4]),
        "project_frame_past_media": lambda d: d["tracks"][0]["frames"].append(
            {"frame": 10_000, "box": [1, 2, 3, 4], "provenance": "manual"}),
    }.items():
        data = json.loads(json.dumps(good))
        change(data)
        path = projects / f"{name}.json"
        path.write_text(json.dumps(data))  # NaN is written as the bare word NaN, which is not JSON
        files[name] = path
    broken_seq = root / "Seq"
    broken_seq.mkdir()
    (broken_seq / "groundtruth_rect.txt").write_text("1,2,3,4\n1,2,x,4\n")
    write_image_folder(broken_seq / "img", 2)
    files["sequence_malformed_labels"] = broken_seq
    return files


BAD_FILES = ["truncated", "header_only", "unsupported_codec", "empty", "text", "zero_frames", "non_ascii_truncated",
             "missing", "folder_without_images", "project_not_json", "project_pickle_bomb",
             "project_newer", "project_missing_media", "project_broken_media", "project_swapped_media",
             "project_bad_box", "project_frame_past_media", "sequence_malformed_labels"]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad files")
    files = _bad_files(root, write_video(root / "good.mp4", FRAMES))
    assert sorted(files) == sorted([*BAD_FILES, "folder_mixed_sizes"])
    return files


def test_opening_each_bad_file_shows_one_message_and_keeps_the_open_project(make_window, video, bad_files, boxes,
                                                                             qtbot) -> None:
    """One window, every bad file in turn, as a user would try them one after another."""
    window = make_window(path=video)
    c = window.controller
    c.draw_box(BOX)
    c.seek(5)
    c.draw_box((12.0, 9.0, 30.0, 20.0))
    journal = c.session.journal.project_path
    for name in BAD_FILES:
        before = _state(window)
        boxes.clear()
        assert not window.files.open_path(bad_files[name]), name
        assert len(boxes) == 1, (name, boxes)
        assert boxes[0] == window.last_error and "\n" not in boxes[0] and "Traceback" not in boxes[0], (name, boxes)
        assert len(boxes[0]) > 20, (name, boxes)
        assert _state(window) == before, f"{name} changed the open project"
    assert not (bad_files["project_pickle_bomb"].parent.parent / "CODE-RAN.txt").exists()
    # the session still works: its journal is the same file, still recording
    c.seek(9)
    c.draw_box((14.0, 9.0, 30.0, 20.0))
    assert c.session.journal.project_path == journal
    assert project_to_dict(recover(journal)) == project_to_dict(c.project)


def test_frames_that_will_not_decode_show_one_message_each_and_propagation_stops_before_them(
        make_window, bad_files, boxes, qtbot, tmp_path) -> None:
    """A folder whose 2nd image has another size and a folder with a damaged image in the middle:
    they open (the damage is only known when the frame is read), a message names the frame
    when it is shown, good frames still show, and a run stops before the damage keeping the rest."""
    window = make_window(path=bad_files["folder_mixed_sizes"])
    c = window.controller
    boxes.clear()
    c.seek(1)
    assert len(boxes) == 1 and "2.png" in boxes[0] and "\n" not in boxes[0], boxes
    c.seek(2)
    assert len(boxes) == 2  # every damaged frame says so once per visit, good ones say nothing

    folder = write_image_folder(tmp_path / "frames", 20)
    (folder / "9.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert window.files.open_path(folder)
    boxes.clear()
    c.draw_box(BOX)
    assert _run(qtbot, window, lambda: c.propagate("forward")) is True
    assert len(boxes) == 1 and "9.png" in boxes[0], boxes
    assert sorted(c.project.tracks[1].frames) == list(range(8))
    c.seek(10)
    c.draw_box(BOX)
    boxes.clear()
    assert _run(qtbot, window, lambda: c.propagate("forward")) is False  # the worker is ready; past the damage works
    assert sorted(c.project.tracks[1].frames) == [*range(8), *range(10, 20)] and boxes == []


# --- faults in the worker -------------------------------------------------------------------------
class FailsAtFrame(IdentityTracker):
    """Raises on its `fail_at`-th frame of every run it is armed for (a bug in a tracker)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at, self.calls, self.armed = fail_at, 0, True

    def track_many(self, frame_bgr, targets):
        self.calls += 1
        if self.armed and self.calls == self.fail_at:
            raise RuntimeError("simulated tracker crash")
        return super().track_many(frame_bgr, targets)


def test_a_tracker_crash_mid_run_is_one_message_keeps_the_frames_done_and_the_worker_stays_ready(
        make_window, video, boxes, qtbot) -> None:
    tracker = FailsAtFrame(fail_at=12)
    window = make_window(tracker=tracker, path=video)
    c = window.controller
    c.draw_box(BOX)
    assert _run(qtbot, window, lambda: c.propagate("forward")) is True
    assert len(boxes) == 1 and "simulated tracker crash" in boxes[0] and "\n" not in boxes[0]
    frames = c.project.tracks[1].frames
    assert sorted(frames) == list(range(12))  # 11 tracked frames before the crash, all kept
    assert frames[0].is_keyframe and all(frames[f].provenance is Provenance.TRACKED for f in range(1, 12))
    assert project_to_dict(recover(c.session.journal.project_path)) == project_to_dict(c.project)
    boxes.clear()
    tracker.armed = False
    c.seek(11)
    assert _run(qtbot, window, lambda: c.propagate("forward")) is False
    assert sorted(c.project.tracks[1].frames) == list(range(FRAMES)) and boxes == []


def test_gpu_out_of_memory_continues_on_the_cpu_with_a_notice(make_window, video, boxes, qtbot) -> None:
    devices: list[str] = []

    class OutOfMemoryOnGpu(IdentityTracker):
        def __init__(self, device: str) -> None:
            super().__init__()
            self.device, self.calls = device, 0

        def track_many(self, frame_bgr, targets):
            self.calls += 1
            if self.device != "cpu" and self.calls == 5:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return super().track_many(frame_bgr, targets)

    def factory(model: str, device: str):
        devices.append(device)
        return OutOfMemoryOnGpu(device)

    window = make_window(tracker=factory, settings=AppSettings(device="cuda"), path=video)
    notices: list[str] = []
    window.controller.notice.connect(notices.append)
    window.controller.draw_box(BOX)
    assert _run(qtbot, window, lambda: window.controller.propagate("forward")) is False
    assert devices == ["cuda", "cpu"]
    assert any("CPU" in n for n in notices) and boxes == []
    assert sorted(window.controller.project.tracks[1].frames) == list(range(FRAMES))


def test_cancel_again_and_again_while_three_tracks_propagate(make_window, video, boxes, qtbot) -> None:
    tracker = SlowIdentityTracker(delay=0.01)
    window = make_window(tracker=tracker, path=video)
    c = window.controller
    for i in range(3):
        c.select(None)
        c.draw_box((5.0 + 20 * i, 8.0, 16.0, 16.0))
    assert sorted(c.project.tracks) == [1, 2, 3]
    keyframes = {t: dict(c.project.tracks[t].frames) for t in (1, 2, 3)}
    rng = random.Random(7)
    for _ in range(6):
        c.seek(0)
        with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
            assert c.propagate("forward", all_tracks=True)
            at = tracker.frames_tracked + rng.randrange(0, 6)
            qtbot.waitUntil(lambda at=at: tracker.frames_tracked >= at or not c.run.worker.busy, timeout=WAIT_MS)
            window.cancel()
            window.cancel()  # pressing Esc twice is harmless
        for track_id, frames in keyframes.items():
            assert all(c.project.tracks[track_id].frames[f] == label for f, label in frames.items())
        assert project_to_dict(recover(c.session.journal.project_path)) == project_to_dict(c.project)
    c.seek(0)
    assert _run(qtbot, window, lambda: c.propagate("forward", all_tracks=True)) is False
    assert all(sorted(c.project.tracks[t].frames) == list(range(FRAMES)) for t in (1, 2, 3))
    assert boxes == []


# --- saving and exporting where it cannot be written ----------------------------------------------
def test_save_and_export_into_an_unwritable_place_are_one_message_and_lose_nothing(make_window, video, boxes,
                                                                                   tmp_path) -> None:
    window = make_window(path=video)
    c = window.controller
    c.draw_box(BOX)
    saved = tmp_path / "saved.json"
    assert window.files.save_to(saved)
    on_disk = saved.read_bytes()
    c.seek(3)
    c.draw_box((11.0, 8.0, 30.0, 20.0))
    before = _state(window)
    a_file = tmp_path / "plain file"
    a_file.write_text("in the way")
    assert not window.files.save_to(a_file / "project.json")
    assert not window.files.export_to("mot", a_file / "export")
    assert len(boxes) == 2 and all("\n" not in b for b in boxes), boxes
    assert _state(window) == before and c.session.dirty  # still unsaved, still the same edits
    assert saved.read_bytes() == on_disk  # the last good save is intact
    assert window.files.save_to(None)  # and saving where it can works
    assert 3 in load_project(saved).tracks[1].frames


SIGNAL_STORM = """
import siamcross_gui  # the app's own imports
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication([])
class Emitter(QtCore.QObject):
    stepped = QtCore.Signal(object)
    finished = QtCore.Signal(bool)
emitter, widget = Emitter(), QtWidgets.QWidget()
emitter.stepped.connect(lambda step: None)
emitter.finished.connect(lambda cancelled: None)
for i in range(60_000):  # a long propagation: one signal per frame, repaint requests, bool results
    emitter.stepped.emit(i)
    emitter.finished.emit(i % 2 == 0)
    widget.update()
    widget.isVisible()
print("alive")
"""


def test_tens_of_thousands_of_signals_do_not_abort_the_interpreter() -> None:
    """PySide6 6.12.0 dropped a reference to the bool each Signal.emit returns (and to None per
    void call); under Python < 3.12 that aborted the app with 'bool_dealloc' after ~2,400
    propagated frames (found by the soak test), so pyproject pins 6.11.3. Run in a child
    process: the failure is a hard abort."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", SIGNAL_STORM], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0 and "alive" in done.stdout, done.stderr[-800:]

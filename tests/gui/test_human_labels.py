"""Imported labels in the app: a correction re-tracks nothing past the next human label, the
propagate keys stop at them, and replacing them is a confirmed choice (real widgets, real mouse,
the real worker and controller; an identity tracker)."""
from __future__ import annotations

import pytest
from PySide6 import QtWidgets
from support.media import write_video

from core.annotations.io import save_project
from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.media import open_media
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import drag, key, window_maker

WAIT_MS = 30_000
FRAMES = 40
BOX = (20.0, 15.0, 40.0, 30.0)


@pytest.fixture
def make_window(qtbot):
    with window_maker(qtbot, lambda: AppSettings(device="cpu"), size=(900, 600), focus=True) as make:
        yield make


def imported(frame: int) -> FrameLabel:
    x, y, w, h = BOX
    return FrameLabel((x + frame * 0.25, y, w, h), Provenance.IMPORTED)


def project_file(tmp_path, tracked: range = range(0)) -> object:
    """A saved project over a small video, track 1 imported on every frame but `tracked` ones."""
    video = write_video(tmp_path / "clip.mp4", FRAMES)
    with open_media(video) as source:
        project = Project(media=source.to_media_ref())
    frames = {f: imported(f) for f in range(FRAMES)}
    frames.update({f: FrameLabel((5.0, 5.0, 10.0, 10.0), Provenance.TRACKED, 0.4) for f in tracked})
    project.tracks[1] = Track(1, frames=frames)
    path = tmp_path / "imported.json"
    save_project(project, path)
    return path


def move_box(window, frame: int, dx: float = 10.0) -> None:
    """Seek to frame and drag track 1's box dx pixels right with the mouse (a correction)."""
    window.controller.seek(frame)
    x, y, w, h = window.controller.project.tracks[1].frames[frame].box
    centre = (x + w / 2, y + h / 2)
    drag(window.view, window.view.viewport_point(*centre), window.view.viewport_point(centre[0] + dx, centre[1]))


def test_a_correction_on_imported_labels_retracks_nothing(make_window, tmp_path, qtbot):
    window = make_window(path=project_file(tmp_path))
    c = window.controller
    before = dict(c.project.tracks[1].frames)
    started = []
    c.propagationStarted.connect(started.append)
    move_box(window, 20)
    qtbot.wait(200)  # a run would have started by now
    frames = c.project.tracks[1].frames
    assert frames[20].provenance is Provenance.MANUAL and frames[20].box[0] > before[20].box[0] + 5
    assert {f: label for f, label in frames.items() if f != 20} == {f: label for f, label in before.items() if f != 20}
    assert started == [] and not c.busy


def test_a_correction_retracks_only_up_to_the_next_imported_label(make_window, tmp_path, qtbot):
    window = make_window(path=project_file(tmp_path, tracked=range(10, 20)))
    c = window.controller
    before = dict(c.project.tracks[1].frames)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        move_box(window, 12)
        assert "Re-tracking frames 14-20 of track 1 (the next human label is on frame 21)." in \
            window.statusBar().currentMessage()
    frames = c.project.tracks[1].frames
    assert all(frames[f] != before[f] and frames[f].provenance is Provenance.TRACKED for f in range(13, 20))
    assert all(frames[f] == before[f] for f in (*range(0, 12), *range(20, FRAMES)))


def test_propagate_stops_at_imported_labels_and_replacing_them_asks_first(make_window, tmp_path, qtbot, monkeypatch):
    window = make_window(path=project_file(tmp_path))
    c = window.controller
    before = dict(c.project.tracks[1].frames)
    c.seek(5)
    key(window, "F")
    assert not c.busy and dict(c.project.tracks[1].frames) == before
    assert window.statusBar().currentMessage() == \
        "Nothing to propagate: 34 imported labels kept (track 1 stops before its human label on frame 7)."

    questions: list[str] = []
    answer = [QtWidgets.QMessageBox.StandardButton.No]
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", staticmethod(
        lambda parent, title, text, *args: questions.append(text) or answer[0]))
    window.actions_by_name["propagate_forward_overwrite"].trigger()
    assert len(questions) == 1 and "replaces 34 human labels imported" in questions[0]
    assert not c.busy and dict(c.project.tracks[1].frames) == before  # No: nothing replaced

    answer[0] = QtWidgets.QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        window.actions_by_name["propagate_forward_overwrite"].trigger()
    frames = c.project.tracks[1].frames
    assert all(frames[f] == before[f] for f in range(6))
    assert all(frames[f].provenance is Provenance.TRACKED for f in range(6, FRAMES))
    key(window, "Ctrl+Z")
    assert dict(c.project.tracks[1].frames) == before  # one undo brings the imported labels back

"""Reopening projects in the app: from another working directory, and after the media moved
(the real Locate… message box, a stubbed file picker, the fingerprint check)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets
from support.media import write_video

from core.annotations.io import load_project
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import window_maker

BOX = (10.0, 8.0, 30.0, 20.0)


@pytest.fixture
def make_window(qtbot):
    with window_maker(qtbot, lambda: AppSettings(device="cpu"), size=(900, 600), focus=False) as make:
        yield make


@pytest.fixture
def picks(monkeypatch) -> list[str]:
    """What the stubbed file picker returns, one entry per time it is opened ("" = the user cancelled)."""
    answers: list[str] = []
    picker = QtWidgets.QFileDialog
    monkeypatch.setattr(picker, "getOpenFileName", staticmethod(lambda *args, **kwargs: (answers.pop(0), "")))
    monkeypatch.setattr(picker, "getExistingDirectory", staticmethod(lambda *args, **kwargs: answers.pop(0)))
    return answers


def saved_project(make_window, video: Path, project_file: str | Path) -> dict:
    """Open video in a window, draw a box, save; returns the saved tracks for comparison."""
    window = make_window(path=video)
    window.controller.draw_box(BOX)
    window.controller.save(project_file)
    tracks = {tid: dict(t.frames) for tid, t in window.controller.project.tracks.items()}
    window.controller.shutdown()
    return tracks


def click(qtbot, button: QtWidgets.QAbstractButton) -> None:
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)


def test_a_project_saved_after_opening_the_demo_by_a_relative_path_reopens_elsewhere(
        make_window, demo_video, tmp_path, monkeypatch):
    """`make run` opens resources/demo/bigbuckbunny.mp4 from the repository root."""
    root = tmp_path / "repo"
    (root / "resources" / "demo").mkdir(parents=True)
    shutil.copy(demo_video, root / "resources" / "demo" / "bigbuckbunny.mp4")
    monkeypatch.chdir(root)
    tracks = saved_project(make_window, Path("resources/demo/bigbuckbunny.mp4"), "resources/demo/bigbuckbunny.json")
    project_file = root / "resources" / "demo" / "bigbuckbunny.json"
    assert json.loads(project_file.read_text())["media"]["path"] == "bigbuckbunny.mp4"
    monkeypatch.chdir(tmp_path)
    window = make_window()
    assert window.files.open_path(project_file), window.last_error
    assert {tid: dict(t.frames) for tid, t in window.controller.project.tracks.items()} == tracks
    assert window.view.image.image is not None and window.controller.frame_count == 132
    shutil.move(root, tmp_path / "moved repo")  # the project folder moves together with its media
    again = make_window()
    assert again.files.open_path(tmp_path / "moved repo" / "resources" / "demo" / "bigbuckbunny.json"), again.last_error


def test_missing_media_is_located_by_a_picker_and_a_wrong_file_is_refused_by_fingerprint(
        make_window, picks, tmp_path, qtbot):
    video = write_video(tmp_path / "work" / "clip.mp4", 24)
    project_file = tmp_path / "work" / "clip.json"
    tracks = saved_project(make_window, video, project_file)
    archive = tmp_path / "archive"
    archive.mkdir()
    moved = Path(shutil.move(video, archive / "clip.mp4"))
    wrong = write_video(archive / "other.mp4", 30)

    window = make_window()
    assert not window.files.open_path(project_file)
    locate = window.files.locate_media
    assert locate is not None and locate.box is not None and locate.box.isVisible()
    assert "clip.mp4" in locate.box.text() and str(video) in locate.box.text()
    assert window.controller.project is None

    picks.append(str(wrong))
    click(qtbot, locate.locate_button)
    assert locate.box is not None and locate.box.isVisible()
    assert locate.box.text() == "other.mp4 is not the video this project was labelled on (its fingerprint differs)."
    assert window.controller.project is None  # never opened over other media

    picks.append("")  # the user closes the picker: asked again, nothing opened
    click(qtbot, locate.locate_button)
    assert locate.box is not None and window.controller.project is None

    picks.append(str(moved))
    click(qtbot, locate.locate_button)
    c = window.controller
    assert c.project is not None and c.project.media.path == str(moved)
    assert {tid: dict(t.frames) for tid, t in c.project.tracks.items()} == tracks
    assert c.session.project_path == project_file and c.session.dirty and window.windowTitle().startswith("*")
    assert window.files.save()
    assert json.loads(project_file.read_text())["media"]["path"] == str(moved)  # saved with the new place
    assert load_project(project_file).media.path == str(moved)


def test_cancelling_the_locate_question_keeps_the_open_project(make_window, picks, tmp_path, qtbot):
    video = write_video(tmp_path / "work" / "clip.mp4", 24)
    project_file = tmp_path / "work" / "clip.json"
    saved_project(make_window, video, project_file)
    video.unlink()
    other = write_video(tmp_path / "other" / "open.mp4", 12)
    window = make_window(path=other)
    assert not window.files.open_path(project_file)
    locate = window.files.locate_media
    cancel = locate.box.button(QtWidgets.QMessageBox.StandardButton.Cancel)
    click(qtbot, cancel)
    assert picks == [] and window.controller.project.media.path == str(other)
    assert window.controller.session.project_path is None

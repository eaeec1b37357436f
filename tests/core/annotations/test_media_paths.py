"""Project media paths: a saved project opens from any working directory, after its folder moves
together with its media, and still finds media kept elsewhere; missing media is located again
only when its fingerprint matches."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from support.media import write_image_folder, write_video

from core.annotations.io import load_project, save_project
from core.annotations.media_paths import resolved_media_path, stored_media_path
from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.cli import main
from core.errors import MediaError
from core.media import MediaMismatch, MediaMissing, check_located, open_media, open_media_ref

FRAMES = 12


def stored_path(project_file: Path) -> str:
    return json.loads(project_file.read_text(encoding="utf-8"))["media"]["path"]


def opens(project_file: Path) -> int:
    """Load the project and open its media as the app and the CLI do; returns its frame count."""
    with open_media_ref(load_project(project_file).media) as source:
        return source.info.frame_count


def project_over(media: str | Path) -> Project:
    with open_media(media) as source:
        project = Project(media=source.to_media_ref())
    project.tracks[1] = Track(1, frames={0: FrameLabel((4.0, 8.0, 16.0, 16.0), Provenance.MANUAL),
                                         FRAMES - 1: FrameLabel((40.0, 8.0, 16.0, 16.0), Provenance.MANUAL)})
    return project


# --- the rules, pure --------------------------------------------------------------------------
@pytest.mark.parametrize("media, project_file, stored", [
    ("/p/clip.mp4", "/p/clip.json", "clip.mp4"),                   # beside the file
    ("/p/media/a b/clip.mp4", "/p/project.json", "media/a b/clip.mp4"),  # below its folder
    ("/p/img", "/p/img/project.json", "."),                       # an image folder holding the file
    ("/videos/clip.mp4", "/p/project.json", "/videos/clip.mp4"),   # elsewhere: absolute
    ("/p/../videos/clip.mp4", "/p/project.json", "/videos/clip.mp4"),
    ("/pp/clip.mp4", "/p/project.json", "/pp/clip.mp4"),           # a name that only starts alike
])
def test_media_is_stored_relative_only_when_it_lies_in_the_project_folder(media, project_file, stored):
    assert stored_media_path(media, project_file) == stored
    assert resolved_media_path(stored, project_file, cwd="/nowhere") == os.path.normpath(media)


def test_a_relative_path_in_memory_means_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert stored_media_path("resources/demo/clip.mp4", "resources/demo/clip.json") == "clip.mp4"
    assert stored_media_path("clip.mp4", tmp_path / "sub" / "p.json") == str(tmp_path / "clip.mp4")


# --- saving and loading for real --------------------------------------------------------------
def test_a_project_saved_after_make_run_reopens_from_another_working_directory(tmp_path, monkeypatch):
    """`siamcross gui resources/demo/clip.mp4` from the repository root, saved beside the video."""
    root = tmp_path / "repo"
    write_video(root / "resources" / "demo" / "clip.mp4", FRAMES)
    monkeypatch.chdir(root)
    save_project(project_over("resources/demo/clip.mp4"), "resources/demo/clip.json")
    assert stored_path(root / "resources" / "demo" / "clip.json") == "clip.mp4"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert opens(root / "resources" / "demo" / "clip.json") == FRAMES
    assert opens(Path("../repo/resources/demo/clip.json")) == FRAMES


@pytest.mark.parametrize("kind", ["video", "images"])
def test_a_project_folder_moved_with_its_media_still_opens(tmp_path, monkeypatch, kind):
    folder = tmp_path / "Car4"
    media = write_video(folder / "clip.mp4", FRAMES) if kind == "video" else write_image_folder(folder / "img", FRAMES)
    save_project(project_over(media), folder / "project.json")
    assert stored_path(folder / "project.json") == media.name
    shutil.move(folder, tmp_path / "moved")
    monkeypatch.chdir(tmp_path / "moved")
    assert opens(tmp_path / "moved" / "project.json") == FRAMES
    assert load_project(tmp_path / "moved" / "project.json").media.path == str(tmp_path / "moved" / media.name)


def test_media_kept_elsewhere_is_stored_absolute_and_found_after_the_project_file_moves(tmp_path):
    video = write_video(tmp_path / "videos" / "clip.mp4", FRAMES)
    (tmp_path / "projects").mkdir()
    save_project(project_over(video), tmp_path / "projects" / "p.json")
    assert stored_path(tmp_path / "projects" / "p.json") == str(video)
    (tmp_path / "other" / "deeper").mkdir(parents=True)
    shutil.move(tmp_path / "projects" / "p.json", tmp_path / "other" / "deeper" / "p.json")
    assert opens(tmp_path / "other" / "deeper" / "p.json") == FRAMES


def test_an_old_project_with_a_working_directory_relative_path_still_opens_from_there(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    video = write_video(root / "resources" / "demo" / "clip.mp4", FRAMES)
    project_file = root / "resources" / "demo" / "clip.json"
    save_project(project_over(video), project_file)
    data = json.loads(project_file.read_text(encoding="utf-8"))
    data["media"]["path"] = "resources/demo/clip.mp4"  # what the old app wrote after `make run`
    project_file.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.chdir(root)
    assert opens(project_file) == FRAMES
    save_project(load_project(project_file), project_file)  # saved again: stored the new way
    assert stored_path(project_file) == "clip.mp4"
    monkeypatch.chdir(tmp_path)
    assert opens(project_file) == FRAMES


def test_missing_media_is_one_sentence_naming_where_it_was_expected(tmp_path, monkeypatch, capsys):
    video = write_video(tmp_path / "p" / "clip.mp4", FRAMES)
    save_project(project_over(video), tmp_path / "p" / "project.json")
    (tmp_path / "away").mkdir()
    video.rename(tmp_path / "away" / "clip.mp4")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MediaMissing) as missing:
        opens(tmp_path / "p" / "project.json")
    message = str(missing.value)
    assert str(tmp_path / "p" / "clip.mp4") in message and "\n" not in message and message.count(". ") == 0
    assert missing.value.ref.fingerprint  # what a locate dialog checks the new place against
    assert main(["propagate", str(tmp_path / "p" / "project.json"), "--method", "linear", "--direction", "fill"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_same_named_file_in_the_working_directory_is_never_taken_for_the_media(tmp_path, monkeypatch):
    video = write_video(tmp_path / "p" / "clip.mp4", FRAMES)
    save_project(project_over(video), tmp_path / "p" / "project.json")
    video.unlink()
    write_video(tmp_path / "clip.mp4", FRAMES + 3)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MediaMismatch, match="fingerprint differs") as mismatch:
        opens(tmp_path / "p" / "project.json")
    assert mismatch.value.ref is not None  # the app offers to locate the right one


def test_cli_propagates_a_project_from_another_working_directory(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    write_video(root / "media" / "clip.mp4", FRAMES)
    monkeypatch.chdir(root)
    save_project(project_over("media/clip.mp4"), "project.json")
    monkeypatch.chdir(tmp_path)
    assert main(["propagate", "repo/project.json", "--method", "linear", "--direction", "fill"]) == 0
    project = load_project(root / "project.json")
    assert stored_path(root / "project.json") == "media/clip.mp4"
    assert project.tracks[1].frames[5].provenance is Provenance.INTERPOLATED


# --- locating moved media ---------------------------------------------------------------------
def test_located_media_must_have_the_same_fingerprint(tmp_path):
    video = write_video(tmp_path / "clip.mp4", FRAMES)
    ref = project_over(video).media
    copy = tmp_path / "moved" / "renamed.mp4"
    copy.parent.mkdir()
    shutil.copy(video, copy)
    assert check_located(ref, copy).path == str(copy)
    other = write_video(tmp_path / "other.mp4", FRAMES + 1)
    with pytest.raises(MediaMismatch) as mismatch:
        check_located(ref, other)
    assert str(mismatch.value) == "other.mp4 is not the video this project was labelled on (its fingerprint differs)."
    with pytest.raises(MediaError, match="not a video"):
        check_located(ref, tmp_path / "moved")


def test_a_located_image_folder_may_be_picked_by_one_of_its_frames(tmp_path):
    folder = write_image_folder(tmp_path / "img", FRAMES)
    ref = project_over(folder).media
    shutil.move(folder, tmp_path / "frames")
    assert check_located(ref, tmp_path / "frames" / "3.png").path == str(tmp_path / "frames")
    (tmp_path / "frames" / "3.png").unlink()
    with pytest.raises(MediaMismatch, match="fingerprint differs"):
        check_located(ref, tmp_path / "frames")

"""Project files: exact round trip, one-sentence FormatErrors, atomic saves that never lose the old file."""
from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.annotations import io as project_io
from core.annotations.atomic_file import ProjectSaveError
from core.annotations.io import load_project, project_to_bytes, save_project
from core.annotations.model import Flags, FrameLabel, MediaRef, Project, Provenance, Track
from core.errors import FormatError, UserError

finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.0, exclude_min=True, allow_nan=False, allow_infinity=False)
flags = st.builds(
    Flags,
    absent=st.booleans(),
    occluded=st.booleans(),
    out_of_view=st.booleans(),
    cut_by_image=st.booleans(),
    cover=st.none() | st.integers(0, 8),
)


@st.composite
def frame_labels(draw: st.DrawFn) -> FrameLabel:
    label_flags = draw(flags)
    box = (None if label_flags.absent and draw(st.booleans())
           else (draw(finite), draw(finite), draw(positive), draw(positive)))
    cues = {name: draw(st.none() | finite) for name in ("distractor", "disagreement", "box_spread")}
    return FrameLabel(box, draw(st.sampled_from(list(Provenance))), draw(st.none() | finite), label_flags, **cues)


colors = st.from_regex(r"\A#[0-9a-f]{6}\Z")
tracks = st.builds(
    Track,
    id=st.integers(0, 10**6),
    label=st.text(min_size=1),
    color=colors,
    hidden=st.booleans(),
    frames=st.dictionaries(st.integers(0, 10**5 - 1), frame_labels(), max_size=8),
)
media = st.none() | st.builds(
    MediaRef,
    path=st.text().map(lambda text: os.path.abspath(os.sep + text)),  # relative paths: test_media_paths.py
    kind=st.sampled_from(["video", "images"]),
    frame_count=st.just(10**5),
    width=st.integers(1, 8000),
    height=st.integers(1, 8000),
    fps=finite,
    fingerprint=st.text(),
)


@st.composite
def projects(draw: st.DrawFn) -> Project:
    track_list = draw(st.lists(tracks, max_size=4, unique_by=lambda t: t.id))
    return Project(
        media=draw(media),
        tracks={t.id: t for t in track_list},
        classes=draw(st.lists(st.text(), max_size=4)),
        next_track_id=draw(st.integers(1, 10**7)),
        meta=draw(st.dictionaries(st.text(), st.text(), max_size=3)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(project=projects())
def test_any_project_round_trips_exactly(project: Project) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "project.json"
        save_project(project, path)
        loaded = load_project(path)
    assert loaded == project
    for track_id, track in project.tracks.items():
        for frame, label in track.frames.items():
            again = loaded.tracks[track_id].frames[frame]
            if label.box is not None:
                assert all(math.copysign(1, a) == math.copysign(1, b) and a == b for a, b in zip(again.box, label.box))


def sample_project() -> Project:
    track = Track(1, "cyclist 自行车", "#e6194b")
    track.frames[0] = FrameLabel((0.1, 0.2, 10.333333333333334, 5e-324), Provenance.MANUAL)
    track.frames[3] = FrameLabel((1.0, 2.0, 3.0, 4.0), Provenance.TRACKED, 0.30000000000000004,
                                 Flags(occluded=True, cover=3))
    track.frames[4] = FrameLabel(None, Provenance.INTERPOLATED, None, Flags(absent=True))
    return Project(MediaRef("/data/vidéo 1.mp4", "video", 10, 640, 272, 25.0, "sha1:abc"), {1: track},
                   ["object", "cyclist 自行车"], 2, {"by": "me"})


def test_file_is_versioned_readable_json(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    save_project(sample_project(), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert (data["schema"], data["version"]) == ("siamcross-project", 1)
    assert "自行车" in path.read_text(encoding="utf-8")
    assert data["tracks"][0]["frames"][1] == {
        "frame": 3, "box": [1.0, 2.0, 3.0, 4.0], "provenance": "tracked", "score": 0.30000000000000004,
        "occluded": True, "cover": 3,
    }
    assert project_to_bytes(sample_project()) == path.read_bytes(), "saving is deterministic"


def test_save_keeps_the_previous_file_as_bak(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    first = sample_project()
    save_project(first, path)
    second = sample_project()
    second.meta["rev"] = "2"
    save_project(second, path)
    assert load_project(tmp_path / "p.json.bak") == first
    assert load_project(path) == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.json.bak"]


def test_failed_replace_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.json"
    save_project(sample_project(), path)
    old_bytes = path.read_bytes()
    changed = sample_project()
    changed.meta["rev"] = "new"
    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        if Path(dst) == path:
            raise OSError(errno.EROFS, "Read-only file system")
        real_replace(src, dst)

    monkeypatch.setattr(project_io.os, "replace", failing_replace)
    with pytest.raises(ProjectSaveError) as error:
        save_project(changed, path)
    assert str(error.value) == "Cannot save p.json: the folder is not writable; the previous file is unchanged."
    assert isinstance(error.value, UserError)
    assert path.read_bytes() == old_bytes
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_disk_full_during_write_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.json"
    save_project(sample_project(), path)
    old_bytes = path.read_bytes()

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(project_io.os, "fsync", full_disk)
    with pytest.raises(ProjectSaveError, match="the disk is full"):
        save_project(sample_project(), path)
    assert path.read_bytes() == old_bytes


def test_unwritable_folder_raises_user_error(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder" / "p.json"
    with pytest.raises(ProjectSaveError, match="Cannot save p.json"):
        save_project(sample_project(), missing)


def test_non_finite_numbers_are_refused_on_save(tmp_path: Path) -> None:
    project = sample_project()
    project.tracks[1].frames[5] = FrameLabel((1.0, 2.0, 3.0, 4.0), Provenance.TRACKED, math.nan)
    with pytest.raises(FormatError, match="not finite"):
        save_project(project, tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()


def corrupt(tmp_path: Path, edit) -> Path:
    data = json.loads(project_to_bytes(sample_project()))
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "phrase"),
    [
        (lambda d: d.update(schema="labelme"), "is not a SiamCross project file"),
        (lambda d: d.update(version=2), "newer SiamCross"),
        (lambda d: d.update(version="1"), "version must be an integer"),
        (lambda d: d["tracks"][0]["frames"][0].update(box=[1, 2, 3]), "tracks[0].frames[0].box must be four numbers"),
        (lambda d: d["tracks"][0]["frames"][0].update(box=[1, 2, 0, 3]), "positive width and height"),
        (lambda d: d["tracks"][0]["frames"][0].update(box=[1, "2", 3, 3]), "must be a finite number"),
        (lambda d: d["tracks"][0]["frames"][0].update(box=None), "null only when absent"),
        (lambda d: d["tracks"][0]["frames"][0].update(provenance="guessed"), "must be one of manual"),
        (lambda d: d["tracks"][0]["frames"][0].update(frame=10), "media has only 10 frames"),
        (lambda d: d["tracks"][0]["frames"][1].update(frame=0), "repeats frame 0"),
        (lambda d: d["tracks"][0]["frames"][1].update(cover=9), "cover must be an integer from 0 to 8"),
        (lambda d: d["tracks"][0]["frames"][1].update(occluded="yes"), "occluded must be true or false"),
        (lambda d: d["tracks"][0].update(color="red"), "color must be of the form #rrggbb"),
        (lambda d: d["tracks"][0].pop("label"), "tracks[0].label is missing"),
        (lambda d: d["tracks"].append(dict(d["tracks"][0])), "repeats track id 1"),
        (lambda d: d["media"].update(kind="audio"), "media.kind"),
        (lambda d: d.update(meta={"a": 1}), "meta.a must be a text"),
        (lambda d: d.update(next_track_id=0), "next_track_id must be at least 1"),
    ],
)
def test_malformed_files_raise_one_sentence_naming_the_field(tmp_path: Path, edit, phrase: str) -> None:
    with pytest.raises(FormatError) as error:
        load_project(corrupt(tmp_path, edit))
    message = str(error.value)
    assert phrase in message and "\n" not in message and message.endswith(".")
    assert message.startswith("bad.json")


def test_invalid_json_nan_literals_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "half.json").write_bytes(project_to_bytes(sample_project())[:50])
    saved = project_to_bytes(sample_project()).decode()
    (tmp_path / "nan.json").write_text(saved.replace("0.30000000000000004", "NaN"))
    cases = [("half.json", "not valid JSON"), ("nan.json", "not valid JSON"), ("none.json", "does not exist")]
    for name, phrase in cases:
        with pytest.raises(FormatError, match=phrase):
            load_project(tmp_path / name)

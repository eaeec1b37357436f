"""Exporting over an older export: no ghosts of deleted tracks, the user's own files survive."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from support.projects import rich_project

from core.annotations.model import MediaRef, Project
from core.datasets import load_sequences
from core.errors import FormatError
from core.formats import FORMATS, export_project, import_project
from core.formats.export_folder import MANIFEST, STAGING_PREFIX, Manifest

ALL_FORMATS = sorted(FORMATS)
LAYOUT = {"got10k": "got10k", "lasot": "lasot", "otb": "otb", "mot": "mot"}


def _tree(root: Path, skip: set[str] = frozenset()) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).as_posix() not in skip}


def _drop_track(project: Project) -> Project:
    project.tracks.pop(4)
    return project


def _rename_media(project: Project) -> Project:
    m = project.media
    project.media = MediaRef("/data/other.mp4", m.kind, m.frame_count, m.width, m.height, m.fps, m.fingerprint)
    return project


def _import_target(fmt: str, out: Path) -> Path:
    return out / ("project.json" if fmt == "project" else "annotations.json") if fmt in ("coco", "coco-vid",
                                                                                         "project") else out


@pytest.mark.parametrize("change", [_drop_track, _rename_media], ids=["track-deleted", "media-renamed"])
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_reexport_equals_a_fresh_export_plus_the_users_files(fmt: str, change, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_project(rich_project(), fmt, out)
    seq_dirs = [p.parent for p in out.rglob("*") if p.is_file() and p.parent != out and p.name != "list.txt"]
    (out / "README.txt").write_text("the user's notes")
    user_in_sequence = (seq_dirs[-1] / "my-notes.txt") if seq_dirs else None
    if user_in_sequence is not None:
        user_in_sequence.write_text("kept")
    project = change(rich_project())

    export_project(project, fmt, out)
    export_project(project, fmt, tmp_path / "fresh")

    users = {"README.txt"} | ({user_in_sequence.relative_to(out).as_posix()} if user_in_sequence else set())
    assert _tree(out, skip=users | {MANIFEST}) == _tree(tmp_path / "fresh", skip={MANIFEST})  # no old file left
    assert Manifest.read(out).exports.keys() == {fmt}
    assert Manifest.read(out).exports[fmt].keys() == Manifest.read(tmp_path / "fresh").exports[fmt].keys()
    assert (out / "README.txt").read_text() == "the user's notes"
    if user_in_sequence is not None:
        assert user_in_sequence.read_text() == "kept"
    assert not any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())
    back = import_project(_import_target(fmt, out), fmt)
    assert sorted(back.tracks) == sorted(project.tracks)
    if fmt in LAYOUT:  # the dataset readers (training, eval) see no ghost sequence either
        fresh = load_sequences(tmp_path / "fresh", LAYOUT[fmt])
        assert sorted(s.name for s in load_sequences(out, LAYOUT[fmt])) == sorted(s.name for s in fresh)


def test_got10k_toolkit_sees_no_ghost_after_a_track_is_deleted(tmp_path: Path) -> None:
    from got10k.datasets import GOT10k

    out = tmp_path / "got"
    export_project(rich_project(), "got10k", out)
    assert sorted(GOT10k(str(out), subset="train").seq_names) == ["clip-1", "clip-4"]
    export_project(_drop_track(rich_project()), "got10k", out)
    assert GOT10k(str(out), subset="train").seq_names == ["clip"]
    assert not (out / "train" / "clip-1").exists() and not (out / "train" / "clip-4").exists()


def test_pycocotools_sees_only_the_frames_of_the_tracks_left(seqs_dir: Path, tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    project = import_project(seqs_dir / "Man", "otb")
    first = project.tracks[1]
    second = project.new_track_id()
    from core.annotations.model import Track

    project.tracks[second] = Track(second, "object", frames={i: first.frames[i] for i in range(10, 20)})
    first.frames = {i: f for i, f in first.frames.items() if i < 10}
    out = tmp_path / "coco"
    export_project(project, "coco", out, images=True)
    assert len(list((out / "frames").glob("*.jpg"))) == 20
    project.tracks.pop(second)
    (path,) = export_project(project, "coco", out, images=True)
    coco = COCO(str(path))
    listed = sorted(im["file_name"] for im in coco.dataset["images"])
    on_disk = sorted(p.relative_to(out).as_posix() for p in (out / "frames").glob("*.jpg"))
    assert listed == on_disk and len(on_disk) == 10  # no stale frame image of the deleted track


def test_exports_of_other_formats_in_the_same_folder_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_project(rich_project(), "coco", out)
    coco_file = (out / "annotations.json").read_bytes()
    export_project(rich_project(), "lasot", out)
    export_project(_drop_track(rich_project()), "lasot", out)
    assert (out / "annotations.json").read_bytes() == coco_file
    assert len(import_project(out, "lasot").tracks) == 1
    assert len(import_project(out / "annotations.json", "coco").tracks) == 2


def test_a_file_changed_since_the_last_export_is_kept_with_a_warning(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "out"
    export_project(rich_project(), "otb", out)
    edited = out / "clip-4" / "groundtruth_rect.txt"
    edited.write_text("1,2,3,4\n")  # someone's hand edit of the track about to be deleted
    with caplog.at_level(logging.WARNING):
        export_project(_drop_track(rich_project()), "otb", out)
    assert edited.read_text() == "1,2,3,4\n"
    assert not (out / "clip-1").exists()
    assert "changed since" in caplog.text


def test_a_failed_export_leaves_the_previous_export_as_it_was(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from core.formats import lasot

    out = tmp_path / "out"
    export_project(rich_project(), "lasot", out)
    before = _tree(out)

    def broken(seq_dir: Path, frame_count: int) -> None:
        raise FormatError("validation failed on purpose.")

    monkeypatch.setattr(lasot, "validate_sequence", broken)
    with pytest.raises(FormatError):
        export_project(_drop_track(rich_project()), "lasot", out)
    assert _tree(out) == before
    assert not any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())


def test_a_staging_folder_of_a_killed_export_is_removed_by_the_next_export(tmp_path: Path) -> None:
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    killed = out / f"{STAGING_PREFIX}{child.pid}-abc" / "train" / "x"
    killed.mkdir(parents=True)
    (killed / "groundtruth.txt").write_text("half")
    export_project(rich_project(), "got10k", out)
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "siamcross_meta.json", "train"]


def test_a_folder_without_a_manifest_loses_nothing(tmp_path: Path) -> None:
    """An export of an older version (no manifest): nothing is known to be ours, nothing is removed."""
    out = tmp_path / "out"
    export_project(rich_project(), "otb", out)
    (out / MANIFEST).unlink()
    export_project(_drop_track(rich_project()), "otb", out)
    assert (out / "clip-1" / "groundtruth_rect.txt").is_file() and (out / "clip").is_dir()

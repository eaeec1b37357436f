"""Track names, attributes and locks, the class list, and reviewed frames in the annotation model:
saved and loaded (older files still load), undoable, journalled, carried by exports, and a locked
track is never changed by an edit or by propagation."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.annotations.io import load_project, project_to_dict, save_project
from core.annotations.journal import Journal, recover
from core.annotations.model import FrameLabel, MediaRef, Project, Provenance, Track
from core.annotations.store import AnnotationStore, TrackLocked
from core.errors import UserError
from core.propagation import PropagationStep, apply_step

MEDIA = MediaRef("clip.mp4", "video", 100, 640, 480, 25.0, "sha1:x")


def manual(x: float) -> FrameLabel:
    return FrameLabel((x, 1.0, 20.0, 30.0), Provenance.MANUAL)


def tracked(x: float) -> FrameLabel:
    return FrameLabel((x, 1.0, 20.0, 30.0), Provenance.TRACKED, 0.5)


def store_with_two_tracks() -> AnnotationStore:
    store = AnnotationStore(Project(media=MEDIA))
    car = store.add_track("car")
    store.set_frame(car.id, 0, manual(0))
    person = store.add_track("person")
    store.set_frame(person.id, 3, manual(3))
    return store


def test_names_attributes_locks_and_reviewed_frames_are_saved_and_loaded(tmp_path):
    store = store_with_two_tracks()
    store.update_track(1, name="red car", attributes={"colour": "red", "parked": "no"})
    store.update_track(2, locked=True)
    store.set_reviewed([0, 1, 2])
    path = tmp_path / "p.json"
    save_project(store.project, path)
    loaded = load_project(path)
    assert loaded.tracks[1].name == "red car" and loaded.tracks[1].attributes == {"colour": "red", "parked": "no"}
    assert loaded.tracks[2].locked and not loaded.tracks[1].locked
    assert loaded.reviewed == {0, 1, 2}
    saved = project_to_dict(store.project)
    assert {k: v for k, v in project_to_dict(loaded).items() if k != "media"} == \
        {k: v for k, v in saved.items() if k != "media"}


def test_an_older_project_file_without_them_still_loads(tmp_path):
    store = store_with_two_tracks()
    data = project_to_dict(store.project)
    assert all(set(t) == {"id", "label", "color", "hidden", "frames"} for t in data["tracks"])  # defaults left out
    assert "reviewed" not in data
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    loaded = load_project(path)
    assert loaded.tracks[1].name == "" and not loaded.tracks[1].locked and loaded.tracks[1].attributes == {}
    assert loaded.reviewed == set()


def test_a_locked_track_refuses_every_edit_and_propagation_writes_nothing():
    store = store_with_two_tracks()
    store.update_track(1, locked=True)
    for edit in (lambda: store.set_frame(1, 5, manual(5)), lambda: store.set_frames(1, {5: manual(5)}),
                 lambda: store.clear_frames(1, [0]), lambda: store.delete_track(1),
                 lambda: store.split_track(1, 1), lambda: store.merge_tracks(2, 1),
                 lambda: store.update_track(1, label="truck"), lambda: store.update_track(1, name="x"),
                 lambda: store.update_track(1, attributes={"a": "b"}), lambda: store.rename_class("car", "auto")):
        with pytest.raises(TrackLocked, match="locked"):
            edit()
    assert store.apply_propagated(1, {1: tracked(1), 2: tracked(2)}) == []
    assert sorted(store.project.tracks[1].frames) == [0] and store.project.tracks[1].label == "car"
    store.update_track(1, color="#00ff00", hidden=True)  # look and visibility may change
    project = store.project
    step = PropagationStep(frame=1, labels={1: tracked(1), 2: tracked(1)})
    assert apply_step(project, step) == 1 and 1 not in project.tracks[1].frames  # the CLI's path too
    store.update_track(1, locked=False)
    store.set_frame(1, 5, manual(5))
    assert 5 in store.project.tracks[1].frames


def test_lock_and_unlock_are_undoable_steps():
    store = store_with_two_tracks()
    store.update_track(1, locked=True)
    store.undo()
    assert not store.project.tracks[1].locked
    store.redo()
    assert store.project.tracks[1].locked


def test_class_list_edits_rename_every_track_in_one_step_and_keep_used_classes():
    store = store_with_two_tracks()
    store.set_classes(["object", "car", "person", "bicycle"])
    assert store.project.classes == ["object", "car", "person", "bicycle"]
    with pytest.raises(UserError, match="used by a track"):
        store.set_classes(["object", "person"])
    with pytest.raises(UserError, match="already"):
        store.rename_class("car", "person")
    store.rename_class("car", "vehicle")
    assert store.project.classes == ["object", "vehicle", "person", "bicycle"]
    assert store.project.tracks[1].label == "vehicle"
    store.undo()
    assert store.project.classes == ["object", "car", "person", "bicycle"] and store.project.tracks[1].label == "car"
    store.set_classes(["car", "person"])  # unused ones go
    assert store.project.classes == ["car", "person"]


def test_reviewed_frames_are_one_undo_step_and_announce_their_frames():
    store = store_with_two_tracks()
    changes = []
    store.subscribe(changes.append)
    store.set_reviewed(range(10, 15))
    assert store.project.reviewed == set(range(10, 15))
    assert changes[-1].frames == frozenset(range(10, 15)) and not changes[-1].structure
    store.set_reviewed([12], reviewed=False)
    assert store.project.reviewed == {10, 11, 13, 14}
    store.undo()
    store.undo()
    assert store.project.reviewed == set()
    with pytest.raises(UserError):
        store.set_reviewed([100])  # outside the media


def test_the_journal_replays_names_locks_attributes_and_reviews(tmp_path):
    path = tmp_path / "p.json"
    save_project(Project(media=MEDIA), path)
    store = AnnotationStore(load_project(path), journal=Journal(path))
    track = store.add_track("car")
    store.set_frame(track.id, 0, manual(0))
    store.update_track(track.id, name="Herbie", attributes={"number": "53"})
    store.update_track(track.id, locked=True)
    store.set_reviewed([0, 1])
    store.rename_class("object", "thing")
    recovered = recover(path)
    assert recovered is not None and project_to_dict(recovered) == project_to_dict(store.project)
    assert recovered.tracks[track.id].name == "Herbie" and recovered.tracks[track.id].locked
    assert recovered.reviewed == {0, 1}


@pytest.mark.parametrize("fmt", ["otb", "coco-vid", "mot", "project"])
def test_exports_carry_track_names_attributes_and_locks(tmp_path, fmt):
    from core.formats import export_project, import_project

    project = Project(media=MEDIA)
    project.tracks[1] = Track(1, "car", "#00ff00", frames={i: manual(i) for i in range(5)}, name="Herbie",
                              locked=True, attributes={"number": "53"})
    project.classes = ["car"]
    export_project(project, fmt, tmp_path / fmt)
    back = import_project(tmp_path / fmt, fmt)
    (track,) = back.tracks.values()
    assert (track.name, track.locked, track.attributes) == ("Herbie", True, {"number": "53"})
    if fmt == "coco-vid":
        data = json.loads((tmp_path / fmt / "annotations.json").read_text())
        assert data["annotations"][0]["attributes"]["number"] == "53"  # CVAT reads attributes here


def test_track_headers_of_older_exports_still_read():
    from core.formats.project_json import track_from_header

    track = track_from_header({"id": 4, "label": "dog", "color": "#112233", "hidden": False}, "old")
    assert (track.name, track.locked, track.attributes) == ("", False, {})
    with pytest.raises(UserError):
        track_from_header({"id": 4, "attributes": ["not", "an", "object"]}, "bad")


def test_projects_compare_equal_after_a_save_with_new_fields(tmp_path: Path):
    project = Project(media=MEDIA, reviewed={3})
    project.tracks[1] = Track(1, name="a", attributes={"k": "v"})
    save_project(project, tmp_path / "x.json")
    loaded = project_to_dict(load_project(tmp_path / "x.json"))
    assert loaded["tracks"] == project_to_dict(project)["tracks"] and loaded["reviewed"] == [3]


def test_a_reviewed_frame_whose_box_propagation_changes_is_not_reviewed_any_more_until_undo():
    store = AnnotationStore(Project(tracks={1: Track(1, frames={0: FrameLabel((1, 1, 5, 5), Provenance.MANUAL)})}))
    tracked = {f: FrameLabel((1.0 + f, 1.0, 5.0, 5.0), Provenance.TRACKED, score=0.9) for f in (1, 2, 3)}
    store.apply_propagated(1, tracked)
    store.set_reviewed([1, 2, 3])
    store.apply_propagated(1, {1: FrameLabel((2.0, 1.0, 5.0, 5.0), Provenance.TRACKED, score=0.5),  # same box
                               2: FrameLabel((9.0, 1.0, 5.0, 5.0), Provenance.TRACKED, score=0.9)})
    assert store.project.reviewed == {1, 3}  # the score alone changed on 1; frame 2 shows a new box
    store.undo()
    assert store.project.reviewed == {1, 2, 3} and store.track(1).frames[2].box == (3.0, 1.0, 5.0, 5.0)

"""AnnotationStore: every edit validated, undoable and announced; join folds propagation into a correction."""
from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.annotations.history import Change
from core.annotations.io import project_to_dict
from core.annotations.model import Flags, FrameLabel, MediaRef, Project, Provenance
from core.annotations.store import AnnotationStore, TrackNotFound
from core.errors import BoxError, UserError

MEDIA = MediaRef("clip.mp4", "video", 100, 640, 480, 25.0, "sha1:x")


def manual(x: float, y: float = 10.0) -> FrameLabel:
    return FrameLabel((x, y, 20.0, 30.0), Provenance.MANUAL)


def tracked(x: float, score: float = 0.8) -> FrameLabel:
    return FrameLabel((x, 10.0, 20.0, 30.0), Provenance.TRACKED, score)


def snapshot(store: AnnotationStore) -> dict:
    return copy.deepcopy(project_to_dict(store.project))


@pytest.fixture
def store() -> AnnotationStore:
    return AnnotationStore(Project(media=MEDIA))


def test_add_track_assigns_ids_colours_and_classes(store: AnnotationStore) -> None:
    first = store.add_track()
    second = store.add_track("car", color="#00FF00")
    assert (first.id, second.id) == (1, 2)
    assert first.color != second.color and first.color.startswith("#")
    assert second.color == "#00ff00"
    assert store.project.classes == ["object", "car"]
    assert store.project.tracks[2] is second
    assert store.undo() and store.project.classes == ["object"] and 2 not in store.project.tracks
    assert store.redo() and store.project.tracks[2].label == "car"


def test_every_edit_kind_undoes_and_redoes_exactly(store: AnnotationStore) -> None:
    t1 = store.add_track("car")
    store.set_frame(t1.id, 0, manual(0))
    store.apply_propagated(t1.id, {i: tracked(i) for i in range(1, 30)})
    t2 = store.add_track("person")
    store.set_frame(t2.id, 5, manual(50))
    edits = [
        lambda: store.set_frame(t1.id, 10, manual(99)),
        lambda: store.clear_frames(t1.id, [3, 4, 5]),
        lambda: store.apply_propagated(t2.id, {i: tracked(i) for i in range(6, 12)}),
        lambda: store.update_track(t2.id, label="cyclist", color="#123456", hidden=True),
        lambda: store.split_track(t1.id, 15),
        lambda: store.relabel_from(t1.id, 8, "truck"),
        lambda: store.merge_tracks(t1.id, t2.id),
        lambda: store.delete_track(t1.id),
        lambda: store.set_frames(t1.id, {40: manual(1), 41: tracked(2)}),
    ]
    for edit in edits:
        if t1.id not in store.project.tracks:
            break
        before = snapshot(store)
        edit()
        after = snapshot(store)
        assert after != before
        assert store.undo()
        assert snapshot(store) == before
        assert store.redo()
        assert snapshot(store) == after


def test_correction_and_its_repropagation_are_one_undo_step(store: AnnotationStore) -> None:
    track = store.add_track()
    store.set_frame(track.id, 0, manual(0))
    store.set_frame(track.id, 50, manual(500))
    store.apply_propagated(track.id, {i: tracked(i) for i in range(1, 50)})
    before = snapshot(store)
    edit_id = store.set_frame(track.id, 20, manual(222))
    # the worker re-propagates frame by frame up to the next keyframe (50): each joins the correction
    for frame in range(21, 50):
        assert store.apply_propagated(track.id, {frame: tracked(frame + 1000)}, join=edit_id) == [frame]
    assert store.project.tracks[track.id].frames[35].box[0] == 1035
    assert store.undo_description.startswith("Set box")
    store.undo()
    assert snapshot(store) == before
    store.redo()
    assert store.project.tracks[track.id].frames[49].box[0] == 1049


def test_propagation_never_overwrites_manual_keyframes(store: AnnotationStore) -> None:
    track = store.add_track()
    store.set_frame(track.id, 5, manual(5))
    written = store.apply_propagated(track.id, {i: tracked(i + 100) for i in range(0, 10)})
    assert written == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    assert store.project.tracks[track.id].frames[5] == manual(5)
    assert store.apply_propagated(track.id, {i: tracked(i + 100) for i in range(0, 10)}) == []


def test_join_to_an_undone_edit_writes_nothing(store: AnnotationStore) -> None:
    track = store.add_track()
    edit_id = store.set_frame(track.id, 0, manual(0))
    store.undo()
    assert store.apply_propagated(track.id, {1: tracked(1)}, join=edit_id) == []
    assert store.project.tracks[track.id].frames == {}


def test_join_after_a_later_edit_of_the_same_track_becomes_its_own_step(store: AnnotationStore) -> None:
    track = store.add_track()
    edit_id = store.set_frame(track.id, 0, manual(0))
    store.set_frame(track.id, 90, manual(90))
    store.apply_propagated(track.id, {1: tracked(1)}, join=edit_id)
    store.undo()  # undoes only the late propagation
    assert 1 not in store.project.tracks[track.id].frames and 90 in store.project.tracks[track.id].frames


def test_join_past_an_edit_of_another_track_still_folds(store: AnnotationStore) -> None:
    a, b = store.add_track(), store.add_track()
    edit_id = store.set_frame(a.id, 0, manual(0))
    store.set_frame(b.id, 0, manual(7))
    store.apply_propagated(a.id, {1: tracked(1)}, join=edit_id)
    store.undo()  # b's edit
    assert b.frames == {} and 1 in a.frames
    store.undo()  # a's correction and its propagation together
    assert a.frames == {}


def test_last_edit_id_lets_a_plain_propagation_be_one_step(store: AnnotationStore) -> None:
    track = store.add_track()
    store.set_frame(track.id, 0, manual(0))
    store.apply_propagated(track.id, {1: tracked(1)})
    run = store.last_edit_id
    for frame in range(2, 20):
        store.apply_propagated(track.id, {frame: tracked(frame)}, join=run)
    store.undo()
    assert sorted(track.frames) == [0]


def test_split_moves_later_frames_and_merge_prefers_manual(store: AnnotationStore) -> None:
    track = store.add_track("car")
    store.set_frames(track.id, {i: (manual(i) if i % 10 == 0 else tracked(i)) for i in range(0, 30)})
    new_id = store.split_track(track.id, 15)
    new = store.project.tracks[new_id]
    assert max(track.frames) == 14 and min(new.frames) == 15 and len(new.frames) == 15
    assert new.label == "car" and new.color != track.color

    other = store.add_track("car")
    store.set_frames(other.id, {0: tracked(-1), 5: manual(-5), 10: tracked(-10), 40: manual(-40)})
    store.merge_tracks(track.id, other.id)
    assert other.id not in store.project.tracks
    assert track.frames[0] == manual(0)  # both labelled, keep's manual stays
    assert track.frames[5] == manual(-5)  # other's manual beats keep's tracked
    assert track.frames[10] == manual(10)
    assert track.frames[40] == manual(-40)  # only other had it
    with pytest.raises(UserError, match="itself"):
        store.merge_tracks(track.id, track.id)


def test_relabel_from_splits_and_relabels_the_rest(store: AnnotationStore) -> None:
    track = store.add_track("car")
    store.set_frames(track.id, {i: tracked(i) for i in range(10)})
    new_id = store.relabel_from(track.id, 6, "truck")
    assert new_id != track.id
    assert store.project.tracks[new_id].label == "truck" and sorted(store.project.tracks[new_id].frames) == [6, 7, 8, 9]
    assert track.label == "car" and "truck" in store.project.classes
    store.undo()  # one step
    assert list(store.project.tracks) == [track.id] and len(track.frames) == 10
    # no frames before: relabel in place
    assert store.relabel_from(track.id, 0, "bus") == track.id and track.label == "bus"


@pytest.mark.parametrize(
    "box",
    [(1.0, 2.0, 0.0, 5.0), (1.0, 2.0, 5.0, -1.0), (math.nan, 0.0, 5.0, 5.0), (0.0, 0.0, math.inf, 5.0),
     (1.0, 2.0, 3.0)],
)
def test_bad_boxes_raise_box_error(store: AnnotationStore, box: tuple) -> None:
    track = store.add_track()
    with pytest.raises(BoxError):
        store.set_frame(track.id, 0, FrameLabel(box, Provenance.MANUAL))
    with pytest.raises(BoxError):
        store.apply_propagated(track.id, {1: tracked(1), 2: FrameLabel(box, Provenance.TRACKED)})
    assert track.frames == {}, "a rejected batch writes nothing"
    assert store.undo_description.startswith("Add track")


def test_frames_outside_the_media_and_missing_boxes_raise(store: AnnotationStore) -> None:
    track = store.add_track()
    for frame in (-1, 100, 5000):
        with pytest.raises(BoxError, match="outside the media"):
            store.set_frame(track.id, frame, manual(0))
    with pytest.raises(BoxError, match="absent"):
        store.set_frame(track.id, 3, FrameLabel(None, Provenance.MANUAL))
    store.set_frame(track.id, 3, FrameLabel(None, Provenance.MANUAL, flags=Flags(absent=True)))
    with pytest.raises(BoxError, match="score"):
        store.set_frame(track.id, 4, FrameLabel((0, 0, 1, 1), Provenance.TRACKED, score=math.nan))
    with pytest.raises(TrackNotFound, match="Track 42 does not exist"):
        store.set_frame(42, 0, manual(0))
    with pytest.raises(UserError, match="#rrggbb"):
        store.update_track(track.id, color="red")


def test_transaction_is_one_step_and_rolls_back_on_error(store: AnnotationStore) -> None:
    track = store.add_track()
    with store.transaction("Paste boxes") as edit_id:
        store.set_frame(track.id, 1, manual(1))
        store.set_frame(track.id, 2, manual(2))
        assert store.apply_propagated(track.id, {3: tracked(3)}, join=edit_id) == [3]
    assert store.undo_description == "Paste boxes"
    store.undo()
    assert track.frames == {}
    before = snapshot(store)
    with pytest.raises(RuntimeError):
        with store.transaction("Half done"):
            store.set_frame(track.id, 1, manual(1))
            store.add_track("dog")
            raise RuntimeError("boom")
    assert snapshot(store) == before
    assert store.undo_description.startswith("Add track")


def test_subscribers_see_each_change_and_can_unsubscribe(store: AnnotationStore) -> None:
    seen: list[Change] = []
    unsubscribe = store.subscribe(seen.append)
    track = store.add_track()
    store.set_frame(track.id, 7, manual(7))
    store.apply_propagated(track.id, {8: tracked(8), 9: tracked(9)})
    store.undo()
    assert [c.kind for c in seen] == ["add_track", "set_frame", "propagate", "undo"]
    assert seen[0].structure and seen[0].track_ids == {track.id}
    assert seen[1].frames == {7} and not seen[1].structure
    assert seen[2].frames == {8, 9} and seen[3].frames == {8, 9}
    unsubscribe()
    store.redo()
    assert len(seen) == 4


def test_new_edit_clears_redo_and_history_is_bounded() -> None:
    store = AnnotationStore(Project(media=MEDIA), max_undo=3)
    track = store.add_track()
    for frame in range(6):
        store.set_frame(track.id, frame, manual(frame))
    store.undo()
    assert store.can_redo
    store.set_frame(track.id, 50, manual(50))
    assert not store.can_redo
    undone = 0
    while store.undo():
        undone += 1
    assert undone == 3 and not store.can_undo


# -- property: any sequence of edits undoes back to the start and redoes to the end ----------------
edit_strategy = st.lists(
    st.tuples(
        st.sampled_from(["add", "set", "prop", "clear", "split", "merge", "update", "delete", "relabel"]),
        st.integers(0, 5),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(edits=edit_strategy)
def test_any_edit_sequence_undoes_and_redoes_exactly(edits: list[tuple[str, int, int, int]]) -> None:
    store = AnnotationStore(Project(media=MEDIA))
    states = [snapshot(store)]
    for kind, pick, a, b in edits:
        ids = sorted(store.project.tracks)
        track_id = ids[pick % len(ids)] if ids else None
        if kind == "add" or track_id is None:
            store.add_track(["car", "person"][pick % 2])
        elif kind == "set":
            store.set_frame(track_id, a, manual(float(b)))
        elif kind == "prop":
            lo, hi = sorted((a, b))
            store.apply_propagated(track_id, {i: tracked(float(i)) for i in range(lo, hi + 1)})
        elif kind == "clear":
            store.clear_frames(track_id, range(min(a, b), max(a, b)))
        elif kind == "split":
            store.split_track(track_id, a)
        elif kind == "merge" and len(ids) > 1:
            store.merge_tracks(track_id, ids[(pick + 1) % len(ids)])
        elif kind == "update":
            store.update_track(track_id, hidden=bool(a % 2), color=f"#{a:02x}{b:02x}00")
        elif kind == "delete":
            store.delete_track(track_id)
        elif kind == "relabel":
            store.relabel_from(track_id, a, f"class{b % 3}")
        else:
            continue
        if snapshot(store) != states[-1]:
            states.append(snapshot(store))
    steps = 0
    while store.undo():
        steps += 1
        assert snapshot(store) == states[-1 - steps]
    assert snapshot(store) == states[0]
    while store.redo():
        pass
    assert snapshot(store) == states[-1]

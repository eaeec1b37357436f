"""The confidence timeline patches only the frames that changed and still draws what a full
rebuild would (issue 7: a full redraw per update was slow on long videos)."""
from __future__ import annotations

import random

import numpy as np
import pytest

from core.annotations.model import Flags, FrameLabel, MediaRef, Project, Provenance, Track
from siamcross_gui.confidence import low_confidence_frames, score_curve
from siamcross_gui.timeline import ConfidenceTimeline
from siamcross_gui.timeline_data import CHUNK, TimelineData, chunks_touching

N = 3 * CHUNK + 17
THRESHOLD = 0.3


def _project(tracks: int = 2, seed: int = 0) -> Project:
    rng = random.Random(seed)
    project = Project(media=MediaRef(path="x.mp4", kind="video", frame_count=N, width=64, height=48))
    for tid in range(1, tracks + 1):
        track = Track(id=tid, color="#40a0ff")
        for f in range(N):
            if rng.random() < 0.8:
                track.frames[f] = _label(rng)
        project.tracks[tid] = track
    return project


def _label(rng: random.Random) -> FrameLabel:
    r = rng.random()
    if r < 0.05:
        return FrameLabel(box=(1.0, 1.0, 5.0, 5.0), provenance=Provenance.MANUAL)
    if r < 0.1:
        return FrameLabel(box=None, provenance=Provenance.TRACKED, flags=Flags(absent=True))
    return FrameLabel(box=(1.0, 1.0, 5.0, 5.0), provenance=Provenance.TRACKED, score=rng.random())


def _edit(project: Project, rng: random.Random, frames: list[int], track_id: int) -> None:
    track = project.tracks[track_id]
    for f in frames:
        if rng.random() < 0.2:
            track.frames.pop(f, None)
        else:
            track.frames[f] = _label(rng)


def test_chunks_touching_includes_the_left_neighbour_of_a_chunk_start():
    assert chunks_touching([0], N) == [0]
    assert chunks_touching([CHUNK - 1], N) == [0]
    assert chunks_touching([CHUNK], N) == [0, 1]  # frame CHUNK ends piece 0 and starts piece 1
    assert chunks_touching([N - 1], N) == [3]


def test_patched_arrays_equal_a_full_rebuild_after_random_edits():
    rng = random.Random(1)
    project = _project()
    data = TimelineData(frame_count=N, threshold=THRESHOLD)
    for track in project.tracks.values():
        data.rebuild(track)
    for _ in range(40):
        tid = rng.choice([1, 2])
        start = rng.randrange(N)
        frames = list(range(start, min(N, start + rng.randrange(1, 30))))
        _edit(project, rng, frames, tid)
        data.patch(project.tracks[tid], frames)
    for tid, track in project.tracks.items():
        np.testing.assert_array_equal(data.tracks[tid].score, score_curve(track, N))
        assert np.flatnonzero(data.tracks[tid].key).tolist() == track.keyframes()
    assert np.flatnonzero(data.low_any()).tolist() == low_confidence_frames(project.tracks.values(), THRESHOLD)


def _drawn_curve(timeline: ConfidenceTimeline, tid: int) -> np.ndarray:
    curve = np.full(N, np.nan)
    for piece in timeline._pieces[tid]:  # noqa: SLF001 - what is on screen
        curve[piece.xData.astype(int)] = piece.yData
    return curve


@pytest.fixture
def timeline(qtbot) -> ConfidenceTimeline:
    widget = ConfidenceTimeline()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_an_update_redraws_only_the_pieces_it_touched_and_matches_a_full_refresh(timeline):
    rng = random.Random(2)
    project = _project()
    timeline.refresh(project, THRESHOLD)
    before = {tid: [piece.yData for piece in pieces] for tid, pieces in timeline._pieces.items()}  # noqa: SLF001
    frames = [CHUNK + 3, CHUNK + 4, CHUNK + 5]
    _edit(project, rng, frames, 2)
    project.tracks[2].frames[CHUNK + 4] = FrameLabel(box=(1.0, 1.0, 5.0, 5.0), provenance=Provenance.TRACKED,
                                                     score=0.01)
    timeline.update_frames(project, THRESHOLD, {2}, set(frames))

    redrawn = {(tid, i) for tid, pieces in timeline._pieces.items()  # noqa: SLF001
               for i, piece in enumerate(pieces) if piece.yData is not before[tid][i]}
    assert redrawn == {(2, 1)}
    for tid, track in project.tracks.items():
        np.testing.assert_array_equal(_drawn_curve(timeline, tid), score_curve(track, N))
    assert timeline.low_frames == low_confidence_frames(project.tracks.values(), THRESHOLD)
    assert CHUNK + 4 in timeline.low_frames
    shaded = np.flatnonzero(np.concatenate([p.image[0, :, 3] for p in timeline._low_pieces])).tolist()  # noqa: SLF001
    assert shaded == timeline.low_frames


def test_a_new_threshold_or_a_hidden_track_redraws_everything(timeline):
    project = _project()
    timeline.refresh(project, THRESHOLD)
    timeline.update_frames(project, 0.6, set(), set())
    assert timeline.low_frames == low_confidence_frames(project.tracks.values(), 0.6)
    assert timeline.threshold_line.value() == 0.6
    project.tracks[1].hidden = True
    timeline.update_frames(project, 0.6, set(), set())
    assert set(timeline._pieces) == {2}  # noqa: SLF001
    assert timeline.low_frames == low_confidence_frames([project.tracks[2]], 0.6)


def test_the_window_keeps_the_timeline_equal_to_the_project_through_runs_edits_and_undo(qtbot, demo_video):
    from siamcross_gui.settings import AppSettings
    from siamcross_gui.testing import MapsTracker, window_maker

    def drawn_matches(window) -> bool:
        window.timeline.refresh_now()  # what its refresh timer does
        project, n = window.controller.project, window.controller.frame_count
        return all(np.array_equal(window.timeline._data.tracks[tid].score, score_curve(t, n), equal_nan=True)  # noqa: SLF001
                   for tid, t in project.tracks.items()) and \
            window.timeline.low_frames == low_confidence_frames(project.tracks.values(), 0.3)

    with window_maker(qtbot, lambda: AppSettings(device="cpu", score_threshold=0.3), focus=False) as make:
        window = make(tracker=MapsTracker(), path=demo_video)
        c = window.controller
        c.draw_box((400.0, 200.0, 300.0, 250.0))
        with qtbot.waitSignal(c.propagationFinished, timeout=30_000):
            assert c.propagate("forward", stop_frame=60)
        assert window.timeline.low_frames and drawn_matches(window)
        low = window.timeline.low_frames[0]
        c.seek(low)
        c.set_box(1, (410.0, 210.0, 300.0, 250.0))  # a correction: a keyframe, re-propagated after it
        qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
        qtbot.wait(200)
        assert low not in window.timeline.low_frames and drawn_matches(window)
        c.undo()
        assert drawn_matches(window) and low in window.timeline.low_frames

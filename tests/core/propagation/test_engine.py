"""The propagation engine with scripted trackers: what is tracked, when, and what is written."""
from __future__ import annotations

import pytest
from support.propagation import IndexedSource, ScriptedTracker, manual, project_with, run

from core.annotations.model import Flags, FrameLabel, Provenance
from core.errors import UserError
from core.propagation import (
    CancelToken,
    PropagationRequest,
    apply_step,
    fuse_segment,
    linear_labels,
    propagate,
    repropagation_request,
)

BOX_A = (10.0, 10.0, 8.0, 6.0)
BOX_B = (2.0, 3.0, 5.0, 5.0)


def moving(anchor, box, frame):
    """The box moves 1 px right per frame from its anchor, score 0.9."""
    x, y, w, h = box
    return (x + (frame - anchor), y, w, h), 0.9


def test_forward_tracks_to_the_end_with_tracked_labels():
    project = project_with(a={3: BOX_A})
    steps, tracker, _ = run(project, PropagationRequest((1,), "forward", 3), ScriptedTracker(moving), count=10)
    assert [s.frame for s in steps] == [4, 5, 6, 7, 8, 9]
    assert tracker.inits == [(3, BOX_A)]
    label = steps[0].labels[1]
    assert label.provenance is Provenance.TRACKED and label.score == 0.9 and label.box == (11.0, 10.0, 8.0, 6.0)
    assert steps[-1].done == steps[-1].total == 6


def test_forward_stops_at_the_next_keyframe_and_at_stop_frame():
    project = project_with(a={0: BOX_A, 5: BOX_A})
    steps, _, _ = run(project, PropagationRequest((1,), "forward", 0))
    assert [s.frame for s in steps] == [1, 2, 3, 4]
    steps, _, _ = run(project_with(a={0: BOX_A}), PropagationRequest((1,), "forward", 0, stop_frame=3))
    assert [s.frame for s in steps] == [1, 2, 3]


def test_backward_tracks_down_to_the_previous_keyframe():
    project = project_with(a={2: BOX_A, 8: BOX_B})
    steps, tracker, _ = run(project, PropagationRequest((1,), "backward", 8), ScriptedTracker(moving))
    assert [s.frame for s in steps] == [7, 6, 5, 4, 3]
    assert steps[0].labels[1].box == (1.0, 3.0, 5.0, 5.0)  # moving() from anchor 8 at frame 7: x - 1


def test_several_tracks_share_one_track_many_call_per_frame_and_stop_independently():
    project = project_with(a={0: BOX_A, 4: BOX_A}, b={0: BOX_B})
    steps, tracker, _ = run(project, PropagationRequest((1, 2), "forward", 0), count=8)
    assert [frame for frame, _ in tracker.calls] == [1, 2, 3, 4, 5, 6, 7]  # one call per frame
    assert [n for _, n in tracker.calls] == [2, 2, 2, 1, 1, 1, 1]
    assert all(set(s.labels) == {1, 2} for s in steps[:3]) and all(set(s.labels) == {2} for s in steps[3:])


def test_fill_runs_one_call_per_frame_per_sweep_for_all_tracks():
    project = project_with(a={0: BOX_A, 9: BOX_A}, b={0: BOX_B, 5: BOX_B, 9: BOX_B})
    _, tracker, _ = run(project, PropagationRequest((1, 2), "fill", 0), count=10)
    frames = [frame for frame, _ in tracker.calls]
    forward, backward = frames[: frames.index(8) + 1], frames[frames.index(8) + 1:]
    assert forward == list(range(1, 9)) and backward == list(range(8, 0, -1))


def test_manual_keyframes_are_never_overwritten():
    project = project_with(a={0: BOX_A, 4: BOX_B, 9: BOX_A})
    before = {f: project.tracks[1].frames[f] for f in (0, 4, 9)}
    for direction, start in (("forward", 0), ("backward", 9), ("fill", 0)):
        steps, _, _ = run(project, PropagationRequest((1,), direction, start), ScriptedTracker(moving), count=12)
        assert all(s.frame not in (0, 4, 9) for s in steps if 1 in s.labels)
        for step in steps:
            apply_step(project, step)
        assert {f: project.tracks[1].frames[f] for f in (0, 4, 9)} == before
    assert apply_step(project, type(steps[0])(frame=4, labels={1: steps[0].labels.get(1) or before[0]})) == 0


def test_fill_meets_keyframes_and_final_labels_are_the_fused_passes():
    left, right = (0.0, 0.0, 10.0, 10.0), (30.0, 0.0, 10.0, 10.0)
    project = project_with(a={0: left, 10: right})
    tracker = ScriptedTracker(lambda anchor, box, frame: ((box[0] + 3.0 * (frame - anchor),) + box[1:], 0.8))
    steps, _, _ = run(project, PropagationRequest((1,), "fill", 0), tracker, count=11)
    for step in steps:
        apply_step(project, step)
    frames = project.tracks[1].frames
    assert [round(frames[f].box[0], 6) for f in range(11)] == [3.0 * f for f in range(11)]  # passes agree exactly
    assert all(frames[f].provenance is Provenance.TRACKED for f in range(1, 10))
    fused_steps = [s for s in steps if not s.results]
    assert sorted(s.frame for s in fused_steps) == list(range(1, 10))
    assert fused_steps and steps.index(fused_steps[0]) > max(i for i, s in enumerate(steps) if s.results)


def test_fill_fuses_with_the_agreement_rule_where_a_pass_drifts():
    truth = (50.0, 50.0, 10.0, 10.0)

    def drifting_forward(anchor, box, frame):
        if frame > anchor and frame >= 6:  # the forward pass gets lost at frame 6
            return (150.0, 5.0, 10.0, 10.0), 0.9
        return truth, 0.9

    project = project_with(a={0: truth, 12: truth})
    steps, _, _ = run(project, PropagationRequest((1,), "fill", 0), ScriptedTracker(drifting_forward), count=13)
    for step in steps:
        apply_step(project, step)
    assert all(project.tracks[1].frames[f].box == truth for f in range(1, 12))


def test_fill_writes_only_the_requested_range_and_tracks_tail_and_head():
    project = project_with(a={3: BOX_A, 8: BOX_A})
    steps, tracker, _ = run(project, PropagationRequest((1,), "fill", 0), count=12)
    written = sorted({s.frame for s in steps if 1 in s.labels})
    assert written == [0, 1, 2, 4, 5, 6, 7, 9, 10, 11]
    steps, _, _ = run(project, PropagationRequest((1,), "fill", 5, stop_frame=6), count=12)
    assert sorted({s.frame for s in steps if 1 in s.labels}) == [5, 6]


def test_cancel_stops_within_one_frame_and_keeps_what_was_yielded():
    project = project_with(a={0: BOX_A})
    cancel = CancelToken()
    tracker = ScriptedTracker()
    seen = []
    for step in propagate(project, IndexedSource(100), tracker, PropagationRequest((1,), "forward", 0), cancel):
        seen.append(step.frame)
        if step.frame == 5:
            cancel.cancel()
    assert seen == [1, 2, 3, 4, 5]
    assert len(tracker.calls) == 5 and cancel.cancelled


def test_a_track_stops_after_patience_frames_below_the_threshold():
    def fading(anchor, box, frame):
        return box, 0.9 if frame < 6 else 0.1

    project = project_with(a={0: BOX_A}, b={0: BOX_B})
    only_a_fades = ScriptedTracker(lambda a, box, f: fading(a, box, f) if box == BOX_A else (box, 0.9))
    steps, tracker, _ = run(project, PropagationRequest((1, 2), "forward", 0, score_threshold=0.3, patience=3),
                            only_a_fades, count=20)
    frames_a = [s.frame for s in steps if 1 in s.labels]
    assert frames_a == [1, 2, 3, 4, 5, 6, 7, 8]  # 6, 7, 8 streamed with their low score, then stopped
    assert [s.labels[1].score for s in steps if 1 in s.labels][-3:] == [0.1, 0.1, 0.1]
    assert [s.frame for s in steps if 2 in s.labels] == list(range(1, 20))
    assert [n for _, n in tracker.calls][7:9] == [2, 1]


def test_sweep_ends_early_when_every_track_has_stopped():
    project = project_with(a={0: BOX_A})
    steps, tracker, source = run(project, PropagationRequest((1,), "forward", 0, patience=2),
                                 ScriptedTracker(lambda a, box, f: (box, 0.0)), count=50)
    assert [s.frame for s in steps] == [1, 2] and len(tracker.calls) == 2 and max(source.reads) == 2


def test_linear_method_streams_interpolated_labels_without_a_tracker():
    project = project_with(a={0: (0, 0, 10, 10), 4: (8, 0, 10, 10)})
    steps = list(propagate(project, IndexedSource(6), None, PropagationRequest((1,), "fill", 0, method="linear")))
    expected = linear_labels(project.tracks[1].frames, range(6))
    assert {s.frame: s.labels[1] for s in steps} == expected
    assert steps[-1].done == steps[-1].total == 4


def test_guided_method_pulls_unsure_tracker_boxes_to_the_line():
    project = project_with(a={0: (0, 0, 10, 10), 4: (40, 0, 10, 10)})
    tracker = ScriptedTracker(lambda a, box, f: ((100.0, 0.0, 10.0, 10.0), 0.0 if f == 2 else 0.9))
    steps, _, _ = run(project, PropagationRequest((1,), "fill", 0, method="guided", patience=5), tracker, count=5)
    for step in steps:
        apply_step(project, step)
    assert project.tracks[1].frames[2].box == (20.0, 0.0, 10.0, 10.0)


def test_absent_keyframes_are_respected_by_fill():
    project = project_with(a={0: BOX_A})
    project.tracks[1].frames[5] = FrameLabel(None, Provenance.MANUAL, flags=Flags(absent=True))
    project.tracks[1].frames[9] = FrameLabel(None, Provenance.MANUAL, flags=Flags(absent=True))
    steps, tracker, _ = run(project, PropagationRequest((1,), "fill", 0), count=12)
    for step in steps:
        apply_step(project, step)
    frames = project.tracks[1].frames
    assert all(frames[f].box == BOX_A for f in range(1, 5))  # forward only towards the absent keyframe
    assert all(frames[f].is_absent for f in (6, 7, 8, 10, 11))
    assert tracker.inits == [(0, BOX_A)]


@pytest.mark.parametrize("request_args, message", [
    (dict(track_ids=(7,), direction="forward", start_frame=0), "Track 7 does not exist"),
    (dict(track_ids=(1,), direction="forward", start_frame=2), "no box on frame 3"),
    (dict(track_ids=(1,), direction="forward", start_frame=40), "past the end"),
    (dict(track_ids=(1,), direction="forward", start_frame=0, stop_frame=-0), None),
    (dict(track_ids=(1,), direction="backward", start_frame=0, stop_frame=3), "must stop before"),
])
def test_user_mistakes_are_one_sentence_errors(request_args, message):
    project = project_with(a={0: BOX_A})
    request = PropagationRequest(**request_args)
    if message is None:
        assert run(project, request)[0] == []
        return
    with pytest.raises(UserError, match=message):
        propagate(project, IndexedSource(20), ScriptedTracker(), request)


def test_bad_requests_are_rejected_up_front():
    for bad in (dict(direction="sideways"), dict(method="magic"), dict(fusion="vote"), dict(patience=0),
                dict(start_frame=-1)):
        with pytest.raises(UserError):
            PropagationRequest((1,), **bad)
    with pytest.raises(UserError, match="at least one track"):
        PropagationRequest(())
    absent = project_with(a={})
    absent.tracks[1].frames[0] = FrameLabel(None, Provenance.MANUAL, flags=Flags(absent=True))
    with pytest.raises(UserError, match="absent"):
        propagate(absent, IndexedSource(5), ScriptedTracker(), PropagationRequest((1,), "forward", 0))


def test_repropagation_goes_only_to_the_next_keyframe():
    project = project_with(a={0: BOX_A, 10: BOX_A, 30: BOX_A})
    project.tracks[1].frames[4] = manual(BOX_B)  # the correction
    request = repropagation_request(project, 1, 4)
    assert (request.direction, request.start_frame, request.stop_frame) == ("fill", 4, 10)
    request = repropagation_request(project, 1, 30)
    assert (request.direction, request.start_frame, request.stop_frame) == ("forward", 30, None)
    steps, _, _ = run(project, repropagation_request(project, 1, 4), count=40)
    assert {s.frame for s in steps if 1 in s.labels} == set(range(5, 10))
    with pytest.raises(UserError):
        repropagation_request(project, 9, 4)


def test_steps_fuse_what_fuse_segment_computes():
    project = project_with(a={0: (0, 0, 10, 10), 8: (16, 0, 10, 10)})
    tracker = ScriptedTracker(moving)
    steps, _, _ = run(project, PropagationRequest((1,), "fill", 0), tracker, count=9)
    forward = {s.frame: s.results[1] for s in steps[:7]}
    backward = {s.frame: s.results[1] for s in steps[7:14]}
    fused = fuse_segment(0, 8, forward, backward)
    final = {s.frame: s.labels[1] for s in steps[14:]}
    assert {f: (label.box, label.score) for f, label in final.items()} == \
        {f: (tuple(b.box), b.score) for f, b in fused.items()}

"""The engine adapts each pass to the track's human labels nearest to it, and only when there is
something to learn; a keyframe drawn over a tracked box keeps the box it replaced."""
from __future__ import annotations

from support.propagation import ScriptedTracker, frame_index, manual, project_with, run

from core.annotations.model import FrameLabel, Provenance
from core.annotations.store import AnnotationStore
from core.propagation import PropagationRequest


class AdaptingTracker(ScriptedTracker):
    """Records every adapt_target call: (pass anchor, [(view frame, box, wrong boxes)])."""

    def __init__(self) -> None:
        super().__init__()
        self.adapted: list[tuple[int, list[tuple[int, tuple, tuple]]]] = []

    def adapt_target(self, state, evidence) -> None:
        views = [(frame_index(v.frame_bgr), tuple(v.box_xywh), tuple(v.wrong_boxes)) for v in evidence]
        self.adapted.append((state.anchor, views))


def test_a_track_with_one_keyframe_is_not_adapted():
    tracker = AdaptingTracker()
    run(project_with(a={2: (1, 1, 5, 5)}), PropagationRequest((1,), "forward", start_frame=2, adapt=True), tracker)
    assert tracker.inits and tracker.adapted == []


def test_each_pass_learns_from_the_keyframes_nearest_to_it_with_their_wrong_boxes():
    project = project_with(a={0: (1, 1, 5, 5), 10: (3, 3, 5, 5), 19: (4, 4, 5, 5)})
    project.tracks[1].frames[10] = project.tracks[1].frames[10].with_(corrected_from=(9.0, 9.0, 5.0, 5.0))
    tracker = AdaptingTracker()
    run(project, PropagationRequest((1,), "fill", adapt=True), tracker)
    anchors = sorted(anchor for anchor, _ in tracker.adapted)
    assert anchors == [0, 10, 10, 19]  # every pass of the fill: forward from 0 and 10, backward from 10 and 19
    views = dict(tracker.adapted)[19]
    assert [v[0] for v in views] == [19, 10, 0]  # its own keyframe first, then the nearest
    assert views[1][2] == ((9.0, 9.0, 5.0, 5.0),)  # the box the correction on frame 10 replaced


def test_adaptation_is_off_unless_asked_for():
    project = project_with(a={0: (1, 1, 5, 5), 10: (3, 3, 5, 5)})
    for request in (PropagationRequest((1,), "forward"), PropagationRequest((1,), "forward", adapt=False)):
        tracker = AdaptingTracker()
        run(project, request, tracker)
        assert tracker.inits and tracker.adapted == []


def test_a_keyframe_drawn_over_a_tracked_box_remembers_it_and_undo_forgets_it():
    store = AnnotationStore(project_with(a={0: (1, 1, 5, 5)}))
    store.apply_propagated(1, {4: FrameLabel((8.0, 8.0, 5.0, 5.0), Provenance.TRACKED, score=0.9)})
    store.set_frame(1, 4, manual((2, 2, 5, 5)))
    assert store.track(1).frames[4].corrected_from == (8.0, 8.0, 5.0, 5.0)
    store.set_frame(1, 4, manual((2.5, 2, 5, 5)))  # a second touch keeps what the tracker had
    assert store.track(1).frames[4].corrected_from == (8.0, 8.0, 5.0, 5.0)
    store.undo()
    store.undo()
    assert store.track(1).frames[4].provenance is Provenance.TRACKED
    store.set_frame(1, 0, manual((1, 1, 6, 6)))  # over a keyframe that replaced nothing
    assert store.track(1).frames[0].corrected_from is None

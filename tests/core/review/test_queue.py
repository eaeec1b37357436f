"""The review queue on synthetic tracks: each kind of evidence puts its frame first and says why.

Tracks here are what the propagation engine stores: a manual keyframe, then tracked frames
with a score and the tracker cues (box spread, distractor, disagreement). A smooth, confident
track whose cues hold steady is the background against which one wrong frame must stand out
(the queue ranks each cue among the queue's frames, so on a track where both vary a frame
extreme in one cue can trail frames fairly unusual in both: see the test of that).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from support.propagation import IndexedSource, ScriptedTracker

from core.annotations.io import label_from_dict, label_to_dict, project_from_bytes, project_to_bytes
from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.propagation import PropagationRequest, apply_step, propagate
from core.propagation.segments import PassResults, _fused_cues
from core.review import ReviewWalk, build_queue, walk
from core.review.cues import distractor_ratio
from core.review.features import FEATURES, track_features
from core.review.rule import percentile_ranks, suspicion
from core.review.series import series_of
from core.tracking.result import ResponseMaps, TrackResult

FRAMES = 60


def smooth_track(frames: int = FRAMES, seed: int = 0) -> Track:
    """A keyframe on frame 0, then a target drifting right, scores 0.85, boxes the best cells
    agree on (spread 0.1), faint second peaks."""
    rng = np.random.default_rng(seed)
    track = Track(id=1)
    track.frames[0] = FrameLabel(box=(100.0, 80.0, 40.0, 60.0), provenance=Provenance.MANUAL)
    for f in range(1, frames):
        box = (100.0 + 2.0 * f + rng.normal(0, 0.3), 80.0 + rng.normal(0, 0.3),
               40.0 * (1 + rng.normal(0, 0.01)), 60.0 * (1 + rng.normal(0, 0.01)))
        track.frames[f] = FrameLabel(box=box, provenance=Provenance.TRACKED,
                                     score=0.85, distractor=float(0.2 + rng.normal(0, 0.02)), box_spread=0.1)
    return track


def project_of(*tracks: Track) -> Project:
    return Project(tracks={t.id: t for t in tracks})


def first(project: Project, **kwargs):
    return build_queue(project, **kwargs)[0]


def test_percentile_ranks_run_from_1_over_n_to_1_and_ties_share_their_mean_rank():
    assert percentile_ranks(np.array([0.3, 0.1, 0.2])) == pytest.approx([1.0, 1 / 3, 2 / 3])
    assert percentile_ranks(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx([0.5, 0.5, 0.5, 1.0])
    assert percentile_ranks(np.zeros(0)).shape == (0,)


def test_the_suspicion_is_the_rank_of_the_spread_plus_the_rank_of_the_lack_of_score_plus_the_ruled_cues():
    rows = np.zeros((4, len(FEATURES)))
    rows[:, FEATURES.index("box_spread")] = [0.1, 0.4, 0.2, 0.3]
    rows[:, FEATURES.index("low")] = [0.3, 0.0, 0.2, 0.1]
    rows[3, FEATURES.index("disagreement")] = 0.5
    assert suspicion(rows) == pytest.approx([0.25 + 1.0, 1.0 + 0.25, 0.5 + 0.75, 0.75 + 0.5 + 0.5])


def test_a_frame_whose_best_boxes_disagree_ranks_first_and_says_so():
    track = smooth_track()
    track.frames[40] = track.frames[40].with_(box_spread=0.45)  # same score: the box frames the target badly
    item = first(project_of(track))
    assert item.frame == 40
    assert item.reason.startswith("the best boxes around the peak disagree (spread 0.45)")


def test_a_score_drop_relative_to_the_track_ranks_first_though_it_is_above_a_fixed_line():
    track = smooth_track()
    for f in range(30, 36):
        track.frames[f] = track.frames[f].with_(score=0.45)
    item = first(project_of(track))
    assert 30 <= item.frame < 36
    assert "score fell to 0.45 from its usual 0.85" in item.reason


def test_a_frame_unusual_in_both_cues_outranks_frames_extreme_in_one():  # ranks add up
    track = smooth_track()
    track.frames[10] = track.frames[10].with_(box_spread=0.9)            # the widest spread, a usual score
    track.frames[20] = track.frames[20].with_(score=0.2)                 # the lowest score, a usual spread
    track.frames[30] = track.frames[30].with_(box_spread=0.5, score=0.5)  # second in both
    queue = build_queue(project_of(track))
    assert queue[0].frame == 30 and {queue[1].frame, queue[2].frame} == {10, 20}
    assert "spread 0.50" in queue[0].reason and "score fell to 0.50" in queue[0].reason


def test_without_a_recorded_spread_the_queue_ranks_by_score():
    track = smooth_track()
    rng = np.random.default_rng(5)
    for f in range(1, FRAMES):  # another tracker, or a project saved before the box spread was stored
        track.frames[f] = track.frames[f].with_(box_spread=None, score=float(0.85 + rng.normal(0, 0.01)))
    track.frames[17] = track.frames[17].with_(score=0.6)
    queue = build_queue(project_of(track))
    assert queue[0].frame == 17 and "spread" not in queue[0].reason
    scores = [track.frames[item.frame].score for item in queue]
    assert scores == sorted(scores)


def test_passes_that_disagree_and_interpolated_frames_are_suspicious():
    track = smooth_track()
    track.frames[12] = track.frames[12].with_(disagreement=0.9)
    track.frames[50] = track.frames[50].with_(provenance=Provenance.INTERPOLATED, score=0.0, distractor=None,
                                              box_spread=None)
    queue = build_queue(project_of(track))
    assert {queue[0].frame, queue[1].frame} == {12, 50}
    reasons = {item.frame: item.reason for item in queue[:2]}
    assert "forward and backward passes disagree" in reasons[12]
    assert "interpolated" in reasons[50]


def test_human_labels_are_never_in_the_queue_and_frames_are_measured_from_the_nearer_one():
    track = smooth_track()
    for f in (0, 20, 59):
        track.frames[f] = track.frames[f].with_(provenance=Provenance.MANUAL if f != 20 else Provenance.IMPORTED,
                                                score=None)
    queue = build_queue(project_of(track))
    frames = {item.frame for item in queue}
    assert frames == set(range(1, 59)) - {20}
    anchors = {item.frame: item.facts.anchor_frame for item in queue}
    assert anchors[25] == 20 and anchors[45] == 59 and anchors[5] == 0


def test_the_queue_spans_tracks_or_only_the_chosen_one():
    quiet, wrong = smooth_track(seed=1), smooth_track(seed=2)
    quiet.id, wrong.id = 1, 2
    wrong.frames[33] = wrong.frames[33].with_(score=0.1)
    project = project_of(quiet, wrong)
    assert first(project).key == (2, 33)
    assert all(item.track_id == 1 for item in build_queue(project, track_ids=[1]))


def test_walk_goes_down_the_queue_and_back_and_restarts_when_its_frame_left_the_queue():
    queue = build_queue(project_of(smooth_track()))
    assert walk(queue, None, +1) == 0 and walk(queue, None, -1) is None
    assert walk(queue, queue[0].key, +1) == 1
    assert walk(queue, queue[1].key, -1) == 0
    assert walk(queue, queue[0].key, -1) is None
    assert walk(queue, queue[-1].key, +1) is None
    assert walk(queue, (1, 0), +1) == 0  # a keyframe now: not in the queue, start at the top


def test_frames_a_person_marked_reviewed_leave_the_queue():
    track = smooth_track()
    track.frames[25] = track.frames[25].with_(score=0.1)
    project = project_of(track)
    assert first(project).frame == 25
    project.reviewed = {25}
    assert 25 not in {item.frame for item in build_queue(project)}


def test_the_walk_says_why_it_stops_and_starts_again_from_the_top():
    project = project_of(smooth_track(frames=4))
    walker = ReviewWalk()
    steps = [walker.step(project, None, +1) for _ in range(4)]
    assert [s.index for s in steps[:3]] == [0, 1, 2]
    assert steps[0].message().startswith("Review 1/3: track 1, frame ")
    assert steps[3].startswith("End of the review queue (3 frames)")
    assert walker.step(project, None, +1).index == 0
    assert walker.step(project, None, -1).startswith("Already at the most suspicious frame")
    assert ReviewWalk().step(project_of(Track(id=1)), None, +1).startswith("Nothing to review")


def test_distractor_ratio_is_the_second_peak_over_the_first():
    yy, xx = np.mgrid[:25, :25].astype(np.float32)
    bump = lambda r, c, a: a * np.exp(-((yy - r) ** 2 + (xx - c) ** 2) / 4.0)  # noqa: E731
    assert distractor_ratio(bump(12, 12, 0.9)) == pytest.approx(0.0, abs=1e-3)
    assert distractor_ratio(bump(12, 12, 0.9) + bump(12, 22, 0.6)) == pytest.approx(0.6 / 0.9, abs=0.01)
    assert distractor_ratio(bump(12, 12, 0.9) + bump(12, 14, 0.8)) < 0.1  # inside the first peak: the same thing
    assert distractor_ratio(np.zeros((25, 25))) == 0.0


def test_cues_are_saved_with_the_label_and_old_files_still_load():
    label = FrameLabel(box=(1.0, 2.0, 3.0, 4.0), provenance=Provenance.TRACKED, score=0.5,
                       distractor=0.25, disagreement=0.75, box_spread=0.125)
    data = label_to_dict(label)
    assert data["distractor"] == 0.25 and data["disagreement"] == 0.75 and data["box_spread"] == 0.125
    assert label_from_dict(json.loads(json.dumps(data)), "label") == label
    old = {"box": [1.0, 2.0, 3.0, 4.0], "provenance": "tracked", "score": 0.5}
    assert label_from_dict(old, "label") == label.with_(distractor=None, disagreement=None, box_spread=None)
    assert "box_spread" not in label_to_dict(label.with_(box_spread=None))  # saved only when recorded
    project = project_of(smooth_track())
    assert project_from_bytes(project_to_bytes(project)).tracks[1].frames == project.tracks[1].frames


class _TwoPeakTracker(ScriptedTracker):
    """Scripted boxes with a score map whose second peak grows with the frame index."""

    def track_many(self, frame_bgr, targets):
        results = super().track_many(frame_bgr, targets)
        frame = self.calls[-1][0]
        yy, xx = np.mgrid[:25, :25].astype(np.float32)
        peak = np.exp(-((yy - 12) ** 2 + (xx - 12) ** 2) / 4.0) + (frame / 20.0) * np.exp(
            -((yy - 12) ** 2 + (xx - 22) ** 2) / 4.0)
        maps = ResponseMaps(cls=peak, align=peak, score=peak.astype(np.float32), reg=np.ones((4, 25, 25), np.float32))
        return [TrackResult(r.box_xywh, r.score, maps, box_spread=frame / 100.0) for r in results]


def test_the_engine_stores_the_box_spread_of_every_tracked_frame():
    track = Track(id=1)
    track.frames[0] = FrameLabel(box=(4.0, 4.0, 8.0, 8.0), provenance=Provenance.MANUAL)
    project = project_of(track)
    tracker = _TwoPeakTracker(lambda anchor, box, frame: (box, 0.9))
    for step in propagate(project, IndexedSource(11), tracker, PropagationRequest((1,), "forward")):
        apply_step(project, step)
    assert [track.frames[f].box_spread for f in range(1, 11)] == pytest.approx([f / 100.0 for f in range(1, 11)])
    assert track.frames[0].box_spread is None  # the person's keyframe


def test_a_fused_frame_keeps_the_box_spread_of_the_pass_its_box_came_from():
    forward = PassResults({5: TrackResult((4.0, 4.0, 8.0, 8.0), 0.9, box_spread=0.1)})
    backward = PassResults({5: TrackResult((5.0, 4.0, 8.0, 8.0), 0.8, box_spread=0.7)})
    spread = {source: _fused_cues(forward, backward, 5, source)["box_spread"]
              for source in ("forward", "backward", "blend")}
    assert spread == {"forward": 0.1, "backward": 0.7, "blend": 0.7}  # a blend: the larger one
    unknown = PassResults({5: TrackResult((4.0, 4.0, 8.0, 8.0), 0.9)})  # a tracker without box regression
    assert _fused_cues(unknown, backward, 5, "forward")["box_spread"] is None


def test_the_engine_stores_the_distractor_cue_and_fill_stores_how_far_the_passes_disagree():
    track = Track(id=1)
    track.frames[0] = FrameLabel(box=(4.0, 4.0, 8.0, 8.0), provenance=Provenance.MANUAL)
    track.frames[10] = FrameLabel(box=(14.0, 4.0, 8.0, 8.0), provenance=Provenance.MANUAL)
    project = project_of(track)
    tracker = _TwoPeakTracker(lambda anchor, box, frame: (box, 0.9))  # each pass stays on its keyframe's box
    for step in propagate(project, IndexedSource(11), tracker, PropagationRequest((1,), "fill")):
        apply_step(project, step)
    middle = track.frames[5]
    assert middle.distractor == pytest.approx(5 / 20.0, abs=0.02)
    assert middle.disagreement == pytest.approx(1.0)  # the passes' boxes do not touch
    assert middle.box_spread == pytest.approx(5 / 100.0)  # fused labels keep it too


def test_a_pass_stopped_by_low_scores_says_where_and_why():
    track = Track(id=2)
    track.frames[0] = FrameLabel(box=(4.0, 4.0, 8.0, 8.0), provenance=Provenance.MANUAL)
    project = Project(tracks={2: track})
    tracker = ScriptedTracker(lambda anchor, box, frame: (box, 0.1 if frame >= 59 else 0.9))
    steps = list(propagate(project, IndexedSource(100), tracker, PropagationRequest((2,), "forward")))
    stops = [stop for step in steps for stop in step.stops]
    assert len(stops) == 1 and steps[-1].stops == tuple(stops)
    assert stops[0].message() == "Track 2 stopped at frame 62: score below 0.30 for 3 frames (0.10 there)"


def test_features_of_a_track_without_derived_frames_are_empty():
    track = Track(id=1)
    track.frames[3] = FrameLabel(box=(1.0, 1.0, 5.0, 5.0), provenance=Provenance.MANUAL)
    table = track_features(series_of(track))
    assert table.rows.shape == (0, len(FEATURES))
    assert build_queue(project_of(track)) == []


def test_the_cli_says_where_a_track_stopped_and_why(videos_dir, tmp_path, monkeypatch, capsys):
    from core.annotations.io import save_project
    from core.cli import main
    from core.media import open_media
    from core.tracking import IdentityTracker

    class Fading(IdentityTracker):
        calls = 0

        def track_many(self, frame_bgr, targets):
            Fading.calls += 1
            return [TrackResult(r.box_xywh, 0.1 if Fading.calls >= 10 else 0.9)
                    for r in super().track_many(frame_bgr, targets)]

    with open_media(videos_dir / "bikes.mp4") as source:
        media = source.to_media_ref()
    track = Track(id=3, frames={0: FrameLabel((300.0, 100.0, 60.0, 80.0), Provenance.MANUAL)})
    path = tmp_path / "project.json"
    save_project(Project(media=media, tracks={3: track}), path)
    monkeypatch.setattr("core.commands.propagate._tracker", lambda model, device: Fading())
    assert main(["propagate", str(path), "--track", "3"]) == 0
    assert "Track 3 stopped at frame 13: score below 0.30 for 3 frames (0.10 there)." in capsys.readouterr().err

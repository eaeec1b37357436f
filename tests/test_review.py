"""The review queue on synthetic tracks: each kind of evidence puts its frame first and says why.

Tracks here are what the propagation engine stores: a manual keyframe, then tracked frames
with a score and the tracker cues (distractor, disagreement). A smooth, confident track is
the background against which one wrong frame must stand out.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.annotations.io import label_from_dict, label_to_dict, project_from_bytes, project_to_bytes
from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.propagation import PropagationRequest, apply_step, propagate
from core.review import ReviewWalk, build_queue, walk
from core.review.cues import distractor_ratio
from core.review.features import FEATURES, track_features
from core.review.fit import RULED, fit_logistic, with_ruled
from core.review.model import ReviewWeights
from core.review.series import series_of
from core.review.weights import WEIGHTS
from core.tracking.result import ResponseMaps, TrackResult
from tests.test_propagation_fakes import IndexedSource, ScriptedTracker

FRAMES = 60
EVIDENCE = ("sustained_drop", "low", "size_step", "size_drift", "motion", "distractor_rise", "disagreement",
            "interpolated")
EVEN = ReviewWeights(EVIDENCE, (0.0,) * len(EVIDENCE), (1.0,) * len(EVIDENCE), (1.0,) * len(EVIDENCE), 0.0, "test")
"""Every piece of evidence at the same weight: tests of how evidence flows, whatever a fit gives it."""


def smooth_track(frames: int = FRAMES, seed: int = 0) -> Track:
    """A keyframe on frame 0, then a target drifting right, scores around 0.85, faint second peaks."""
    rng = np.random.default_rng(seed)
    track = Track(id=1)
    track.frames[0] = FrameLabel(box=(100.0, 80.0, 40.0, 60.0), provenance=Provenance.MANUAL)
    for f in range(1, frames):
        box = (100.0 + 2.0 * f + rng.normal(0, 0.3), 80.0 + rng.normal(0, 0.3),
               40.0 * (1 + rng.normal(0, 0.01)), 60.0 * (1 + rng.normal(0, 0.01)))
        track.frames[f] = FrameLabel(box=box, provenance=Provenance.TRACKED,
                                     score=float(0.85 + rng.normal(0, 0.005)),
                                     distractor=float(0.2 + rng.normal(0, 0.02)))
    return track


def project_of(*tracks: Track) -> Project:
    return Project(tracks={t.id: t for t in tracks})


def first(project: Project, **kwargs):
    return build_queue(project, **kwargs)[0]


def test_shipped_weights_make_every_piece_of_evidence_raise_suspicion():
    assert set(WEIGHTS.names) <= set(FEATURES)
    assert all(c >= 0 for c in WEIGHTS.coef), dict(zip(WEIGHTS.names, WEIGHTS.coef))
    assert sum(c > 0 for c in WEIGHTS.coef) >= 3
    assert WEIGHTS.fitted_on  # says what it was fitted on


@pytest.mark.parametrize("weights", [EVEN, WEIGHTS], ids=["even", "shipped"])
def test_a_size_jump_ranks_first_and_says_so(weights):
    track = smooth_track()
    for f in range(40, FRAMES):  # the box jumps to 1.8x the size and stays there (on the wrong thing)
        x, y, w, h = track.frames[f].box
        track.frames[f] = track.frames[f].with_(box=(x, y, w * 1.8, h * 1.8))
    item = first(project_of(track), weights=weights)
    assert item.frame == 40
    assert "size jumped 1.8x" in item.reason


@pytest.mark.parametrize("weights", [EVEN, WEIGHTS], ids=["even", "shipped"])
def test_a_score_drop_relative_to_the_track_ranks_first_though_it_is_above_a_fixed_line(weights):
    track = smooth_track()
    for f in range(30, 36):
        track.frames[f] = track.frames[f].with_(score=0.45)
    item = first(project_of(track), weights=weights)
    assert 30 <= item.frame < 36
    assert "score fell to 0.45 from its usual 0.85" in item.reason


def test_a_second_peak_close_to_the_first_ranks_first():
    track = smooth_track()
    track.frames[25] = track.frames[25].with_(distractor=0.95)
    item = first(project_of(track), weights=EVEN)
    assert item.frame == 25
    assert "second peak" in item.reason and "95%" in item.reason


def test_passes_that_disagree_and_interpolated_frames_are_suspicious():
    track = smooth_track()
    track.frames[12] = track.frames[12].with_(disagreement=0.9)
    track.frames[50] = track.frames[50].with_(provenance=Provenance.INTERPOLATED, score=0.0, distractor=None)
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
                       distractor=0.25, disagreement=0.75)
    data = label_to_dict(label)
    assert data["distractor"] == 0.25 and data["disagreement"] == 0.75
    assert label_from_dict(json.loads(json.dumps(data)), "label") == label
    old = {"box": [1.0, 2.0, 3.0, 4.0], "provenance": "tracked", "score": 0.5}
    assert label_from_dict(old, "label") == label.with_(distractor=None, disagreement=None)
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
        return [TrackResult(r.box_xywh, r.score, maps) for r in results]


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


def test_a_pass_stopped_by_low_scores_says_where_and_why():
    track = Track(id=2)
    track.frames[0] = FrameLabel(box=(4.0, 4.0, 8.0, 8.0), provenance=Provenance.MANUAL)
    project = Project(tracks={2: track})
    tracker = ScriptedTracker(lambda anchor, box, frame: (box, 0.1 if frame >= 59 else 0.9))
    steps = list(propagate(project, IndexedSource(100), tracker, PropagationRequest((2,), "forward")))
    stops = [stop for step in steps for stop in step.stops]
    assert len(stops) == 1 and steps[-1].stops == tuple(stops)
    assert stops[0].message() == "Track 2 stopped at frame 62: score below 0.30 for 3 frames (0.10 there)"


def test_fit_finds_the_evidence_that_separates_wrong_from_right_and_rules_the_rest():
    rng = np.random.default_rng(3)
    rows = rng.normal(0, 1, (400, len(FEATURES)))
    wrong = rows[:, FEATURES.index("low")] + 0.3 * rng.normal(0, 1, 400) > 0.5
    groups = np.arange(400) % 4
    weights = with_ruled(fit_logistic(rows, wrong, groups), "synthetic")
    coef = dict(zip(weights.names, weights.coef))
    assert coef["low"] > 1.0 and all(abs(coef[n]) < 0.5 for n in weights.names if n not in ("low", *RULED))
    per_unit_low = coef["low"] / weights.scale[weights.names.index("low")]
    assert all(math.isclose(coef[n], per_unit_low) for n in RULED)


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

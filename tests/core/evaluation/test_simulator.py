"""The annotation-effort simulator: sane counts on real sequences, exact counts on scripted ones."""
from __future__ import annotations

import json

import numpy as np
import pytest
from support.propagation import IndexedSequenceSource, IndexedSource, OracleTracker, ScriptedTracker

from core.annotations.model import Project, Track
from core.cli import main
from core.evaluation.simulator import _fill_segment, simulate, simulate_sequence, truncate
from core.evaluation.simulator_passes import PassCache, Truth
from core.evaluation.simulator_report import CORRECTION_KINDS, SimulationReport, SimulatorConfig
from core.media.sequence import Sequence
from core.propagation import PropagationRequest, apply_step, propagate


def otb(folder, max_frames: int) -> Sequence:
    """An OTB sequence read directly (frames sorted, 1-based x, y -> 0-based)."""
    frames = tuple(sorted((folder / "img").glob("*.jpg")))
    boxes = np.loadtxt(folder / "groundtruth_rect.txt", delimiter=",").reshape(-1, 4)
    boxes[:, :2] -= 1
    return truncate(Sequence(name=folder.name, boxes=boxes, frames=frames), max_frames)


def synthetic(count: int, speed: float = 3.0) -> Sequence:
    """A box moving `speed` px per frame to the right (no pixels needed: sources are injected)."""
    boxes = np.array([[10.0 + speed * i, 20.0, 20.0, 20.0] for i in range(count)])
    return Sequence(name="synthetic", boxes=boxes)


class SyntheticSource(IndexedSource):
    def __init__(self, sequence):
        super().__init__(len(sequence))


def test_perfect_tracker_needs_no_correction_on_real_frames_and_interpolation_does(seqs_dir):
    sequence = otb(seqs_dir / "David", 80)
    config = SimulatorConfig(intervals=(10, 0))
    outcome = simulate_sequence(sequence, OracleTracker(sequence.boxes), config,
                                source=IndexedSequenceSource(sequence))
    assert outcome.results["forward"].corrections == 0
    assert outcome.results["fill"].corrections == 0
    assert outcome.results["interpolation"].corrections > 0  # David moves: keyframes are needed
    assert outcome.results["interpolation"].interval in (10, 0)
    assert outcome.results["forward"].frames_tracked == 79


def test_a_tracker_that_never_moves_needs_corrections_on_a_moving_target(seqs_dir):
    sequence = otb(seqs_dir / "Jogging-1", 60)  # the runner leaves a still box within 8 frames
    frozen = ScriptedTracker()  # returns its start box
    outcome = simulate_sequence(sequence, frozen, SimulatorConfig(intervals=(5,)),
                                source=IndexedSequenceSource(sequence))
    forward = outcome.results["forward"].corrections
    assert 0 < forward < 60
    assert 0 < outcome.results["fill"].corrections < 60


def test_counts_are_exact_for_a_scripted_tracker_that_loses_the_target_every_20_frames():
    sequence = synthetic(100)

    def lost_after_20(anchor, box, frame):
        if abs(frame - anchor) <= 20:
            return tuple(sequence.boxes[frame]), 0.9
        return ((500.0, 500.0, 20.0, 20.0) if frame > anchor else (0.0, 300.0, 20.0, 20.0)), 0.9

    config = SimulatorConfig(strategies=("forward", "fill"), fill_anchor="first-error")
    outcome = simulate_sequence(sequence, ScriptedTracker(lost_after_20), config, source=SyntheticSource(sequence))
    assert outcome.results["forward"].corrections == 4  # at 21, 42, 63, 84
    # fill: 21 and the last frame 99; (21, 99): forward right to 41, backward right down to 79, both
    # lost on 42..78 -> 42; (42, 99): lost on 63..78 -> 63; (63, 99): right throughout. Two passes
    # cannot help where both are lost: a tie, with the last frame's box as the price.
    assert outcome.results["fill"].corrections == 4


def test_each_correction_is_counted_by_what_the_tool_showed_there():
    """Lost (a box elsewhere), drifted (half off), loose (on the target, not tight) and the anchor
    fill's person draws: every correction has one kind, and they add up to the corrections."""
    sequence = synthetic(100)

    def failing(anchor, box, frame):
        x, y, w, h = sequence.boxes[frame]
        since = abs(frame - anchor)
        if since <= 20:
            return (x, y, w, h), 0.9
        if anchor < 21:
            return (500.0, 500.0, w, h), 0.9  # lost: IoU 0
        if anchor < 42:
            return (x + 0.7 * w, y, w, h), 0.9  # drifted: IoU 0.3 / 1.7 = 0.18
        return (x + 0.3 * w, y, w, h), 0.9  # loose: IoU 0.7 / 1.3 = 0.54, below a bar of 0.6

    config = SimulatorConfig(iou_threshold=0.6, strategies=("forward", "fill"), fill_anchor="first-error")
    outcome = simulate_sequence(sequence, ScriptedTracker(failing), config, source=SyntheticSource(sequence))
    forward, fill = outcome.results["forward"], outcome.results["fill"]
    assert forward.corrections == 4  # at 21 (lost), 42 (drifted), 63 and 84 (loose)
    assert dict(zip(CORRECTION_KINDS, forward.kinds)) == {"lost": 1, "drifted": 1, "loose": 2, "presence": 0,
                                                         "anchor": 0}
    assert sum(fill.kinds) == fill.corrections and fill.kinds[CORRECTION_KINDS.index("anchor")] == 1
    report = SimulationReport(config, "scripted", (outcome,))
    assert report.to_dict()["strategies"]["forward"]["kinds"]["loose"] == 2


def test_fill_beats_forward_when_only_the_forward_direction_is_hard():
    sequence = synthetic(100)
    hard = (20, 40, 60, 80)  # crossing these frames forwards loses the target; backwards is fine

    def forward_hard(anchor, box, frame):
        if frame > anchor and any(anchor < h <= frame for h in hard):
            return (500.0, 500.0, 20.0, 20.0), 0.5
        return tuple(sequence.boxes[frame]), 0.9

    counts = {}
    for anchor in ("first-error", "second-error", "upfront", "none"):
        config = SimulatorConfig(strategies=("forward", "fill"), fill_anchor=anchor)
        outcome = simulate_sequence(sequence, ScriptedTracker(forward_hard), config, source=SyntheticSource(sequence))
        assert outcome.results["forward"].corrections == 4
        counts[anchor] = outcome.results["fill"].corrections
    # first-error: frame 20 and the last frame; second-error: 20, 40 and the last; upfront: the last
    # frame only (its backward pass is right everywhere); none: never a keyframe after a correction,
    # so fill is forward-only
    assert counts == {"first-error": 2, "second-error": 3, "upfront": 1, "none": 4}


def test_naive_fusion_loses_what_agreement_fusion_keeps():
    sequence = synthetic(100)

    def backward_drifts_early(anchor, box, frame):  # backward passes are lost 5 frames from their keyframe
        if frame < anchor - 5 or (frame > anchor and frame >= 20 and anchor < 20):
            return (500.0, 500.0, 20.0, 20.0), 0.5
        return tuple(sequence.boxes[frame]), 0.9

    counts = {}
    for rule in ("agreement", "nearest"):
        config = SimulatorConfig(strategies=("fill",), fusion=rule, fill_anchor="first-error")
        outcome = simulate_sequence(sequence, ScriptedTracker(backward_drifts_early), config,
                                    source=SyntheticSource(sequence))
        counts[rule] = outcome.results["fill"].corrections
    assert counts["agreement"] < counts["nearest"]


def test_simulator_fill_labels_are_what_the_engine_streams():
    sequence = synthetic(30)

    def wobbly(anchor, box, frame):
        x, y, w, h = sequence.boxes[frame]
        return (x + 2.0 * ((frame * 7 + anchor) % 5), y, w, h), 0.2 + 0.1 * ((frame + anchor) % 7)

    truth = Truth(sequence, 0.5)
    keys = {0: truth.keyframe(0), 29: truth.keyframe(29)}
    cache = PassCache(SyntheticSource(sequence), ScriptedTracker(wobbly), truth, 0.0, 3)
    simulated = _fill_segment(truth, cache, keys, 0, PropagationRequest((1,), "fill"))

    project = Project(tracks={1: Track(id=1, frames=dict(keys))})
    request = PropagationRequest((1,), "fill", 0, score_threshold=0.0)
    for step in propagate(project, SyntheticSource(sequence), ScriptedTracker(wobbly), request):
        apply_step(project, step)
    assert {f: project.tracks[1].frames[f] for f in range(1, 29)} == simulated


def test_report_totals_and_json_shape():
    sequences = [synthetic(40), synthetic(25, speed=0.0)]
    report = simulate(sequences, None, SimulatorConfig(strategies=("interpolation",), intervals=(5, 0)))
    data = report.to_dict()
    assert data["strategies"]["interpolation"]["frames"] == 65
    static = data["sequences"][1]["interpolation"]
    assert static["corrections"] == 0 and static["interval"] == 0  # a still target needs only the first box
    assert set(data["strategies"]["interpolation"]["per_interval"]) == {"5", "0"}


def test_simulate_command_prints_json(seqs_dir, capsys):
    code = main(["simulate", str(seqs_dir), "--tracker", "identity", "--only", "Man", "--max-frames", "30",
                 "--interval", "10", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["strategies"]) == {"interpolation", "forward", "fill"}
    for row in data["strategies"].values():
        assert {"corrections_per_100_frames", "compute_seconds"} <= set(row)
    assert data["sequences"][0]["name"] == "Man" and data["sequences"][0]["frames"] == 30
    assert data["sequences"][0]["interpolation"]["interval"] == 10


def test_simulate_command_rejects_bad_options_in_one_line(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "nope")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["simulate", str(tmp_path), "--strategies", "guess"]) == 2
    err = capsys.readouterr().err
    assert "Unknown strategy" in err and err.count("\n") == 1


def test_shared_passes_give_the_same_counts_with_less_tracking():
    sequence = synthetic(60)

    def drifting(anchor, box, frame):
        lost = abs(frame - anchor) > 12
        return ((300.0, 0.0, 20.0, 20.0) if lost else tuple(sequence.boxes[frame])), 0.8

    config = SimulatorConfig(strategies=("fill",))
    alone = simulate_sequence(sequence, ScriptedTracker(drifting), config, SyntheticSource(sequence))
    memo: dict = {}
    simulate_sequence(sequence, ScriptedTracker(drifting), config, SyntheticSource(sequence), memo)
    again = simulate_sequence(sequence, ScriptedTracker(drifting), config, SyntheticSource(sequence), memo)
    assert again.results["fill"].corrections == alone.results["fill"].corrections > 0
    assert again.results["fill"].frames_tracked == 0 < alone.results["fill"].frames_tracked


def test_cancel_stops_between_sequences():
    from core.errors import Cancelled
    from core.propagation import CancelToken

    token = CancelToken()
    seen = []

    def progress(done, total, name):
        seen.append(done)
        token.cancel()

    with pytest.raises(Cancelled):
        simulate([synthetic(10), synthetic(10)], None, SimulatorConfig(strategies=("interpolation",)),
                 progress=progress, cancel=token)
    assert seen == [0]


def test_oracle_fusion_bounds_every_rule_from_below():
    """With the truth in hand, fill takes whichever pass is right: no misses, and never more
    corrections than a real rule. Here the backward pass is confidently and smoothly wrong (12 px
    off a 20 px target) between the frames where it meets the (right but unsure) forward pass,
    which fools the agreement rule."""
    sequence = synthetic(80)

    def backward_confidently_wrong(anchor, box, frame):
        if frame < anchor and frame % 10 != 0 and anchor - frame > 2:
            x, y, w, h = sequence.boxes[frame]
            return (x + 12.0, y, w, h), 0.9
        return tuple(sequence.boxes[frame]), (0.2 if frame > anchor else 0.9)

    results = {}
    for rule in ("agreement", "oracle"):
        config = SimulatorConfig(strategies=("fill",), fusion=rule, fill_anchor="upfront")
        outcome = simulate_sequence(sequence, ScriptedTracker(backward_confidently_wrong), config,
                                    source=SyntheticSource(sequence))
        results[rule] = outcome.results["fill"]
    assert results["agreement"].fusion_misses > 0
    assert results["oracle"].fusion_misses == 0
    assert results["oracle"].corrections == 1 < results["agreement"].corrections  # the last frame only


def test_jittered_annotators_draw_within_two_percent_and_the_same_box_every_time():
    sequence = synthetic(30)
    exact, first, again, other = (Truth(sequence, 0.5, jitter, seed) for jitter, seed in
                                  ((0.0, 0), (0.02, 1), (0.02, 1), (0.02, 2)))
    x, y, w, h = exact.drawn(7)
    moved = first.drawn(7)
    assert moved == again.drawn(7) and moved != other.drawn(7) and moved != exact.drawn(7)
    assert abs(moved[2] / w - 1) <= 0.02 and abs(moved[3] / h - 1) <= 0.02
    centre = (moved[0] + moved[2] / 2 - x - w / 2, moved[1] + moved[3] / 2 - y - h / 2)
    assert abs(centre[0]) <= 0.02 * w + 1e-9 and abs(centre[1]) <= 0.02 * h + 1e-9


def test_seeds_report_the_mean_and_spread_of_jittered_runs(seqs_dir, capsys):
    """A tracker that never moves on a moving target: each jittered annotator corrects a little
    differently, and the command reports every run with their mean and spread."""
    code = main(["simulate", str(seqs_dir), "--tracker", "identity", "--only", "Car4", "--max-frames", "60",
                 "--strategies", "forward", "--seeds", "3", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    summary = report["summary"]["forward"]
    assert report["seeds"] == 3 and len(summary["per_run"]) == 3 and len(report["runs"]) == 3
    assert summary["mean"] == pytest.approx(float(np.mean(summary["per_run"])), abs=1e-3)
    assert summary["min"] <= summary["mean"] <= summary["max"] and summary["std"] >= 0
    assert main(["simulate", str(seqs_dir), "--tracker", "identity", "--seeds", "-1"]) == 2

"""The fusion rule for fill-between-keyframes, case by case (pure, no model)."""
from __future__ import annotations

import pytest

from core.propagation import fuse_segment
from core.tracking.result import TrackResult

TRUE = (50.0, 50.0, 20.0, 20.0)
LOST_F = (200.0, 10.0, 20.0, 20.0)  # where a drifted forward pass sits
LOST_B = (10.0, 200.0, 20.0, 20.0)  # where a drifted backward pass sits


def r(box, score=0.8) -> TrackResult:
    return TrackResult(box_xywh=tuple(box), score=score)


def passes(n: int, forward_drift_at: int | None, backward_drift_at: int | None, f_score=0.8, b_score=0.8):
    """Forward right before its drift frame, backward right after its drift frame (segment 0..n)."""
    forward = {f: r(TRUE if forward_drift_at is None or f < forward_drift_at else LOST_F, f_score)
               for f in range(1, n)}
    backward = {f: r(TRUE if backward_drift_at is None or f > backward_drift_at else LOST_B, b_score)
                for f in range(1, n)}
    return forward, backward


def test_agreeing_passes_blend_by_score_and_closeness():
    forward = {1: r((0, 0, 10, 10), 1.0), 2: r((0, 0, 10, 10), 1.0), 3: r((0, 0, 10, 10), 1.0)}
    backward = {1: r((2, 0, 10, 10), 1.0), 2: r((2, 0, 10, 10), 1.0), 3: r((2, 0, 10, 10), 1.0)}
    fused = fuse_segment(0, 4, forward, backward)
    assert [fused[f].source for f in (1, 2, 3)] == ["blend"] * 3
    assert fused[1].box[0] == pytest.approx(0.5)  # 3/4 forward, 1/4 backward near the left keyframe
    assert fused[2].box[0] == pytest.approx(1.0)
    assert fused[3].box[0] == pytest.approx(1.5)
    assert fused[2].score == pytest.approx(1.0)


def test_each_pass_is_trusted_until_it_meets_the_other():
    # forward drifts at 14, backward drifts (going left) at 6: both right on 7..13
    forward, backward = passes(20, forward_drift_at=14, backward_drift_at=6)
    fused = fuse_segment(0, 20, forward, backward)
    assert all(fused[f].box == pytest.approx(TRUE) for f in range(1, 20))
    assert fused[3].source == "forward" and fused[17].source == "backward"


def test_naive_nearest_rule_takes_the_drifted_pass_where_agreement_does_not():
    # forward is right all the way, backward drifts almost at once: the nearer pass is wrong near the right
    forward, backward = passes(20, forward_drift_at=None, backward_drift_at=17)
    nearest = fuse_segment(0, 20, forward, backward, rule="nearest")
    smart = fuse_segment(0, 20, forward, backward)
    assert any(nearest[f].box != TRUE for f in range(11, 18))
    assert all(smart[f].box == pytest.approx(TRUE) for f in range(1, 20))


def test_no_agreement_switches_once_where_scores_say_and_flags_low_confidence():
    forward = {f: r(TRUE if f <= 8 else LOST_F, 0.9 if f <= 8 else 0.2) for f in range(1, 20)}
    backward = {f: r(LOST_B if f <= 12 else TRUE, 0.2 if f <= 12 else 0.9) for f in range(1, 20)}
    fused = fuse_segment(0, 20, forward, backward)
    sources = [fused[f].source for f in range(1, 20)]
    assert sources[:8] == ["forward"] * 8 and sources[12:] == ["backward"] * 7  # 9..12: both lost
    assert sources == sorted(sources, key=lambda s: s == "backward")  # one switch only
    assert all(fused[f].score <= 0.05 for f in range(1, 20))  # capped by the passes' (zero) overlap


def test_disagreeing_stretch_inside_agreement_takes_the_more_confident_pass():
    forward, backward = passes(20, None, None)
    for f in (9, 10, 11):  # a glitch of the backward pass, with a lower score
        backward[f] = r(LOST_B, 0.3)
    fused = fuse_segment(0, 20, forward, backward)
    assert all(fused[f].box == TRUE and fused[f].source == "forward" for f in (9, 10, 11))
    assert all(fused[f].score == 0.0 for f in (9, 10, 11))  # flagged: the passes do not overlap there
    assert fused[5].score > 0.9


def test_a_confident_glitch_loses_to_smooth_motion_inside_agreement():
    # the backward pass jumps to a distractor and back, scoring higher than the right forward pass
    forward, backward = passes(20, None, None, f_score=0.6)
    for f in (9, 10, 11):
        backward[f] = r(LOST_B, 0.95)
    fused = fuse_segment(0, 20, forward, backward)
    assert all(fused[f].box == TRUE and fused[f].source == "forward" for f in (9, 10, 11))


def test_a_stretch_where_each_pass_is_right_on_one_side_switches_inside_it():
    # both agree on 1..5 and 15..19; in between the forward pass is lost from 10 on and the
    # backward pass (going left) from 9 down: one pass for the whole stretch gets 4-5 frames wrong
    forward, backward = passes(20, None, None)
    for f in range(6, 15):
        if f >= 10:
            forward[f] = r(LOST_F, 0.8)
        else:
            backward[f] = r(LOST_B, 0.8)
    fused = fuse_segment(0, 20, forward, backward)
    assert all(fused[f].box == pytest.approx(TRUE) for f in range(1, 20))
    assert [fused[f].source for f in range(6, 15)] == ["forward"] * 4 + ["backward"] * 5


def test_frames_reached_by_one_pass_take_it_and_unreached_frames_are_left_out():
    forward = {1: r(TRUE), 2: r(TRUE)}
    backward = {5: r(TRUE), 4: r(TRUE)}
    fused = fuse_segment(0, 6, forward, backward)
    assert sorted(fused) == [1, 2, 4, 5]
    assert fused[1].source == "forward" and fused[5].source == "backward"


def test_score_rule_weights_score_by_closeness():
    forward = {f: r(LOST_F, 0.5) for f in range(1, 10)}
    backward = {f: r(TRUE, 0.9) for f in range(1, 10)}
    fused = fuse_segment(0, 10, forward, backward, rule="score")
    assert fused[1].source == "forward"  # 0.5 * 0.9 > 0.9 * 0.1
    assert fused[5].source == "backward"


def test_equal_scores_without_agreement_switch_half_way():
    forward = {f: r(LOST_F, 0.5) for f in range(1, 10)}
    backward = {f: r(LOST_B, 0.5) for f in range(1, 10)}
    fused = fuse_segment(0, 10, forward, backward)
    assert [fused[f].source for f in range(1, 10)] == ["forward"] * 4 + ["backward"] * 5


def test_adjacent_keyframes_have_nothing_to_fuse_and_unknown_rules_fail():
    assert fuse_segment(3, 4, {}, {}) == {}
    with pytest.raises(ValueError):
        fuse_segment(0, 5, {}, {}, rule="vote")

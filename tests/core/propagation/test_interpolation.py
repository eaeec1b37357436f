"""Linear and tracker-guided interpolation: pure functions, exact answers."""
from __future__ import annotations

import pytest

from core.annotations.model import Flags, FrameLabel, Provenance
from core.propagation import guide_towards_linear, interpolate_pair, linear_labels
from core.propagation.boxes import iou_xywh, lerp_box, weighted_box


def key(box) -> FrameLabel:
    return FrameLabel(box=box, provenance=Provenance.MANUAL)


ABSENT_KEY = FrameLabel(box=None, provenance=Provenance.MANUAL, flags=Flags(absent=True))


def test_linear_between_two_keyframes_is_exact_per_coordinate():
    labels = linear_labels({0: key((0, 0, 10, 10)), 4: key((40, 20, 30, 10))}, range(5))
    assert sorted(labels) == [1, 2, 3]
    assert labels[1].box == (10, 5, 15, 10)
    assert labels[2].box == (20, 10, 20, 10)
    assert labels[3].box == (30, 15, 25, 10)
    assert all(label.provenance is Provenance.INTERPOLATED for label in labels.values())


def test_keyframes_are_not_relabelled_and_after_the_last_the_box_is_held():
    anchors = {2: key((1, 2, 3, 4)), 5: key((4, 5, 6, 7))}
    labels = linear_labels(anchors, range(0, 8))
    assert 2 not in labels and 5 not in labels
    assert 0 not in labels and 1 not in labels  # nothing before the first keyframe
    assert labels[6].box == labels[7].box == (4, 5, 6, 7)
    assert 6 not in linear_labels(anchors, range(0, 8), hold_after_last=False)


def test_absent_keyframes_follow_cvat_outside_rule():
    anchors = {0: key((0, 0, 10, 10)), 3: ABSENT_KEY, 6: key((60, 0, 10, 10))}
    labels = linear_labels(anchors, range(8))
    assert labels[1].box == labels[2].box == (0, 0, 10, 10)  # held until the object leaves
    assert labels[4].is_absent and labels[5].is_absent
    assert labels[7].box == (60, 0, 10, 10)


def test_interpolate_pair_rejects_frames_outside_the_pair():
    with pytest.raises(ValueError):
        interpolate_pair(0, key((0, 0, 1, 1)), 4, key((0, 0, 1, 1)), 4)


def test_guided_interpolation_trusts_the_tracker_by_its_score():
    linear = FrameLabel(box=(0, 0, 10, 10), provenance=Provenance.INTERPOLATED)
    tracked = FrameLabel(box=(100, 0, 10, 10), provenance=Provenance.TRACKED, score=0.25)
    guided = guide_towards_linear(tracked, linear)
    assert guided.box == (25, 0, 10, 10)
    assert guided.score == 0.25 and guided.provenance is Provenance.TRACKED
    assert guide_towards_linear(tracked.with_(score=1.0), linear).box == (100, 0, 10, 10)
    assert guide_towards_linear(tracked.with_(score=0.0), linear).box == (0, 0, 10, 10)


def test_box_helpers():
    assert iou_xywh((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou_xywh((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou_xywh((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert iou_xywh((0, 0, 0, 10), (0, 0, 10, 10)) == 0.0
    assert lerp_box((0, 0, 0, 0), (10, 20, 30, 40), 0.5) == (5, 10, 15, 20)
    assert weighted_box((0, 0, 0, 0), (10, 10, 10, 10), 3, 1) == (2.5, 2.5, 2.5, 2.5)
    assert weighted_box((0, 0, 0, 0), (10, 10, 10, 10), 0, 0) == (5, 5, 5, 5)

"""motion_jump: how far a box moved between consecutive frames, in target sizes."""
from __future__ import annotations

import math

import pytest

from core.propagation.boxes import motion_jump


def test_no_motion_costs_nothing_and_the_cost_is_symmetric():
    box = (10.0, 20.0, 30.0, 40.0)
    assert motion_jump(box, box) == 0.0
    moved = (16.0, 28.0, 30.0, 40.0)
    assert motion_jump(box, moved) == pytest.approx(motion_jump(moved, box))


def test_shift_is_measured_in_target_sizes_and_scale_in_log_ratios():
    assert motion_jump((0, 0, 10, 10), (10, 0, 10, 10)) == pytest.approx(1.0)  # one side to the right
    assert motion_jump((0, 0, 100, 100), (10, 0, 100, 100)) == pytest.approx(0.1)  # same pixels, bigger target
    grown = motion_jump((0, 0, 10, 10), (-5, -5, 20, 20))  # same centre, twice the size
    assert grown == pytest.approx(2 * math.log(2.0))


def test_degenerate_boxes_do_not_divide_by_zero():
    assert math.isfinite(motion_jump((0, 0, 0, 0), (5, 5, 10, 10)))

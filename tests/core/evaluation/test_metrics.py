"""Metric definitions on hand-made boxes: thresholds, conventions, absent frames."""
from __future__ import annotations

import numpy as np
import pytest
from got10k.utils.metrics import center_error as got10k_center_error
from got10k.utils.metrics import rect_iou
from hypothesis import given, settings
from hypothesis import strategies as st

from core.evaluation.metrics import (
    NORM_PRECISION_THRESHOLDS,
    center_error,
    iou,
    mean_metrics,
    normalized_center_error,
    sequence_metrics,
    success_curve,
    valid_frames,
)


def test_iou_of_known_boxes():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], float)
    pred = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5], [0, 0, 5, 10]], float)
    np.testing.assert_allclose(iou(pred, gt), [1.0, 50 / 150, 0.0, 0.5], atol=1e-12)


def test_centre_is_x_plus_half_of_w_minus_one_as_got10k():
    # same centre (4.5, 4.5) in got10k's convention: 0 + (10 - 1) / 2 and 2 + (6 - 1) / 2
    assert center_error(np.array([[0, 0, 10, 10]]), np.array([[2, 2, 6, 6]]))[0] == pytest.approx(0.0)
    assert center_error(np.array([[3, 4, 10, 10]]), np.array([[0, 0, 10, 10]]))[0] == pytest.approx(5.0)


def test_normalised_error_divides_each_axis_by_the_ground_truth_size():
    gt = np.array([[0, 0, 10, 40]], float)
    pred = np.array([[3, 4, 10, 40]], float)  # offset (3, 4) -> (0.3, 0.1)
    assert normalized_center_error(pred, gt)[0] == pytest.approx(np.hypot(0.3, 0.1))


def test_success_counts_iou_strictly_above_and_precision_at_or_below():
    gt = np.array([[0, 0, 10, 10]] * 2, float)
    pred = np.array([[0, 0, 5, 10], [20, 0, 10, 10]], float)  # IoU exactly 0.5, centre error exactly 20
    m = sequence_metrics(pred, gt)
    assert m.sr50 == 0.0  # 0.5 is not > 0.5
    assert m.success_curve[10] == 0.0 and m.success_curve[9] == 0.5
    assert m.precision_20 == 1.0  # both errors (2.5 and 20) are <= 20
    assert m.ao == pytest.approx(0.25)


def test_absent_frames_are_left_out_nan_zero_size_or_flagged():
    gt = np.array([[0, 0, 10, 10], [np.nan] * 4, [0, 0, 0, 10], [0, 0, 10, 10], [0, 0, 10, 10]], float)
    pred = np.array([[0, 0, 10, 10], [50, 50, 5, 5], [50, 50, 5, 5], [50, 50, 5, 5], [0, 0, 10, 10]], float)
    absent = np.array([False, False, False, True, False])
    assert valid_frames(gt, absent).tolist() == [True, False, False, False, True]
    m = sequence_metrics(pred, gt, absent)
    assert m.frames == 2 and m.ao == 1.0 and m.success_auc == pytest.approx(20 / 21)
    assert sequence_metrics(pred, gt).frames == 3  # without the flag frame 3 counts (and fails)


def test_a_tracker_that_gave_up_scores_zero_not_nan():
    gt = np.array([[0, 0, 10, 10]] * 2, float)
    pred = np.array([[0, 0, 10, 10], [np.nan] * 4])
    m = sequence_metrics(pred, gt)
    assert m.ao == 0.5 and m.precision_20 == 0.5 and np.isfinite(m.norm_precision)


def test_norm_precision_is_the_mean_of_its_curve_and_its_value_at_0_2():
    gt = np.array([[0, 0, 100, 100]] * 4, float)
    pred = gt + np.array([[0, 0, 0, 0], [10, 0, 0, 0], [30, 0, 0, 0], [60, 0, 0, 0]])  # 0, .1, .3, .6
    m = sequence_metrics(pred, gt)
    expected = np.mean([np.mean(np.array([0, 0.1, 0.3, 0.6]) <= t) for t in NORM_PRECISION_THRESHOLDS])
    assert m.norm_precision == pytest.approx(expected)
    assert m.norm_precision_at_0_2 == 0.5


def test_summary_averages_curves_per_sequence_but_pools_ao_over_frames():
    gt = np.array([[0, 0, 10, 10]] * 4, float)
    perfect = sequence_metrics(gt[:1], gt[:1])  # 1 frame, IoU 1
    missed = sequence_metrics(gt[:3] + 100, gt[:3])  # 3 frames, IoU 0
    pooled = np.array([1.0, 0.0, 0.0, 0.0])
    summary = mean_metrics([perfect, missed], pooled)
    assert summary.success_auc == pytest.approx((perfect.success_auc + missed.success_auc) / 2)
    assert summary.ao == pytest.approx(0.25) and summary.sr50 == pytest.approx(0.25)
    assert mean_metrics([perfect, missed]).ao == pytest.approx(0.5)  # without pooling: per-sequence mean


def test_empty_sequence_gives_nan_not_a_crash():
    m = sequence_metrics(np.full((2, 4), 1.0), np.full((2, 4), np.nan))
    assert m.frames == 0 and np.isnan(m.success_auc)


boxes = st.lists(
    st.tuples(st.floats(-50, 500), st.floats(-50, 500), st.floats(0.5, 300), st.floats(0.5, 300)),
    min_size=1, max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(boxes, st.randoms(use_true_random=False))
def test_iou_and_centre_error_equal_got10k_on_random_boxes(gt_rows, rng):
    gt = np.array(gt_rows, float)
    jitter = np.array([[rng.uniform(-40, 40), rng.uniform(-40, 40), rng.uniform(0.5, 2), rng.uniform(0.5, 2)]
                       for _ in gt_rows])
    pred = np.column_stack([gt[:, :2] + jitter[:, :2], gt[:, 2:] * jitter[:, 2:]])
    np.testing.assert_allclose(iou(pred, gt), rect_iou(pred.copy(), gt.copy()), atol=1e-12)
    np.testing.assert_allclose(center_error(pred, gt), got10k_center_error(pred, gt), atol=1e-9)
    assert success_curve(iou(pred, gt))[0] == np.mean(rect_iou(pred.copy(), gt.copy()) > 0)

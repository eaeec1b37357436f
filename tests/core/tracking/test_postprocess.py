"""Post-processing on synthetic maps: right peak and box, the window and the penalties matter."""
from __future__ import annotations

import numpy as np
import pytest

from core.tracking.postprocess import box_spread, cosine_window, decide, predicted_boxes

SIZE = 17
STRIDE = 8.0
CENTRE = 127.5


def cell_centres() -> np.ndarray:
    """Continuous crop coordinates of a 17x17 grid with stride 8 centred in a 255 crop."""
    offsets = (np.arange(SIZE) - SIZE // 2) * STRIDE + CENTRE
    xs, ys = np.meshgrid(offsets, offsets)
    return np.stack([xs, ys], axis=-1)


def reg_for_box(w: float, h: float, count: int = 1) -> np.ndarray:
    """(l, r, t, b) at every cell describing a w x h box centred on that cell."""
    reg = np.empty((count, 4, SIZE, SIZE))
    reg[:, 0] = reg[:, 1] = w / 2
    reg[:, 2] = reg[:, 3] = h / 2
    return reg


def run(score, reg, previous=(40.0, 40.0), window_influence=0.4, penalty_k=0.1, size_lr=0.5):
    score = np.asarray(score, dtype=np.float64)
    return decide(score[None] if score.ndim == 2 else score, reg, cell_centres(),
                  np.asarray([previous] * (1 if score.ndim == 2 else len(score))), cosine_window(SIZE, SIZE),
                  window_influence, penalty_k, size_lr)


def test_predicted_boxes_from_distances():
    reg = np.zeros((1, 4, SIZE, SIZE))
    reg[0, :, 3, 5] = [10, 30, 4, 8]  # l, r, t, b
    cx, cy, w, h = predicted_boxes(reg, cell_centres())
    centre_x, centre_y = cell_centres()[3, 5]
    assert (cx[0, 3, 5], cy[0, 3, 5], w[0, 3, 5], h[0, 3, 5]) == (centre_x + 10, centre_y + 2, 40, 12)


def test_picks_the_peak_and_its_box():
    score = np.full((SIZE, SIZE), 0.05)
    score[6, 10] = 0.9
    reg = reg_for_box(40, 40)
    reg[0, :, 6, 10] = [20, 24, 18, 22]
    decision = run(score, reg)
    assert tuple(decision.index[0]) == (6, 10)
    centre = cell_centres()[6, 10]
    np.testing.assert_allclose(decision.center_xy[0], [centre[0] + 2, centre[1] + 2])
    assert decision.score[0] == pytest.approx(0.9)


def test_size_moves_towards_prediction_by_penalised_confident_rate():
    score = np.zeros((SIZE, SIZE))
    score[8, 8] = 1.0
    decision = run(score, reg_for_box(60, 60), previous=(40.0, 40.0), penalty_k=0.0, size_lr=0.5)
    # lr = penalty(1) * score(1) * 0.5 -> halfway from 40 to 60
    np.testing.assert_allclose(decision.size_wh[0], [50.0, 50.0])
    low = np.zeros((SIZE, SIZE))
    low[8, 8] = 0.2
    np.testing.assert_allclose(run(low, reg_for_box(60, 60), penalty_k=0.0, size_lr=0.5).size_wh[0], [42.0, 42.0])


def test_cosine_window_prefers_the_centre_over_an_equal_far_peak():
    score = np.zeros((SIZE, SIZE))
    score[8, 9] = 0.8
    score[0, 0] = 0.8
    assert tuple(run(score, reg_for_box(40, 40)).index[0]) == (8, 9)
    # A far peak clearly stronger than the near one wins when the window has little weight ...
    score[0, 0] = 1.0
    score[8, 9] = 0.5
    assert tuple(run(score, reg_for_box(40, 40), window_influence=0.05).index[0]) == (0, 0)
    # ... and loses when the window dominates: without the window this test fails.
    assert tuple(run(score, reg_for_box(40, 40), window_influence=0.6).index[0]) == (8, 9)


def test_scale_penalty_prefers_the_box_of_the_previous_size():
    score = np.zeros((SIZE, SIZE))
    score[8, 7] = 0.8
    score[8, 9] = 0.7
    reg = reg_for_box(40, 40)
    reg[0, :, 8, 7] = 60  # a 120x120 box, three times the previous size
    assert tuple(run(score, reg, penalty_k=0.0).index[0]) == (8, 7)
    assert tuple(run(score, reg, penalty_k=0.2).index[0]) == (8, 9)


def test_aspect_penalty_prefers_the_previous_shape():
    score = np.zeros((SIZE, SIZE))
    score[8, 7] = 0.8
    score[8, 9] = 0.7
    reg = reg_for_box(40, 40)
    reg[0, :, 8, 7] = [40, 40, 10, 10]  # 80x20: same context area order, aspect 4
    assert tuple(run(score, reg, penalty_k=0.0).index[0]) == (8, 7)
    assert tuple(run(score, reg, penalty_k=0.2).index[0]) == (8, 9)


def test_batch_decisions_are_independent():
    scores = np.zeros((3, SIZE, SIZE))
    scores[0, 2, 3] = scores[1, 8, 8] = scores[2, 14, 12] = 0.9
    decision = run(scores, reg_for_box(40, 40, count=3), window_influence=0.1)
    assert [tuple(i) for i in decision.index] == [(2, 3), (8, 8), (14, 12)]


def test_non_finite_maps_do_not_crash():
    score = np.full((SIZE, SIZE), np.nan)
    reg = np.full((1, 4, SIZE, SIZE), np.inf)
    decision = run(score, reg)
    assert np.isfinite(decision.center_xy).all() and np.isfinite(decision.size_wh).all()
    assert decision.score[0] == 0.0


PEAK = (8, 8)
NEIGHBOURS = ((7, 8), (9, 8), (8, 7), (8, 9))


def peak_of_five() -> np.ndarray:
    """A fused map whose five best cells are (8, 8) and its four neighbours."""
    score = np.full((SIZE, SIZE), 0.05)
    score[PEAK] = 0.95
    for cell in NEIGHBOURS:
        score[cell] = 0.8
    return score


def reg_towards(reg: np.ndarray, cell: tuple[int, int], cx: float, cy: float, w: float, h: float) -> None:
    """Set the (l, r, t, b) of one cell so that it regresses the box (cx, cy, w, h)."""
    x, y = cell_centres()[cell]
    reg[0, :, cell[0], cell[1]] = [x - (cx - w / 2), cx + w / 2 - x, y - (cy - h / 2), cy + h / 2 - y]


def test_box_spread_is_zero_where_the_best_cells_agree_on_the_box():
    reg = reg_for_box(40, 40)
    for cell in (PEAK, *NEIGHBOURS):  # every cell on the target regresses the same 40 x 40 box
        reg_towards(reg, cell, CENTRE + 3, CENTRE - 2, 40, 40)
    spread = box_spread(peak_of_five()[None], reg, cell_centres())
    assert spread.shape == (1,) and spread[0] == pytest.approx(0.0, abs=1e-9)
    assert run(peak_of_five(), reg).spread[0] == pytest.approx(0.0, abs=1e-9)  # the decision reports it


def test_box_spread_is_large_where_the_best_cells_disagree_on_the_box():
    reg = reg_for_box(40, 40)
    reg_towards(reg, PEAK, CENTRE, CENTRE, 40, 40)
    for row, col in NEIGHBOURS:  # each neighbour frames something 30 px further out on its side
        reg_towards(reg, (row, col), CENTRE + (col - 8) * 30.0, CENTRE + (row - 8) * 30.0, 40, 40)
    spread = box_spread(peak_of_five()[None], reg, cell_centres())[0]
    assert spread > 0.8
    assert run(peak_of_five(), reg).spread[0] == pytest.approx(spread)
    # half-way: the neighbours frame the same centre at twice the size (IoU 1/4 each)
    for cell in NEIGHBOURS:
        reg_towards(reg, cell, CENTRE, CENTRE, 80, 80)
    assert box_spread(peak_of_five()[None], reg, cell_centres())[0] == pytest.approx(0.75)


def test_box_spread_of_a_batch_and_of_empty_maps():
    reg = np.concatenate([reg_for_box(40, 40), reg_for_box(40, 40)])
    reg_towards(reg[1:], PEAK, CENTRE, CENTRE, 80, 80)  # target 1's peak frames a box twice the size
    spread = box_spread(np.stack([peak_of_five(), peak_of_five()]), reg, cell_centres())
    assert spread[0] < spread[1]
    empty = box_spread(np.full((1, SIZE, SIZE), np.nan), np.full((1, 4, SIZE, SIZE), np.inf), cell_centres())
    assert np.isfinite(empty).all() and 0.0 <= empty[0] <= 1.0

"""Per-target adaptation: the refitted classifier, the box calibration, and the tracker using them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.tracking.adaptation import (
    AdaptationConfig,
    BoxCalibration,
    ViewLabels,
    adapted_logits,
    calibrate,
    fit_classifier,
    view_labels,
)

TRUE_BOX = np.array([24.0, 24.0, 88.0, 88.0])  # crop pixels, centred on cell (3, 3)
WRONG_BOX = np.array([80.0, 80.0, 144.0, 144.0])  # centred on cell (7, 7)


def _grid(size: int = 8, stride: float = 16.0) -> torch.Tensor:
    centres = torch.arange(size, dtype=torch.float32) * stride
    ys, xs = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack((xs, ys), dim=-1)


def test_view_labels_mark_the_box_positive_and_weigh_cells_under_a_wrong_box():
    cells = _grid()
    labels = view_labels(TRUE_BOX, [WRONG_BOX], cells, 5.0)
    assert labels.labels[3, 3] == 1.0  # cell (48, 48) is inside the true box's inner ellipse
    assert labels.labels[3, 5] == -1.0  # cell (80, 48): between the two ellipses, ignored
    assert labels.labels[0, 7] == 0.0
    assert labels.weights[7, 7] == 5.0 and labels.labels[7, 7] == 0.0  # cell (112, 112): under the wrong box
    assert labels.weights[0, 0] == 1.0


def test_refit_ranks_the_target_above_the_distractor_the_offline_layer_preferred():
    """Feature 0 fires on the target and on a look-alike, feature 1 only on the target: the offline
    layer (weight on feature 0) scores them equal; views with the look-alike as a wrong box teach
    the layer to use feature 1."""
    generator = torch.Generator().manual_seed(0)
    features = torch.rand(3, 4, 8, 8, generator=generator) * 0.1
    features[:, 0:2, 3:5, 3:5] = 1.0  # the target (its four positive cells)
    features[:, 0, 6:8, 6:8] = 1.0  # the look-alike: only feature 0
    cells = _grid()
    views = [view_labels(TRUE_BOX, [WRONG_BOX], cells, 4.0) for _ in range(3)]
    prior_weight, prior_bias = torch.tensor([4.0, 0.0, 0.0, 0.0]), torch.tensor(-2.0)
    before = adapted_logits(features[:1], prior_weight[None], prior_bias[None])[0, 0]
    assert before[3, 3] == pytest.approx(float(before[7, 7]), abs=0.5)
    weight, bias = fit_classifier(features, views, prior_weight, prior_bias, AdaptationConfig(prior=0.1))
    after = adapted_logits(features[:1], weight[None], bias[None])[0, 0]
    assert after[3, 3] > after[7, 7] + 1.0


def test_refit_without_both_kinds_of_cell_keeps_the_offline_layer():
    features = torch.rand(1, 4, 8, 8)
    empty = ViewLabels(torch.zeros(8, 8), torch.ones(8, 8))
    weight, bias = fit_classifier(features, [empty], torch.ones(4), torch.tensor(0.5), AdaptationConfig())
    assert torch.equal(weight, torch.ones(4)) and float(bias) == 0.5


def test_calibration_is_a_shrunk_mean_and_converts_both_ways():
    drawn = [(10.0, 10.0, 40.0, 20.0), (12.0, 8.0, 40.0, 20.0)]
    predicted = [(10.0, 10.0, 50.0, 20.0), (12.0, 8.0, 50.0, 20.0)]  # the network draws 25% wider
    calibration = calibrate(drawn, predicted, prior_views=1.0)
    assert calibration.log_w == pytest.approx(2 * np.log(40 / 50) / 3)
    assert calibration.log_h == 0.0
    center, size = calibration.to_drawn((100.0, 50.0), (50.0, 20.0))
    back_center, back_size = calibration.to_network(center, size)
    assert back_center == pytest.approx((100.0, 50.0)) and back_size == pytest.approx((50.0, 20.0))
    assert size[0] < 50.0
    assert BoxCalibration().to_drawn((1.0, 2.0), (3.0, 4.0)) == ((1.0, 2.0), (3.0, 4.0))

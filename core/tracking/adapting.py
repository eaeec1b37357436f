"""The tracker's side of per-target adaptation: the network's views of a target's keyframes.

core.tracking.adaptation holds the maths (labels per view, the classifier refit, the box
calibration); this module runs the network for it (``SiamCrossTracker.adapt_target``) and
puts an adapted classifier's logits into a tracking pass (``with_adapted_logits``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from core.model import HeadOutput, TemplateEncoding

from .adaptation import (
    AdaptationConfig,
    AdaptedClassifier,
    BoxCalibration,
    Evidence,
    ViewLabels,
    adapted_logits,
    calibrate,
    fit_classifier,
    view_labels,
)
from .crops import crop_many
from .inputs import check_frame, normalise_box
from .postprocess import predicted_boxes
from .runtime.runner import NetworkRunner
from .search import SearchGeometry
from .state import TargetState


def adapt_target(runner: NetworkRunner, geometry: SearchGeometry, state: TargetState,
                 evidence: Sequence[Evidence], config: AdaptationConfig | None = None) -> AdaptedClassifier | None:
    """Teach a just-initialised target what the person's keyframes say: a refitted last
    classification layer and the person's box convention (see ``SiamCrossTracker.adapt_target``)."""
    config = config or AdaptationConfig()
    views = list(evidence)[:config.max_views]  # callers pass the nearest first
    wrong = sum(len(v.wrong_boxes) for v in views)
    if len(views) < 2 and wrong == 0:
        state.classifier = None
        return None
    crops: list[np.ndarray] = []
    labels: list[ViewLabels] = []
    truths: list[np.ndarray] = []
    own_views: list[int] = []
    cells = torch.as_tensor(geometry.cells, dtype=torch.float32)
    for view in views:
        frame = check_frame(view.frame_bgr)
        height, width = frame.shape[:2]
        truth = normalise_box(view.box_xywh, width, height)
        centres = [truth] + [normalise_box(b, width, height) for b in view.wrong_boxes]
        for index, (x, y, w, h) in enumerate(centres):
            window = geometry.search_window((x + w / 2.0, y + h / 2.0), (w, h))
            crop_box = window.box_to_crop_xyxy(truth)
            if index == 0:
                own_views.append(len(crops))
                truths.append(crop_box)
            crops.append(crop_many(frame, [window])[0])
            labels.append(view_labels(crop_box, [window.box_to_crop_xyxy(b) for b in centres[1:]], cells,
                                      config.hard_negative_weight))
    out = runner.run(lambda: view_outputs(runner, np.stack(crops), state))
    weight = bias = None
    if config.refit_classifier and runner.offline_classifier is not None:
        assert out.cls_features is not None  # view_outputs keeps them
        weight, bias = fit_classifier(out.cls_features, labels, *runner.offline_classifier, config)
    calibration = BoxCalibration()
    if config.calibrate_boxes:
        predicted = peak_boxes(geometry, out, own_views, truths)
        drawn = [(b[0], b[1], b[2] - b[0], b[3] - b[1]) for b in truths]
        calibration = calibrate(drawn, predicted, config.calibration_prior_views)
        state.center_xy, state.size_wh = calibration.to_network(state.center_xy, state.size_wh)
    state.classifier = AdaptedClassifier(weight, bias, views=len(views), wrong_views=wrong, calibration=calibration)
    return state.classifier


def view_outputs(runner: NetworkRunner, crops: np.ndarray, state: TargetState) -> HeadOutput:
    """The network's outputs on n search crops under one template, on the CPU in float32,
    with the cls tower's output kept."""
    net = runner.net
    with torch.inference_mode():
        template = TemplateEncoding.cat([state.template] * len(crops))
        out = net.decode(template, net.encode_search(runner.to_input(crops)), keep_cls_features=True)
        assert out.cls_features is not None
        cpu = lambda t: t.to("cpu", torch.float32)  # noqa: E731
        return HeadOutput(cpu(out.cls_logits), cpu(out.align_logits), cpu(out.reg), cpu(out.cls_features))


def peak_boxes(geometry: SearchGeometry, out: HeadOutput, rows: list[int],
               truths: list[np.ndarray]) -> list[tuple[float, float, float, float]]:
    """The box the tracker would report on each view centred on its drawn box (x, y, w, h crop px):
    the regression at the cell the post-processing picks, unsmoothed."""
    maps = out.stacked_maps(geometry.omega).numpy()[rows]
    sizes = np.array([[b[2] - b[0], b[3] - b[1]] for b in truths], dtype=np.float64)
    decision = geometry.decide(maps, sizes)
    cx, cy, w, h = predicted_boxes(maps[:, 3:7].astype(np.float64), geometry.cells)
    boxes = []
    for i, (row, col) in enumerate(decision.index):
        bw, bh = float(w[i, row, col]), float(h[i, row, col])
        boxes.append((float(cx[i, row, col]) - bw / 2, float(cy[i, row, col]) - bh / 2, bw, bh))
    return boxes


def with_adapted_logits(out: HeadOutput, classifiers: list, rows: list[int]) -> HeadOutput:
    """``out`` with the cls logits of batch rows ``rows`` from their adapted classifiers."""
    assert out.cls_features is not None
    weight = torch.stack([c.weight for c in classifiers])
    bias = torch.stack([c.bias.reshape(()) for c in classifiers])
    logits = out.cls_logits.clone()
    logits[rows] = adapted_logits(out.cls_features[rows], weight, bias).to(logits.dtype)
    return HeadOutput(logits, out.align_logits, out.reg)

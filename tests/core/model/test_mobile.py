"""The torch NanoTrack v2 backbone and the converted head reproduce the ONNX models (run by
OpenCV's dnn module, as OpenCV's TrackerNano runs them) on real crops."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.model.config import lite_config
from core.model.mobile_backbone import NanoTrackV2Backbone
from core.model.siamcross import SiamCrossNet, TemplateEncoding

TOLERANCE = 1e-4  # relative to the output's scale


def _crops(seqs_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    frame = cv2.imread(str(seqs_dir / "Car4" / "img" / "0001.jpg"), cv2.IMREAD_COLOR)
    template = cv2.resize(frame[40:200, 40:200], (127, 127))
    search = cv2.resize(frame[0:240, 20:300], (255, 255))
    return template, search


def _onnx(path: Path, inputs: dict[str, np.ndarray], outputs: list[str] | None = None) -> list[np.ndarray]:
    net = cv2.dnn.readNet(str(path))
    for name, value in inputs.items():
        net.setInput(value, name)
    return [o.copy() for o in net.forward(outputs)] if outputs else [net.forward().copy()]


def _to_tensor(image_bgr: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image_bgr.transpose(2, 0, 1)[None].astype(np.float32))


def _relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.abs(ours - theirs).max() / max(float(np.abs(theirs).max()), 1e-6))


@pytest.fixture(scope="module")
def onnx_features(seqs_dir, nanotrack_dir):
    template, search = _crops(seqs_dir)
    backbone = nanotrack_dir / "v2" / "nanotrack_backbone_sim.onnx"
    feats = [_onnx(backbone, {"": cv2.dnn.blobFromImage(img, 1.0, swapRB=True)})[0] for img in (template, search)]
    return template, search, feats[0], feats[1]


def test_backbone_reads_bgr_and_matches_the_onnx_backbone(onnx_features):
    template, search, template_onnx, search_onnx = onnx_features
    backbone = NanoTrackV2Backbone()
    backbone.load_pretrained()
    with torch.no_grad():
        ours = [backbone(_to_tensor(img))[0].numpy() for img in (template, search)]
    assert ours[0].shape == (1, 48, 8, 8) and ours[1].shape == (1, 48, 16, 16)
    assert _relative_error(ours[0], template_onnx) < TOLERANCE
    assert _relative_error(ours[1], search_onnx) < TOLERANCE


def test_untrained_additions_leave_the_converted_head_equal_to_nanotrack(onnx_features, nanotrack_dir):
    """SCAN, the max-pool gate and the spatial gate start at zero: classification and box maps
    are NanoTrack v2's (its 2-way softmax as one logit, its l,t,r,b as l,r,t,b)."""
    _, _, template_features, search_features = onnx_features
    head = nanotrack_dir / "v2" / "nanotrack_head_sim.onnx"
    cls, loc = _onnx(head, {"input1": template_features, "input2": search_features}, ["output1", "output2"])
    net = SiamCrossNet(lite_config()).eval()
    with torch.no_grad():
        encoding = TemplateEncoding((torch.from_numpy(template_features),), torch.ones(1, 1, 8, 8))
        out = net.decode(encoding, [torch.from_numpy(search_features)])
    probability = np.exp(cls[0, 1]) / (np.exp(cls[0, 0]) + np.exp(cls[0, 1]))
    assert np.abs(torch.sigmoid(out.cls_logits)[0, 0].numpy() - probability).max() < TOLERANCE
    assert _relative_error(out.reg[0].numpy(), loc[0][[0, 2, 1, 3]]) < TOLERANCE


def test_response_grid_puts_the_middle_cell_on_the_search_centre():
    net = SiamCrossNet(lite_config(), pretrained_backbone=False)
    cells = net.locations()
    assert tuple(cells.shape) == (16, 16, 2)
    assert cells[8, 8].tolist() == [127.0, 127.0]
    assert float(cells[0, 1, 0] - cells[0, 0, 0]) == 16.0

"""Label assignment and the SiamCross loss, down to training on one real pair."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.model import SiamCrossNet, TemplateEncoding, lite_config
from core.model.geometry import ltrb_to_boxes, output_locations
from core.training.labels import align_targets, build_targets
from core.training.losses import SiamCrossLoss, balanced_bce, iou_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")


LOCATIONS = output_locations(25, 8, 127, 4)  # cell (i, j) at pixel (31 + 8j, 31 + 8i)
CENTRE_BOX = torch.tensor([[95.0, 111.0, 159.0, 143.0]])  # centred on 127, 64 x 32


def _cells(mask: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(i) - 12, int(j) - 12) for i, j in torch.nonzero(mask)}


def test_cls_labels_follow_siamban_ellipses():
    cls = build_targets(CENTRE_BOX, LOCATIONS).cls[0, 0]
    # positives: inside the ellipse with semi-axes (16, 8) around the centre
    assert _cells(cls == 1) == {(0, -2), (0, -1), (0, 0), (0, 1), (0, 2), (-1, 0), (1, 0)}
    # negatives: outside the ellipse with semi-axes (32, 16); in between is ignored
    ignored = _cells(cls == -1)
    assert (0, 4) in ignored and (2, 0) in ignored and (1, 3) in ignored
    assert (0, 5) not in ignored and cls[12, 12 + 5] == 0 and cls[12 + 3, 12] == 0
    assert cls.numel() == int((cls == 1).sum() + (cls == 0).sum() + (cls == -1).sum())


def test_reg_targets_and_positives_within_16_px_inside_the_box():
    targets = build_targets(CENTRE_BOX, LOCATIONS)
    assert targets.reg[0, :, 12, 12].tolist() == [32.0, 32.0, 16.0, 16.0]
    assert targets.reg[0, :, 11, 13].tolist() == [40.0, 24.0, 8.0, 24.0]
    expected = {(0, -2), (0, -1), (0, 0), (0, 1), (0, 2)} | {(dy, dx) for dy in (-1, 1) for dx in (-1, 0, 1)}
    assert _cells(targets.reg_weight[0, 0] > 0) == expected
    boxes = ltrb_to_boxes(targets.reg, LOCATIONS)
    assert boxes[0, :, 11, 13].tolist() == CENTRE_BOX[0].tolist()


def test_a_tiny_box_still_gets_one_regression_cell():
    tiny = torch.tensor([[140.0, 140.0, 144.0, 144.0]])  # falls between grid cells
    targets = build_targets(tiny, LOCATIONS)
    assert int(targets.reg_weight.sum()) == 1
    assert _cells(targets.reg_weight[0, 0] > 0) == {(2, 2)}  # cell at (143, 143), the nearest


def test_negative_pairs_and_absent_targets_are_never_positive():
    boxes = torch.cat([CENTRE_BOX, CENTRE_BOX, torch.full((1, 4), float("nan"))])
    targets = build_targets(boxes, LOCATIONS, positive=torch.tensor([True, False, True]))
    assert (targets.cls[0] == 1).any()
    for b in (1, 2):
        assert (targets.cls[b] == 0).all()
        assert targets.reg_weight[b].sum() == 0 and targets.align_candidates[b].sum() == 0
        assert torch.isfinite(targets.reg[b]).all()


def test_align_targets_mark_locations_whose_box_overlaps_enough():
    targets = build_targets(CENTRE_BOX, LOCATIONS)
    perfect = align_targets(targets.reg.clamp(min=0), CENTRE_BOX, LOCATIONS)
    assert torch.equal(perfect, targets.align_candidates)  # every cell inside the box is exact
    assert _cells(perfect[0, 0] > 0) == {(dy, dx) for dy in (-1, 0, 1) for dx in range(-3, 4)}
    too_big = align_targets(targets.reg.clamp(min=0) * 2, CENTRE_BOX, LOCATIONS)
    assert too_big.sum() == 0  # IoU 0.25 everywhere
    slightly_off = targets.reg.clamp(min=0).clone()
    slightly_off[:, 0] += 4  # box 68 instead of 64 wide: IoU 0.94
    assert torch.equal(align_targets(slightly_off, CENTRE_BOX, LOCATIONS), targets.align_candidates)
    negative = align_targets(targets.reg.clamp(min=0), CENTRE_BOX, LOCATIONS, positive=torch.tensor([False]))
    assert negative.sum() == 0


def test_balanced_bce_ignores_minus_one_and_weighs_both_classes_equally():
    labels = torch.tensor([1.0, 0.0, 0.0, 0.0, -1.0])
    logits = torch.tensor([0.0, -2.0, -2.0, -2.0, 0.0])
    loss = balanced_bce(logits, labels)
    expected = 0.5 * (np.log(2) + np.log(1 + np.exp(-2)))
    assert abs(float(loss) - expected) < 1e-5
    changed = logits.clone()
    changed[4] = 30.0
    assert torch.isclose(balanced_bce(changed, labels), loss)


def test_iou_loss_is_minus_log_iou_on_positive_cells():
    target = torch.full((1, 4, 2, 2), 10.0)
    pred = target.clone()
    weight = torch.zeros(1, 1, 2, 2)
    weight[0, 0, 0, 0] = 1
    assert float(iou_loss(pred, target, weight)) == pytest.approx(0.0, abs=1e-6)
    pred[0, 3, 0, 0] = 30.0  # IoU 0.5 at the only weighted cell
    pred[0, :, 1, 1] = 99.0  # unweighted: ignored
    assert float(iou_loss(pred, target, weight)) == pytest.approx(np.log(2), abs=1e-5)
    assert float(iou_loss(pred, target, torch.zeros_like(weight))) == 0.0


def _crop(image: np.ndarray, box_xywh: np.ndarray, out_size: int, context: float = 0.5) -> tuple[np.ndarray, float]:
    """SiamFC crop around the box centre: side sqrt((w+p)(h+p)) * out/127, p = context*(w+h)."""
    x, y, w, h = box_xywh
    pad = context * (w + h)
    side = np.sqrt((w + pad) * (h + pad)) * out_size / 127.0
    scale = out_size / side
    cx, cy = x + w / 2, y + h / 2
    matrix = np.array([[scale, 0, (out_size - 1) / 2 - scale * cx], [0, scale, (out_size - 1) / 2 - scale * cy]])
    mean = [float(v) for v in image.mean(axis=(0, 1))]
    crop = cv2.warpAffine(image, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=mean)
    return crop, scale


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1).float()[None]


def _real_pair(seqs_dir: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Template from frame 1 and search from frame 21 of David, search centred 20 px off."""
    sequence = seqs_dir / "David"
    gt = np.loadtxt(sequence / "groundtruth_rect.txt", delimiter=",")
    gt[:, :2] -= 1  # OTB is 1-based
    first = cv2.imread(str(sequence / "img" / "0001.jpg"))
    later = cv2.imread(str(sequence / "img" / "0021.jpg"))
    template, t_scale = _crop(first, gt[0], 127)
    shifted = gt[20] + np.array([20.0, -12.0, 0, 0])  # the target is not at the search centre
    search, s_scale = _crop(later, shifted, 255)
    w, h = gt[0, 2:] * t_scale
    template_box = torch.tensor([[63 - w / 2, 63 - h / 2, 63 + w / 2, 63 + h / 2]], dtype=torch.float32)
    cx = 127 + (gt[20, 0] + gt[20, 2] / 2 - shifted[0] - shifted[2] / 2) * s_scale
    cy = 127 + (gt[20, 1] + gt[20, 3] / 2 - shifted[1] - shifted[3] / 2) * s_scale
    sw, sh = gt[20, 2:] * s_scale
    search_box = torch.tensor([[cx - sw / 2, cy - sh / 2, cx + sw / 2, cy + sh / 2]], dtype=torch.float32)
    return _to_tensor(template), template_box, _to_tensor(search), search_box


@pytest.mark.slow
def test_training_on_one_real_pair_drives_the_loss_down(seqs_dir):
    """Lite always trains from NanoTrack v2's converted network (from a random init of the whole
    head, the classification loss does not move in these 100 steps), so here the layers that turn
    the towers into logits and distances start untrained, and training must teach them."""
    torch.manual_seed(0)
    net = SiamCrossNet(lite_config(), pretrained_backbone=True)
    untrained = SiamCrossNet(lite_config(), pretrained_backbone=False)
    for name in ("cls_logits", "reg_raw"):
        getattr(net.heads, name).load_state_dict(getattr(untrained.heads, name).state_dict())
    z, z_box, x, x_box = _real_pair(seqs_dir)
    net.eval()
    with torch.no_grad():  # frozen backbone: its features are computed once
        z_backbone, x_backbone = net.backbone_features(z), net.backbone_features(x)
    net.train()
    targets = build_targets(x_box, net.locations())
    assert targets.reg_weight.sum() > 0 and (targets.cls == 1).sum() > 0
    objective = SiamCrossLoss()
    optimizer = torch.optim.SGD(net.head_parameters(), lr=0.003, momentum=0.9)

    def forward():
        template = TemplateEncoding(tuple(net.crop_template(net.neck_features(z_backbone))), net.template_mask(z_box))
        return net.decode(template, net.neck_features(x_backbone))

    history = []
    for _ in range(100):
        terms = objective(forward(), targets)
        optimizer.zero_grad()
        terms.total.backward()
        optimizer.step()
        history.append(terms.as_floats())
    first, last = history[0], history[-1]
    assert last["total"] < 0.3 * first["total"]
    assert last["cls"] < 0.5 * first["cls"] and last["reg"] < 0.5 * first["reg"]
    with torch.no_grad():
        out = forward()
    best = int(out.fused_score(net.config.omega).flatten().argmax())
    size = net.config.output_size
    box = ltrb_to_boxes(out.reg, net.locations())[0, :, best // size, best % size]
    centre = (box[:2] + box[2:]) / 2
    truth = (x_box[0, :2] + x_box[0, 2:]) / 2
    assert torch.linalg.norm(centre - truth) < 12  # the best cell finds the target centre

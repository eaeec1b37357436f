"""Pure tensor ops of the model: xcorr, ellipse masks, output locations, ADCA offsets."""
from __future__ import annotations

import torch
from torchvision.ops import deform_conv2d

from core.model import r50_config
from core.model.geometry import (
    box_deform_offsets,
    box_iou_ltrb,
    deform_sampling_points,
    ellipse_mask,
    ltrb_to_boxes,
    output_locations,
    xcorr_depthwise,
)


def test_xcorr_depthwise_matches_a_naive_loop():
    torch.manual_seed(0)
    search = torch.randn(2, 3, 9, 8)
    kernel = torch.randn(2, 3, 4, 3)
    out = xcorr_depthwise(search, kernel)
    assert out.shape == (2, 3, 6, 6)
    for b in range(2):
        for c in range(3):
            for i in range(6):
                for j in range(6):
                    expected = (search[b, c, i:i + 4, j:j + 3] * kernel[b, c]).sum()
                    assert torch.isclose(out[b, c, i, j], expected, atol=1e-5)


def test_ellipse_mask_marks_exactly_the_cells_inside_the_inscribed_ellipse():
    centres = torch.arange(8, dtype=torch.float32) * 8 + 32  # template cells 4..11, stride 8
    # box centred on cell (3, 3) = pixel (56, 56), 48 wide, 32 high: semi-axes 24 x 16
    box = torch.tensor([[32.0, 40.0, 80.0, 72.0]])
    mask = ellipse_mask(box, centres, centres)[0]
    expected = torch.zeros(8, 8)
    expected[3, 0:7] = 1  # centre row: |dx| <= 24 -> cells 0..6 (boundary counts)
    expected[2, 1:6] = 1  # dy = -8: (dx/24)^2 <= 0.75 -> |dx| <= 20.8 -> cells 1..5
    expected[4, 1:6] = 1
    expected[1, 3] = 1  # dy = -16: on the vertex only
    expected[5, 3] = 1
    assert torch.equal(mask, expected)


def test_ellipse_mask_is_empty_for_absent_or_degenerate_boxes():
    centres = torch.arange(8, dtype=torch.float32) * 8
    boxes = torch.tensor([[float("nan")] * 4, [10.0, 10.0, 10.0, 30.0]])
    assert ellipse_mask(boxes, centres, centres).sum() == 0


def test_output_locations_put_the_middle_cell_on_the_search_centre():
    cfg = r50_config()  # the depthwise xcorr grid (lite's pixel-wise grid: test_model_mobile.py)
    loc = output_locations(cfg.output_size, cfg.stride, cfg.template_size, cfg.template_crop_start)
    assert loc.shape == (25, 25, 2)
    assert loc[12, 12].tolist() == [127.0, 127.0]
    assert loc[0, 0].tolist() == [31.0, 31.0]
    assert loc[0, 1].tolist() == [39.0, 31.0]  # x varies along the last axis


def test_ltrb_round_trip_and_iou():
    loc = output_locations(25, 8, 127, 4)
    reg = torch.zeros(1, 4, 25, 25)
    reg[:, 0], reg[:, 1], reg[:, 2], reg[:, 3] = 10, 20, 5, 15
    boxes = ltrb_to_boxes(reg, loc)
    assert boxes[0, :, 12, 12].tolist() == [117.0, 122.0, 147.0, 142.0]
    a = torch.tensor([10.0, 10.0, 10.0, 10.0])
    b = torch.tensor([10.0, 10.0, 10.0, 30.0])  # same box grown downwards: IoU = 400 / 800
    assert torch.isclose(box_iou_ltrb(a, b), torch.tensor(0.5))
    assert torch.isclose(box_iou_ltrb(a, a), torch.tensor(1.0))


def _reg_map() -> torch.Tensor:
    """A reg map with a different box at every cell (pixels, stride 8)."""
    torch.manual_seed(3)
    return torch.rand(2, 4, 6, 7) * 40 + 1


def test_adca_sampling_points_lie_inside_the_predicted_box():
    reg = _reg_map()
    points = deform_sampling_points(box_deform_offsets(reg, stride=8))  # [B, 9, 2, H, W] cells
    ys = torch.arange(6.0)[:, None]
    xs = torch.arange(7.0)[None, :]
    x1, x2 = xs - reg[:, 0] / 8, xs + reg[:, 1] / 8
    y1, y2 = ys - reg[:, 2] / 8, ys + reg[:, 3] / 8
    py, px = points[:, :, 0], points[:, :, 1]
    assert (px > x1[:, None]).all() and (px < x2[:, None]).all()
    assert (py > y1[:, None]).all() and (py < y2[:, None]).all()
    # the 3x3 points span the box: centre point on the box centre, corners at 1/6 and 5/6
    assert torch.allclose(px[:, 4], (x1 + x2) / 2, atol=1e-5)
    assert torch.allclose(py[:, 0], y1 + (y2 - y1) / 6, atol=1e-5)
    assert torch.allclose(px[:, 8], x1 + 5 * (x2 - x1) / 6, atol=1e-5)


def test_torchvision_deform_conv_samples_where_we_say_it_does():
    """Feed a coordinate ramp through deform_conv2d with a one-hot kernel per point:
    the output is the (y or x) coordinate it sampled, so a (y, x) order mix-up fails."""
    reg = torch.tensor([4.0, 12.0, 6.0, 2.0]).view(1, 4, 1, 1).expand(1, 4, 5, 5).contiguous()
    offsets = box_deform_offsets(reg, stride=8)
    expected = deform_sampling_points(offsets)[0]  # [9, 2, H, W]
    ramp_y = torch.arange(5.0).view(1, 1, 5, 1).expand(1, 1, 5, 5)
    ramp_x = torch.arange(5.0).view(1, 1, 1, 5).expand(1, 1, 5, 5)
    features = torch.cat((ramp_y, ramp_x), dim=1)
    for k in range(9):
        weight = torch.zeros(2, 2, 3, 3)
        weight[0, 0, k // 3, k % 3] = 1.0
        weight[1, 1, k // 3, k % 3] = 1.0
        sampled = deform_conv2d(features, offsets, weight, padding=(1, 1))[0]
        # bilinear sampling of a linear ramp is exact where all taps are inside the map
        inside = ((expected[k] >= 0) & (expected[k] <= 4)).all(dim=0)
        assert inside.sum() >= 4
        assert torch.allclose(sampled[:, inside], expected[k][:, inside], atol=1e-4)


def test_sampling_deform_conv_equals_torchvision_values_and_gradients():
    from core.model.geometry import deform_conv2d_by_sampling

    torch.manual_seed(0)
    features = torch.randn(2, 6, 9, 11, requires_grad=True)
    reg = torch.rand(2, 4, 9, 11) * 60 + 1  # many kernel points fall outside the map
    offsets = box_deform_offsets(reg, stride=8)
    weight = torch.randn(5, 6, 3, 3, requires_grad=True)
    bias = torch.randn(5)
    reference = deform_conv2d(features, offsets, weight, bias, padding=(1, 1))
    ours = deform_conv2d_by_sampling(features, offsets, weight, bias)
    assert torch.allclose(ours, reference, atol=1e-4)
    grad_ref = torch.autograd.grad(reference.square().sum(), (features, weight))
    grad_ours = torch.autograd.grad(ours.square().sum(), (features, weight))
    for a, b in zip(grad_ours, grad_ref):
        assert torch.allclose(a, b, atol=1e-3, rtol=1e-4)

"""Pure tensor operations of the SiamCross geometry (no parameters, tested on tiny tensors).

Conventions: boxes are x1, y1, x2, y2 in crop pixels; regression maps are (l, r, t, b)
distances in crop pixels from a grid location to the box sides; deformable-conv offsets
follow torchvision: for kernel point k (row-major), channel 2k is the y offset and
channel 2k+1 the x offset, in cells.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def xcorr_depthwise(search: Tensor, kernel: Tensor) -> Tensor:
    """Depthwise cross-correlation, batched with groups.

    search [B, C, Hx, Wx], kernel [B, C, Hk, Wk] -> [B, C, Hx-Hk+1, Wx-Wk+1].
    """
    batch, channels = kernel.shape[:2]
    x = search.reshape(1, batch * channels, search.shape[2], search.shape[3])
    k = kernel.reshape(batch * channels, 1, kernel.shape[2], kernel.shape[3])
    out = F.conv2d(x, k, groups=batch * channels)
    return out.reshape(batch, channels, out.shape[2], out.shape[3])


def grid_centres(size: int, stride: float, offset: float) -> Tensor:
    """Pixel coordinate of cells 0..size-1: offset + stride * index (float32)."""
    return offset + stride * torch.arange(size, dtype=torch.float32)


def output_locations(output_size: int, stride: int, template_size: int, crop_start: int) -> Tensor:
    """Search-crop pixel (x, y) of every response-map cell, [H, W, 2].

    Output cell k aligns template cell crop_start with search cell k, so a target
    centred in the template ((T-1)/2) appears at (T-1)/2 + stride * (k - crop_start).
    With 127/255, stride 8, crop from cell 4 and 25 outputs the middle cell is at 127.
    """
    centres = grid_centres(output_size, stride, (template_size - 1) / 2 - stride * crop_start)
    ys, xs = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack((xs, ys), dim=-1)


def centred_locations(output_size: int, stride: int, search_size: int) -> Tensor:
    """Search-crop pixel (x, y) of every cell of a response map on the search grid itself
    (pixel-wise correlation), [H, W, 2]: cell n//2 on the crop centre pixel S//2, as
    pysot's anchor-free points and OpenCV's NanoTrack put it."""
    centres = grid_centres(output_size, stride, search_size // 2 - stride * (output_size // 2))
    ys, xs = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack((xs, ys), dim=-1)


def ellipse_mask(boxes_xyxy: Tensor, xs: Tensor, ys: Tensor, scale: float = 0.5) -> Tensor:
    """1 where a cell centre lies inside the box's ellipse, [B, H, W] float.

    The ellipse is centred on the box with semi-axes scale*w and scale*h (0.5 is the
    inscribed ellipse of SCAN's look-up-table values; SiamBAN's labels use 0.25 and 0.5).
    xs [W] and ys [H] are cell centres in the same pixels as the boxes. Boundary points
    count as inside; degenerate (zero-size) or NaN boxes give an empty mask.
    """
    cx = ((boxes_xyxy[:, 0] + boxes_xyxy[:, 2]) / 2)[:, None, None]
    cy = ((boxes_xyxy[:, 1] + boxes_xyxy[:, 3]) / 2)[:, None, None]
    ax = ((boxes_xyxy[:, 2] - boxes_xyxy[:, 0]) * scale)[:, None, None]
    ay = ((boxes_xyxy[:, 3] - boxes_xyxy[:, 1]) * scale)[:, None, None]
    dx = xs.to(boxes_xyxy)[None, None, :] - cx
    dy = ys.to(boxes_xyxy)[None, :, None] - cy
    valid = (ax > 0) & (ay > 0)
    inside = (dx / ax.clamp(min=1e-6)) ** 2 + (dy / ay.clamp(min=1e-6)) ** 2 <= 1.0
    return (inside & valid).to(boxes_xyxy.dtype)


def ltrb_to_boxes(reg: Tensor, locations: Tensor) -> Tensor:
    """(l, r, t, b) maps [B, 4, H, W] + locations [H, W, 2] -> x1, y1, x2, y2 maps [B, 4, H, W]."""
    lx = locations[..., 0].to(reg)
    ly = locations[..., 1].to(reg)
    return torch.stack((lx - reg[:, 0], ly - reg[:, 2], lx + reg[:, 1], ly + reg[:, 3]), dim=1)


def box_deform_offsets(reg: Tensor, stride: float, kernel_size: int = 3) -> Tensor:
    """Deformable-conv offsets that put a kxk kernel onto the box predicted at each cell.

    reg [B, 4, H, W] (l, r, t, b) in pixels on a grid with ``stride`` pixels per cell ->
    offsets [B, 2*k*k, H, W] (torchvision order: dy then dx per kernel point, in cells).
    The k*k points go to the centres of a kxk subdivision of the box (Cascade-RPN's
    adaptive conv), so every point lies strictly inside the predicted box; the regular
    position of kernel point (i, j) is (y + i - k//2, x + j - k//2) with padding k//2.
    """
    batch, _, height, width = reg.shape
    half = kernel_size // 2
    left, right, top, bottom = (reg[:, i] / stride for i in range(4))
    steps = (torch.arange(kernel_size, dtype=reg.dtype, device=reg.device) + 0.5) / kernel_size
    # target positions relative to the cell, per kernel index: x1 + w * (j + 0.5) / k
    box_w = left + right
    box_h = top + bottom
    target_dx = -left[:, None] + box_w[:, None] * steps[None, :, None, None]  # [B, k, H, W]
    target_dy = -top[:, None] + box_h[:, None] * steps[None, :, None, None]
    regular = torch.arange(kernel_size, dtype=reg.dtype, device=reg.device) - half
    off_x = target_dx - regular[None, :, None, None]
    off_y = target_dy - regular[None, :, None, None]
    # kernel point (i, j): dy from row i, dx from column j
    dy = off_y[:, :, None].expand(batch, kernel_size, kernel_size, height, width)
    dx = off_x[:, None, :].expand(batch, kernel_size, kernel_size, height, width)
    offsets = torch.stack((dy, dx), dim=3)  # [B, k, k, 2, H, W]
    return offsets.reshape(batch, 2 * kernel_size * kernel_size, height, width)


def deform_sampling_points(offsets: Tensor, kernel_size: int = 3) -> Tensor:
    """Cell coordinates (y, x) that deform_conv2d samples: [B, k*k, 2, H, W].

    The inverse view of ``box_deform_offsets`` (regular kernel grid plus offsets); used
    by tests and overlays to check where the ADCA kernel looks.
    """
    batch, _, height, width = offsets.shape
    half = kernel_size // 2
    off = offsets.reshape(batch, kernel_size * kernel_size, 2, height, width)
    ys = torch.arange(height, dtype=offsets.dtype, device=offsets.device)[:, None]
    xs = torch.arange(width, dtype=offsets.dtype, device=offsets.device)[None, :]
    rows = torch.arange(kernel_size, device=offsets.device).repeat_interleave(kernel_size) - half
    cols = torch.arange(kernel_size, device=offsets.device).repeat(kernel_size) - half
    base_y = ys[None] + rows.to(offsets.dtype)[:, None, None]
    base_x = xs[None] + cols.to(offsets.dtype)[:, None, None]
    return torch.stack((base_y[None] + off[:, :, 0], base_x[None] + off[:, :, 1]), dim=2)


def box_iou_ltrb(pred: Tensor, target: Tensor, eps: float = 1e-6) -> Tensor:
    """IoU of two boxes given as (l, r, t, b) from the same location, [..., 4] -> [...]."""
    pred_area = (pred[..., 0] + pred[..., 1]) * (pred[..., 2] + pred[..., 3])
    target_area = (target[..., 0] + target[..., 1]) * (target[..., 2] + target[..., 3])
    inter_w = torch.minimum(pred[..., 0], target[..., 0]) + torch.minimum(pred[..., 1], target[..., 1])
    inter_h = torch.minimum(pred[..., 2], target[..., 2]) + torch.minimum(pred[..., 3], target[..., 3])
    inter = inter_w.clamp(min=0) * inter_h.clamp(min=0)
    union = pred_area + target_area - inter
    return inter / union.clamp(min=eps)


def deform_conv2d_by_sampling(features: Tensor, offsets: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The same kxk deformable convolution (stride 1, padding k//2) as
    torchvision.ops.deform_conv2d, built from grid_sample and a matmul.

    For devices without torchvision's kernel (Apple MPS): bilinear sampling with zeros
    outside the map, exactly as torchvision samples. features [B, C, H, W], offsets
    [B, 2*k*k, H, W] (dy, dx per point), weight [Cout, C, k, k] -> [B, Cout, H, W].
    """
    batch, channels, height, width = features.shape
    kernel_size = weight.shape[-1]
    points = deform_sampling_points(offsets, kernel_size)  # [B, k*k, 2, H, W] (y, x) cells
    gx = points[:, :, 1] * (2.0 / max(width - 1, 1)) - 1.0
    gy = points[:, :, 0] * (2.0 / max(height - 1, 1)) - 1.0
    grid = torch.stack((gx, gy), dim=-1).reshape(batch, -1, width, 2)  # [B, k*k*H, W, 2]
    sampled = F.grid_sample(features, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    sampled = sampled.reshape(batch, channels * kernel_size * kernel_size, height * width)
    out = torch.matmul(weight.reshape(weight.shape[0], -1), sampled).reshape(batch, -1, height, width)
    return out if bias is None else out + bias.view(1, -1, 1, 1)

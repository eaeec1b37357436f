"""OpenCV peers behind the MultiTargetTracker protocol, on real shared frames."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import BoxError, ModelError
from core.evaluation.peers import (
    PEER_KINDS,
    OpenCVTracker,
    available_peers,
    canonical_kind,
    clip_box_to_frame,
    make_peer,
    peer_unavailable_reason,
)


def _first_frames(seq_dir: Path, count: int) -> tuple[list[np.ndarray], np.ndarray]:
    frames = [cv2.imread(str(p)) for p in sorted((seq_dir / "img").glob("*.jpg"))[:count]]
    gt = np.loadtxt(seq_dir / "groundtruth_rect.txt", delimiter=",")[:count]
    gt[:, :2] -= 1
    return frames, gt


def test_names_are_canonical_and_unknown_names_are_a_user_error():
    assert canonical_kind("MIL") == "mil"
    assert canonical_kind("nano") == "nano-v2"
    with pytest.raises(ModelError, match="Unknown peer"):
        canonical_kind("siamrpn")


def test_mil_always_available_and_missing_kinds_say_why():
    assert "mil" in available_peers()
    for kind in PEER_KINDS:
        reason = peer_unavailable_reason(kind)
        assert (reason is None) == (kind in available_peers())
        if reason is not None:
            with pytest.raises(ModelError, match="cannot run"):
                make_peer(kind)


def test_nano_without_model_files_is_unavailable(tmp_path):
    assert peer_unavailable_reason("nano-v2", tmp_path) is not None
    assert "nano-v2" not in available_peers(tmp_path)
    with pytest.raises(ModelError, match="not found"):
        OpenCVTracker("nano-v2", peers_dir=tmp_path)


def test_invalid_init_box_is_a_box_error():
    frame = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(BoxError):
        make_peer("mil").init_target(frame, (10, 10, 0, 5))
    with pytest.raises(BoxError):
        make_peer("mil").init_target(frame, (np.nan, 10, 5, 5))


def test_clip_box_keeps_a_valid_box_inside_the_frame():
    assert clip_box_to_frame((-10, 5, 30, 20), 100, 50) == (0.0, 5.0, 20.0, 20.0)
    x, y, w, h = clip_box_to_frame((150, 80, 10, 10), 100, 50)
    assert 0 <= x and x + w <= 100 and 0 <= y and y + h <= 50 and w >= 1 and h >= 1


@pytest.mark.parametrize("kind", ["mil", "nano-v1", "nano-v2"])
def test_peer_follows_a_real_target_for_two_targets_at_once(kind, seqs_dir, nanotrack_dir):
    if kind not in available_peers():
        pytest.skip(peer_unavailable_reason(kind))
    frames, gt = _first_frames(seqs_dir / "Man", 12)
    tracker = make_peer(kind)
    first = tracker.init_target(frames[0], gt[0])
    # a second target elsewhere in the frame proves states are independent
    other_box = (5.0, 5.0, 30.0, 30.0)
    second = tracker.init_target(frames[0], other_box)
    for frame in frames[1:]:
        results = tracker.track_many(frame, [first, second])
    assert len(results) == 2
    target, other = results
    x, y, w, h = target.box_xywh
    gx, gy, gw, gh = gt[-1]
    ix = max(0.0, min(x + w, gx + gw) - max(x, gx))
    iy = max(0.0, min(y + h, gy + gh) - max(y, gy))
    iou = ix * iy / (w * h + gw * gh - ix * iy)
    assert iou > 0.5, f"{kind} lost an easy target: IoU {iou:.2f}"
    assert 0.0 <= target.score <= 1.0
    assert abs(other.box_xywh[0] - gx) > 20  # the other target did not jump onto the first


def test_unclipped_nano_boxes_are_exactly_opencvs_and_clipped_ones_stay_inside(seqs_dir, nanotrack_dir):
    """Deer's target nears the top edge: clip=False is OpenCV's raw box, clip=True the part inside."""
    if "nano-v2" not in available_peers():
        pytest.skip(peer_unavailable_reason("nano-v2"))
    frames, gt = _first_frames(seqs_dir / "Deer", 71)  # it crosses the top edge at frame 67
    raw_cv = cv2.TrackerNano_create(_nano_params(nanotrack_dir / "v2"))
    raw_cv.init(frames[0], tuple(int(round(v)) for v in gt[0]))
    raw, clipped = make_peer("nano-v2", clip=False), make_peer("nano-v2")
    raw_state, clipped_state = raw.init_target(frames[0], gt[0]), clipped.init_target(frames[0], gt[0])
    differed = False
    height, width = frames[0].shape[:2]
    for frame in frames[1:]:
        _, expected = raw_cv.update(frame)
        (a,), (b,) = raw.track_many(frame, [raw_state]), clipped.track_many(frame, [clipped_state])
        assert a.box_xywh == tuple(float(v) for v in expected)
        x, y, w, h = b.box_xywh
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height
        differed |= a.box_xywh != b.box_xywh
    assert differed  # the target did reach the edge, so clipping was exercised


def _nano_params(folder: Path):
    params = cv2.TrackerNano_Params()
    params.backbone = str(folder / "nanotrack_backbone_sim.onnx")
    params.neckhead = str(folder / "nanotrack_head_sim.onnx")
    return params

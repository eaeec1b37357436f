"""SiamCrossTracker on real frames (lite model; untrained heads are fine for these checks)."""
from __future__ import annotations

import dataclasses
import warnings

import cv2
import numpy as np
import pytest
import torch
from support.datasets import read_sequence

from core.errors import BoxError, MediaError
from core.model import SiamCrossNet
from core.tracking import IdentityTracker, SiamCrossTracker, TrackerOptions, TrackResult
from core.tracking.inputs import MIN_BOX_SIDE
from core.tracking.runtime.device import DeviceError, is_out_of_memory, resolve_device


@pytest.fixture(scope="module")
def tracker() -> SiamCrossTracker:
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no trained weights" while resources/models is empty
        return SiamCrossTracker.from_pretrained("lite", device="cpu")


@pytest.fixture(scope="module")
def car4(seqs_dir):
    return read_sequence(seqs_dir, "Car4", 4)


def contains(outer, inner, tol=1e-6) -> bool:
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    return ox - tol <= ix and oy - tol <= iy and ix + iw <= ox + ow + tol and iy + ih <= oy + oh + tol


def test_track_results_have_contract_shapes_and_ranges(tracker, car4):
    frames, box = car4
    height, width = frames[0].shape[:2]
    size = tracker.net.config.output_size
    tracker.init(frames[0], box)
    for frame in frames[1:]:
        result = tracker.track(frame)
        assert isinstance(result, TrackResult)
        assert 0.0 <= result.score <= 1.0
        x, y, w, h = result.box_xywh
        assert all(isinstance(v, float) for v in result.box_xywh)
        assert x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= width + 1e-6 and y + h <= height + 1e-6
        maps = result.maps
        for name in ("cls", "align", "score"):
            values = getattr(maps, name)
            assert values.shape == (size, size) and values.dtype == np.float32, name
            assert np.isfinite(values).all() and values.min() >= 0.0 and values.max() <= 1.0, name
        assert maps.reg.shape == (4, size, size) and maps.reg.dtype == np.float32
        assert np.isfinite(maps.reg).all() and (maps.reg >= 0).all()
        assert contains(result.search_region_xywh, result.box_xywh)
        omega = tracker.net.config.omega
        np.testing.assert_allclose(maps.score, ((1 - omega) * maps.cls + maps.align) / (2 - omega), atol=1e-5)


def maps_extent(tracker: SiamCrossTracker) -> tuple[float, float]:
    """First and last crop pixel (along x, the same along y) the response-map cells cover: the
    cells sit one stride apart at net.locations() and each covers one stride around it."""
    cells = tracker.net.locations().detach().cpu().double().numpy()[..., 0]
    half_cell = tracker.net.config.stride / 2
    return float(cells.min() - half_cell), float(cells.max() + half_cell)


def search_centre(tracker: SiamCrossTracker, region: tuple[float, float, float, float]) -> tuple[float, float]:
    """The search crop's centre in the frame, from the maps' region (which the cell grid need not centre)."""
    lo, hi = maps_extent(tracker)
    rx, ry, rw, _ = region
    scale = rw / (hi - lo)  # frame px per crop px
    half = tracker.net.config.search_size / 2
    return rx + (half - lo) * scale, ry + (half - lo) * scale


def test_search_region_is_centred_on_the_previous_box_with_context(tracker, car4):
    frames, box = car4
    tracker.init(frames[0], box)
    result = tracker.track(frames[1])
    x, y, w, h = box
    p = 0.5 * (w + h)
    side = np.sqrt((w + p) * (h + p)) * 255 / 127
    lo, hi = maps_extent(tracker)
    # lite: 16 cells 16 px apart with cell 8 on crop pixel 127, so the maps reach half a cell
    # further up-left than down-right of the crop centre: that is the region the GUI overlays
    assert (lo, hi) == (-9.0, 247.0)
    rx, ry, rw, rh = result.search_region_xywh
    assert (rw, rh) == pytest.approx((side * (hi - lo) / 255, side * (hi - lo) / 255))
    assert (rx, ry) == pytest.approx((x + w / 2 + (lo - 127.5) * side / 255, y + h / 2 + (lo - 127.5) * side / 255))
    assert search_centre(tracker, result.search_region_xywh) == pytest.approx((x + w / 2, y + h / 2))


@pytest.mark.parametrize("max_batch", [None, 2])
def test_track_many_equals_separate_track_calls(tracker, car4, max_batch):
    """One batched pass gives each target what its own pass gives, frame after frame.

    Each frame starts the single passes from copies of the batched states: float noise
    between batch sizes (~1e-6) would otherwise be amplified by re-cropping over frames.
    """
    frames, box = car4
    boxes = [box, (150.0, 40.0, 60.0, 50.0), (20.0, 100.0, 40.0, 80.0)]
    batched_tracker = SiamCrossTracker(tracker.net, tracker.device,
                                       options=TrackerOptions(max_batch=max_batch))  # 2: passes of 2 + 1
    states = [batched_tracker.init_target(frames[0], start) for start in boxes]
    single = SiamCrossTracker(tracker.net, tracker.device)
    for frame in frames[1:3]:
        copies = [dataclasses.replace(state) for state in states]
        batched = batched_tracker.track_many(frame, states)
        assert len(batched) == 3
        for copy, result in zip(copies, batched):
            single._state = copy
            expected = single.track(frame)
            np.testing.assert_allclose(result.box_xywh, expected.box_xywh, atol=1e-4)
            assert result.score == pytest.approx(expected.score, abs=1e-4)
            np.testing.assert_allclose(result.maps.score, expected.maps.score, atol=1e-4)
            assert result.search_region_xywh == pytest.approx(expected.search_region_xywh)
    assert len({state.center_xy for state in states}) == 3  # the targets stayed apart


def test_track_many_of_no_targets_is_empty(tracker, car4):
    assert tracker.track_many(car4[0][0], []) == []


def test_next_search_is_centred_on_the_last_result_and_keyframes_restart(tracker, car4):
    frames, box = car4
    state = tracker.init_target(frames[0], box)
    first = tracker.track_many(frames[1], [state])[0]
    x, y, w, h = first.box_xywh
    centre = state.center_xy
    if 0 < x and 0 < y and x + w < frames[0].shape[1] and y + h < frames[0].shape[0]:  # unclipped
        assert centre == pytest.approx((x + w / 2, y + h / 2))
    second = tracker.track_many(frames[2], [state])[0]
    assert search_centre(tracker, second.search_region_xywh) == pytest.approx(centre, abs=1e-6)
    again = tracker.init_target(frames[2], (60.0, 40.0, 50.0, 40.0))  # an edited keyframe restarts cleanly
    assert again.box_xywh == pytest.approx((60.0, 40.0, 50.0, 40.0))


@pytest.mark.parametrize("box", [(10, 10, 0, 20), (10, 10, -5, 20), (float("nan"), 10, 20, 20),
                                 (5000, 10, 20, 20), (-100, -100, 50, 50), (1, 2, 3)])
def test_bad_boxes_raise_box_error(tracker, car4, box):
    with pytest.raises(BoxError):
        tracker.init(car4[0][0], box)


def test_bad_frames_raise_media_error(tracker, car4):
    frames, box = car4
    with pytest.raises(MediaError):
        tracker.init(frames[0].astype(np.float32), box)
    tracker.init(frames[0], box)
    with pytest.raises(MediaError):
        tracker.track(cv2.cvtColor(frames[1], cv2.COLOR_BGR2GRAY))


def test_tiny_and_oversized_boxes_are_made_trackable(tracker, car4):
    frame = car4[0][0]
    height, width = frame.shape[:2]
    tiny = tracker.init_target(frame, (100.0, 80.0, 1.0, 0.5))
    assert tiny.size_wh == (MIN_BOX_SIDE, MIN_BOX_SIDE) and tiny.center_xy == pytest.approx((100.5, 80.25))
    huge = tracker.init_target(frame, (-50.0, -50.0, width + 500.0, height + 500.0))
    assert huge.box_xywh == pytest.approx((0.0, 0.0, float(width), float(height)))
    for result in tracker.track_many(car4[0][1], [tiny, huge]):
        assert 0.0 <= result.score <= 1.0 and result.box_xywh[2] > 0


def test_track_before_init_is_a_programming_error():
    net = SiamCrossTracker.__new__(SiamCrossTracker)
    net._state = None
    with pytest.raises(RuntimeError):
        net.track(np.zeros((10, 10, 3), np.uint8))


def test_auto_device_resolves_to_what_the_machine_has():
    choice = resolve_device("auto")
    if torch.cuda.is_available():
        assert choice.device.type == "cuda" and choice.half
    else:
        assert choice.device.type in ("cpu", "mps") and not choice.half
    assert resolve_device("cpu").device == torch.device("cpu")


@pytest.mark.parametrize("spec", ["gpu7", "tpu", "cuda:99"])
def test_unknown_or_missing_devices_raise_device_error(spec):
    with pytest.raises(DeviceError):
        resolve_device(spec)


def test_half_precision_on_cpu_is_refused():
    with pytest.raises(DeviceError):
        resolve_device("cpu", half=True)


def test_out_of_memory_errors_are_recognised():
    assert is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))


def test_identity_tracker_returns_the_start_box(car4):
    frames, box = car4
    identity = IdentityTracker()
    states = [identity.init_target(frames[0], box), identity.init_target(frames[0], (5, 5, 2, 2))]
    results = identity.track_many(frames[1], states)
    assert results[0].box_xywh == pytest.approx(box) and results[0].score == 1.0
    assert results[1].box_xywh == (4.0, 4.0, MIN_BOX_SIDE, MIN_BOX_SIDE)  # grown about its centre
    with pytest.raises(BoxError):
        identity.init_target(frames[0], (0, 0, 0, 5))


def test_prepared_network_gives_the_same_outputs_as_the_plain_one(tracker, car4):
    """from_pretrained folds BatchNorms and, on a CPU, runs the backbone and heads as TorchScript
    traces in channels-last memory; on real crops the outputs match the plain network's."""
    from core.model import load_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = load_model("lite", "cpu")  # the same shipped weights, nothing prepared
    assert tracker.inference_prep.traced and tracker.inference_prep.channels_last
    frame = car4[0][0]
    crop = torch.from_numpy(frame[:255, :255].copy()).permute(2, 0, 1)[None].float()
    template = torch.from_numpy(cv2.resize(frame[40:200, 60:220], (127, 127))).permute(2, 0, 1)[None].float()
    template_box = torch.tensor([[30.0, 30.0, 97.0, 97.0]])
    with torch.inference_mode():
        for fused, reference in zip(tracker.net.backbone_features(crop), plain.backbone_features(crop)):
            torch.testing.assert_close(fused, reference, atol=1e-3, rtol=1e-4)
        ours = tracker.net(template, template_box, crop)
        theirs = plain(template, template_box, crop)
    for name in ("cls_logits", "align_logits", "reg"):
        torch.testing.assert_close(getattr(ours, name), getattr(theirs, name), atol=1e-3, rtol=1e-4)


def _fail_once_on_gpu(victim, state, frame, failure, half: bool):
    """Make ``victim`` believe it runs on CUDA, fail its first step with ``failure`` as a full
    card would, and return (results of the step after the fallback, devices of the attempts)."""
    from core.tracking.runtime.device import DeviceChoice

    victim._runner._choice = DeviceChoice(torch.device("cuda"), half=half)
    attempts = []

    def step():
        attempts.append(victim.device)
        if len(attempts) == 1:
            raise failure
        return victim._track_batch(frame, [state])

    return victim._runner.run(step), attempts


@pytest.mark.parametrize("failure, words", [
    (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB"), "out of memory"),
    (NotImplementedError("deform_conv2d is not implemented for MPS"), "continues on the CPU")])
def test_gpu_failure_continues_on_the_cpu(tracker, car4, caplog, failure, words):
    """A GPU OOM (or a missing GPU operator) mid-track moves the net to the CPU,
    re-encodes the templates and goes on.

    The GPU is simulated: the tracker believes it is on CUDA and the first step fails
    as it would on a full card.
    """

    frames, box = car4
    victim = SiamCrossTracker(tracker.net, "cpu")
    state = victim.init_target(frames[0], box)
    with caplog.at_level("WARNING"):
        results, attempts = _fail_once_on_gpu(victim, state, frames[1], failure, half=False)
    assert victim.device.device.type == "cpu" and not victim.device.half
    assert state.generation == 1 and len(attempts) == 2
    assert 0.0 <= results[0].score <= 1.0
    assert words in caplog.text
    with pytest.raises(ValueError):  # any other error is a bug and is not swallowed
        victim._runner.run(lambda: (_ for _ in ()).throw(ValueError("bug")))


def test_half_precision_path_runs_end_to_end(car4):
    """The fp16 plumbing used on CUDA (inputs, template boxes, maps back to float32),
    exercised on the CPU, which resolve_device never picks for fp16 itself."""
    from core.model import load_model
    from core.tracking.runtime.device import DeviceChoice

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = load_model("lite", "cpu")
    half = SiamCrossTracker(net, DeviceChoice(torch.device("cpu"), half=True), fuse=True)
    assert next(half.net.parameters()).dtype == torch.float16
    frames, box = car4
    states = [half.init_target(frames[0], box), half.init_target(frames[0], (10.0, 10.0, 30.0, 30.0))]
    for result in half.track_many(frames[1], states):
        assert 0.0 <= result.score <= 1.0
        assert result.maps.score.dtype == np.float32 and np.isfinite(result.maps.reg).all()


def test_search_region_puts_each_map_cell_where_the_network_reads_it(tracker, car4):
    """The GUI draws cell (r, c) of the maps at region + (c + 0.5, r + 0.5) * cell size."""
    frames, box = car4
    state = tracker.init_target(frames[0], box)
    window = tracker._geometry.search_window(state.center_xy, state.size_wh)  # the crop the next track() reads
    result = tracker.track_many(frames[1], [state])[0]
    rows, cols = result.maps.score.shape
    x, y, w, h = result.search_region_xywh
    cells = tracker.net.locations().detach().numpy()  # [H, W, 2] crop px
    for r, c in [(0, 0), (rows - 1, cols - 1), (rows // 2, 3)]:
        expected = window.crop_to_frame_xy(float(cells[r, c, 0]), float(cells[r, c, 1]))
        drawn = (x + (c + 0.5) * w / cols, y + (r + 0.5) * h / rows)
        assert drawn == pytest.approx(expected, abs=1e-6)


def _small_r50() -> SiamCrossNet:
    """r50 with random weights on 127 px search crops: its backbone runs on the oneDNN kernels."""
    from core.model import r50_config

    torch.manual_seed(0)
    return SiamCrossNet(dataclasses.replace(r50_config(), search_size=127), pretrained_backbone=False)


@pytest.mark.parametrize("name", ["lite", pytest.param("r50", marks=pytest.mark.slow)])
def test_gpu_fallback_prepares_the_net_as_a_cpu_tracker_does(car4, name):
    """After an fp16 GPU tracker falls back to the CPU, its net runs as on a tracker built on the
    CPU: lite channels-last, r50's backbone on the fused oneDNN kernels (not the slower folded graph)."""
    from core.model import load_model
    from core.tracking.runtime.cpu_kernels import onednn_available
    from core.tracking.runtime.device import DeviceChoice

    if name == "r50" and not onednn_available():
        pytest.skip("this torch build has no oneDNN kernels")
    build = (lambda: load_model("lite", "cpu")) if name == "lite" else _small_r50
    cpu_built = SiamCrossTracker(build(), "cpu", fuse=True).inference_prep
    assert cpu_built.channels_last == (name == "lite") and cpu_built.cpu_kernels == (name == "r50")
    frames, box = car4
    victim = SiamCrossTracker(build(), DeviceChoice(torch.device("cpu"), half=True), fuse=True)
    assert victim.inference_prep.backbone_fused and not victim.inference_prep.cpu_kernels
    state = victim.init_target(frames[0], box)
    results, _ = _fail_once_on_gpu(victim, state, frames[1], torch.cuda.OutOfMemoryError("CUDA out of memory."),
                                   half=True)
    assert victim.inference_prep == cpu_built and not victim.device.half
    assert 0.0 <= results[0].score <= 1.0

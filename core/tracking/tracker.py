"""SiamCrossTracker: template once at init, then one batched network pass per frame.

The network is stateless; everything a target needs between frames (its template
encoding, centre and size in the frame) lives in its ``TargetState``, owned by the
caller. So many targets share one forward pass (``track_many``), and restarting from an
edited keyframe is just a new ``init_target``. ``init``/``track`` are the single-target
convenience of the public contract (DESIGN.md, "Tracker contract").

Coordinates: frames use 0-based continuous pixel coordinates (pixel i covers [i, i+1));
crops map to them through ``CropWindow``; the network's boxes and cell locations are in
the same crop coordinates that training uses (``CropWindow.box_to_crop_xyxy``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from core.model import HeadOutput, PostprocessConfig, SiamCrossNet, TemplateEncoding, load_model

from .adaptation import AdaptationConfig, AdaptedClassifier, BoxCalibration, Evidence, adapted_logits, calibrate, \
    fit_classifier, view_labels
from .crops import CropWindow, context_size, crop_many, crop_window, padding_for, search_size_for
from .device import DeviceChoice, cpu_fallback, is_out_of_memory, resolve_device
from .inference import InferencePrep, prepare_for_inference, use_cpu_speedups
from .inputs import MIN_BOX_SIDE, check_frame, clip_box, normalise_box
from .passes import PassRunner, is_small, split_evenly
from .postprocess import cosine_window, decide, predicted_boxes
from .result import ResponseMaps, TrackResult
from .runtime import keep_freed_memory

log = logging.getLogger(__name__)

CPU_MAX_BATCH = 4
"""Targets per network pass on a CPU. Measured with the EfficientNet-Lite0 lite this version
replaced (2 cores, CPU time per frame; not re-measured since): 1 target 36 ms, 4 targets
130 ms, 16 targets in one pass 760 ms (its ~100 MB activations were mmap-ed afresh every
frame: ~90k page faults) against 4 passes of 4 at ~520 ms. Batching buys nothing more on a
CPU beyond a few targets, and the cap bounds memory. With a small net the passes of one
frame run side by side, one per core (core.tracking.passes)."""


@dataclass(eq=False)
class TargetState:
    """One target between frames (updated in place by ``track_many``).

    template: the network's encoding of the template crop (computed once, at init).
    center_xy, size_wh: the target in frame pixels (continuous coordinates); the size
    is the smoothed tracker size, the centre is kept inside the frame.
    template_crop / template_box_xyxy: the 127 px crop and its box, kept so the encoding
    can be rebuilt on another device (GPU out of memory -> CPU); generation says which
    device placement of the tracker the encoding belongs to. classifier: the target's adapted
    last classification layer (``adapt_target``), None while it uses the offline one.
    """

    template: TemplateEncoding
    center_xy: tuple[float, float]
    size_wh: tuple[float, float]
    template_crop: np.ndarray
    template_box_xyxy: np.ndarray
    generation: int = 0
    classifier: AdaptedClassifier | None = None

    @property
    def box_xywh(self) -> tuple[float, float, float, float]:
        """The state's box (centre and size, not clipped to the frame)."""
        (cx, cy), (w, h) = self.center_xy, self.size_wh
        return (cx - w / 2.0, cy - h / 2.0, w, h)


class SiamCrossTracker:
    """SiamCross single- and multi-target tracker around a ``SiamCrossNet``.

    ``from_pretrained("lite" | "r50" | path, device="auto")`` builds one; the network's
    config supplies crop sizes, the context amount, omega and the post-processing knobs.
    """

    fill_agree_iou: float = 0.3
    """The IoU at which fill's forward and backward passes count as agreeing
    (core.propagation.fusion). Two right Lite passes often overlap by less than the default 0.5
    (their sizes lag differently); at 0.3, fill needed 54 instead of 58 corrections on the
    training sequences and 75 instead of 79 on ../shared/data/seqs (measured with the
    EfficientNet-Lite0 lite this version replaced, 1 thread)."""

    def __init__(self, net: SiamCrossNet, device: DeviceChoice | str = "auto", fuse: bool = False,
                 max_batch: int | None = None, postprocess: PostprocessConfig | None = None,
                 parallel_passes: bool | None = None) -> None:
        """Track with ``net`` on ``device``.

        fuse=True folds every BatchNorm into its conv and, on a CPU, runs lite in channels-last
        memory and r50's backbone (float32) on fused oneDNN kernels (core.tracking.inference;
        the net then serves inference only, so only pass it for a net this tracker owns).
        max_batch caps the targets of one network pass; None picks CPU_MAX_BATCH on a CPU and
        no cap on a GPU. postprocess overrides the model's own post-processing knobs (for
        tuning them; None keeps the model's).
        parallel_passes: one thread per network pass, passes of several targets side by side
        (core.tracking.passes); None picks it for a small net on a CPU.
        """
        self._choice = device if isinstance(device, DeviceChoice) else resolve_device(device)
        self._requested_batch = max_batch
        net.eval()
        if fuse:
            self._net, self._prep = prepare_for_inference(net, self._choice.device, self._choice.dtype)
        else:
            self._net, self._prep = net.to(device=self._choice.device, dtype=self._choice.dtype), InferencePrep()
        if self._choice.device.type == "cpu":
            keep_freed_memory()
        self._max_batch = self._batch_limit()
        self._parallel_request = parallel_passes
        self._passes = self._pass_runner()
        self._generation = 0
        config = net.config
        self._template_size = int(config.template_size)
        self._search_size = int(config.search_size)
        self._context = float(config.context_amount)
        self._omega = float(config.omega)
        self._post = postprocess if postprocess is not None else config.postprocess
        cells = net.locations().detach().to("cpu", torch.float64).numpy()  # [H, W, 2] crop px
        self._cells = cells
        half_cell = float(config.stride) / 2.0  # each map cell covers one stride around its location
        self._maps_extent = (cells[..., 0].min() - half_cell, cells[..., 1].min() - half_cell,
                             cells[..., 0].max() + half_cell, cells[..., 1].max() + half_cell)
        self._window = cosine_window(cells.shape[0], cells.shape[1])
        self._state: TargetState | None = None

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path = "lite", device: str = "auto") -> "SiamCrossTracker":
        """Load named weights ("lite", "r50") or a weights file, on ``device`` ("auto" picks)."""
        choice = resolve_device(device)
        net = load_model(str(name_or_path), choice.device)
        return cls(net, choice, fuse=True)

    # -- properties -----------------------------------------------------------------
    @property
    def device(self) -> DeviceChoice:
        return self._choice

    @property
    def net(self) -> SiamCrossNet:
        return self._net

    @property
    def inference_prep(self) -> InferencePrep:
        """Which inference-only speed-ups this tracker applied to its net."""
        return self._prep

    @property
    def pass_lanes(self) -> int:
        """Network passes run side by side, each on one thread (1: one after another with
        torch's own threads); see core.tracking.passes."""
        return self._passes.workers

    @property
    def runs_passes_on_one_thread(self) -> bool:
        """True where each network pass runs on a single thread (small nets on a CPU)."""
        return self._passes.parallel

    @property
    def score_threshold(self) -> float:
        """Below this score a result is uncertain (from the model's post-processing config)."""
        return float(self._post.score_threshold)

    # -- single target (public contract) --------------------------------------------
    def init(self, frame_bgr: np.ndarray, box_xywh: Sequence[float]) -> None:
        """Start tracking box_xywh (0-based x, y, w, h) in frame_bgr (uint8 HxWx3 BGR)."""
        self._state = self.init_target(frame_bgr, box_xywh)

    def track(self, frame_bgr: np.ndarray) -> TrackResult:
        """Where the target of ``init`` is in frame_bgr."""
        if self._state is None:
            raise RuntimeError("SiamCrossTracker.track() called before init()")
        return self.track_many(frame_bgr, [self._state])[0]

    # -- many targets (MultiTargetTracker protocol) -----------------------------------
    def init_target(self, frame_bgr: np.ndarray, box_xywh: Sequence[float]) -> TargetState:
        """Encode the template of one target; raises BoxError / MediaError for bad input."""
        frame = check_frame(frame_bgr)
        height, width = frame.shape[:2]
        x, y, w, h = normalise_box(box_xywh, width, height)
        center = (x + w / 2.0, y + h / 2.0)
        window = crop_window(center, context_size(w, h, self._context), self._template_size)
        crop = crop_many(frame, [window])[0]
        box_xyxy = window.box_to_crop_xyxy((x, y, w, h))
        template = self._run_with_fallback(lambda: self._stepped(lambda: self._encode(crop, box_xyxy)))
        return TargetState(template=template, center_xy=center, size_wh=(w, h), template_crop=crop,
                           template_box_xyxy=box_xyxy, generation=self._generation)

    def track_many(self, frame_bgr: np.ndarray, targets: Sequence[TargetState]) -> list[TrackResult]:
        """Advance every target to frame_bgr in one batched network pass (passes of at most
        max_batch targets on a CPU); states update in place."""
        frame = check_frame(frame_bgr)
        if not targets:
            return []
        return self._run_with_fallback(lambda: self._stepped(lambda: self._track_batch(frame, list(targets))))

    def adapt_target(self, state: TargetState, evidence: Sequence[Evidence],
                     config: AdaptationConfig | None = None) -> AdaptedClassifier | None:
        """Teach a just-initialised target what the person's keyframes say (core.tracking.adaptation):
        a refitted last classification layer and the person's box convention. Call it right after
        ``init_target`` (the state still holds the drawn box). Returns what was learnt, or None (the
        offline model is kept) for a single view without any correction."""
        config = config or AdaptationConfig()
        views = list(evidence)[:config.max_views]  # callers pass the nearest first
        wrong = sum(len(v.wrong_boxes) for v in views)
        if len(views) < 2 and wrong == 0:
            state.classifier = None
            return None
        crops, labels, truths, own_views = [], [], [], []
        cells = torch.as_tensor(self._cells, dtype=torch.float32)
        for view in views:
            frame = check_frame(view.frame_bgr)
            height, width = frame.shape[:2]
            truth = normalise_box(view.box_xywh, width, height)
            centres = [truth] + [normalise_box(b, width, height) for b in view.wrong_boxes]
            for index, (x, y, w, h) in enumerate(centres):
                side = search_size_for(context_size(w, h, self._context), self._template_size, self._search_size)
                window = crop_window((x + w / 2.0, y + h / 2.0), side, self._search_size)
                crop_box = window.box_to_crop_xyxy(truth)
                if index == 0:
                    own_views.append(len(crops))
                    truths.append(crop_box)
                crops.append(crop_many(frame, [window])[0])
                labels.append(view_labels(crop_box, [window.box_to_crop_xyxy(b) for b in centres[1:]], cells,
                                          config.hard_negative_weight))
        out = self._run_with_fallback(lambda: self._stepped(lambda: self._view_outputs(np.stack(crops), state)))
        weight = bias = None
        if config.refit_classifier:
            layer = self._net.heads.cls_logits
            weight, bias = fit_classifier(out.cls_features, labels, layer.weight.detach().reshape(-1).float().cpu(),
                                          layer.bias.detach().reshape(()).float().cpu(), config)
        calibration = BoxCalibration()
        if config.calibrate_boxes:
            predicted = self._peak_boxes(out, own_views, truths)
            drawn = [(b[0], b[1], b[2] - b[0], b[3] - b[1]) for b in truths]
            calibration = calibrate(drawn, predicted, config.calibration_prior_views)
            state.center_xy, state.size_wh = calibration.to_network(state.center_xy, state.size_wh)
        state.classifier = AdaptedClassifier(weight, bias, views=len(views), wrong_views=wrong,
                                             calibration=calibration)
        return state.classifier

    def _view_outputs(self, crops: np.ndarray, state: TargetState) -> HeadOutput:
        """The network's outputs on n search crops under one template, on the CPU in float32,
        with the cls tower's output kept."""
        with torch.inference_mode():
            template = TemplateEncoding.cat([state.template] * len(crops))
            out = self._net.decode(template, self._net.encode_search(self._to_input(crops)), keep_cls_features=True)
            assert out.cls_features is not None
            cpu = lambda t: t.to("cpu", torch.float32)  # noqa: E731
            return HeadOutput(cpu(out.cls_logits), cpu(out.align_logits), cpu(out.reg), cpu(out.cls_features))

    def _peak_boxes(self, out: HeadOutput, rows: list[int], truths: list[np.ndarray]) -> list[tuple[float, ...]]:
        """The box the tracker would report on each view centred on its drawn box (x, y, w, h crop px):
        the regression at the cell the post-processing picks, unsmoothed."""
        maps = out.stacked_maps(self._omega).numpy()[rows]
        sizes = np.array([[b[2] - b[0], b[3] - b[1]] for b in truths], dtype=np.float64)
        post = self._post
        decision = decide(maps[:, 2], maps[:, 3:7], self._cells, sizes, self._window, post.window_influence,
                          post.penalty_k, post.size_lr)
        cx, cy, w, h = predicted_boxes(maps[:, 3:7].astype(np.float64), self._cells)
        boxes = []
        for i, (row, col) in enumerate(decision.index):
            bw, bh = float(w[i, row, col]), float(h[i, row, col])
            boxes.append((float(cx[i, row, col]) - bw / 2, float(cy[i, row, col]) - bh / 2, bw, bh))
        return boxes

    # -- internals --------------------------------------------------------------------
    def _pass_runner(self) -> PassRunner:
        parallel = self._parallel_request
        if parallel is None:
            parallel = self._choice.device.type == "cpu" and is_small(self._net)
        return PassRunner(parallel)

    def _stepped(self, step):
        with self._passes.step():
            return step()

    def _batch_limit(self) -> int | None:
        if self._requested_batch is not None:
            return max(1, int(self._requested_batch))
        return CPU_MAX_BATCH if self._choice.device.type == "cpu" else None

    def _run_with_fallback(self, step):
        """Run ``step``; if the GPU runs out of memory, or lacks an operator (MPS has no
        deformable convolution in some torchvision builds), continue on the CPU with a warning."""
        try:
            return step()
        except (RuntimeError, NotImplementedError) as error:
            if self._choice.device.type == "cpu":
                raise
            if is_out_of_memory(error):
                log.warning("GPU out of memory on %s; tracking continues on the CPU (slower).", self._choice)
            elif isinstance(error, NotImplementedError):
                log.warning("%s cannot run the network (%s); tracking continues on the CPU.", self._choice, error)
            else:
                raise
            self._choice = cpu_fallback()
            keep_freed_memory()
            self._max_batch = self._batch_limit()
            self._passes.close()
            self._passes = self._pass_runner()
            self._net.to(device=self._choice.device, dtype=self._choice.dtype)
            if self._prep.backbone_fused:  # prepared by this tracker: run as a CPU-built tracker runs
                self._net, self._prep = use_cpu_speedups(self._net, self._prep)
            self._generation += 1
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            return step()

    def _to_input(self, crops: np.ndarray) -> torch.Tensor:
        """uint8 [N, S, S, 3] crops -> float [N, 3, S, S] on the device (uploaded as uint8)."""
        tensor = torch.from_numpy(crops).to(self._choice.device, non_blocking=True)
        return tensor.permute(0, 3, 1, 2).to(self._choice.dtype)

    def _encode(self, crop: np.ndarray, box_xyxy: np.ndarray) -> TemplateEncoding:
        """Template encoding of one uint8 template crop and its x1, y1, x2, y2 box (crop px)."""
        with torch.inference_mode():
            z = self._to_input(crop[None])
            box = torch.as_tensor(box_xyxy[None], dtype=self._choice.dtype, device=self._choice.device)
            return self._net.encode_template(z, box)

    def _response_maps(self, crops: np.ndarray, states: list[TargetState]) -> np.ndarray:
        """One network pass over search crops [n, S, S, 3] -> float32 [n, 7, H, W] numpy maps
        (cls, align, fused score, then reg l, r, t, b), copied to the host in one transfer."""
        adapted = [i for i, s in enumerate(states) if s.classifier is not None and s.classifier.weight is not None]
        with torch.inference_mode():
            x = self._to_input(crops)
            template = states[0].template if len(states) == 1 else TemplateEncoding.cat([s.template for s in states])
            out = self._net.decode(template, self._net.encode_search(x), keep_cls_features=bool(adapted))
            if adapted:
                out = self._with_adapted_logits(out, [states[i].classifier for i in adapted], adapted)
            maps = out.stacked_maps(self._omega).nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
            return maps.to("cpu", torch.float32).numpy()  # one op on the device: numpy's took 5x longer

    @staticmethod
    def _with_adapted_logits(out: HeadOutput, classifiers: list, rows: list[int]) -> HeadOutput:
        """``out`` with the cls logits of batch rows ``rows`` from their adapted classifiers."""
        assert out.cls_features is not None
        weight = torch.stack([c.weight for c in classifiers])
        bias = torch.stack([c.bias.reshape(()) for c in classifiers])
        logits = out.cls_logits.clone()
        logits[rows] = adapted_logits(out.cls_features[rows], weight, bias).to(logits.dtype)
        return HeadOutput(logits, out.align_logits, out.reg)

    def _search_window(self, state: TargetState) -> CropWindow:
        w, h = state.size_wh
        side = search_size_for(context_size(w, h, self._context), self._template_size, self._search_size)
        return crop_window(state.center_xy, side, self._search_size)

    def _maps_region(self, window: CropWindow) -> tuple[float, float, float, float]:
        """The frame rectangle the response-map cells cover (what the GUI overlays the maps on)."""
        u0, v0, u1, v1 = self._maps_extent
        x0, y0 = window.crop_to_frame_xy(u0, v0)
        x1, y1 = window.crop_to_frame_xy(u1, v1)
        return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))

    def _track_batch(self, frame: np.ndarray, states: list[TargetState]) -> list[TrackResult]:
        for state in states:
            if state.generation != self._generation:  # the net moved since this target started
                state.template = self._encode(state.template_crop, state.template_box_xyxy)
                state.generation = self._generation
        windows = [self._search_window(s) for s in states]
        pad = padding_for(frame, windows)  # once for the frame, not once per lane
        ranges = split_evenly(len(states), self._max_batch, self._passes.workers)
        maps = np.concatenate(self._passes.map(  # each pass crops its own targets, in its lane
            lambda r: self._response_maps(crop_many(frame, windows[r.start:r.stop], pad),
                                          states[r.start:r.stop]), ranges))

        scales = np.array([w.out_size / w.side for w in windows])  # crop px per frame px
        previous = np.array([s.size_wh for s in states], dtype=np.float64) * scales[:, None]
        post = self._post
        decision = decide(maps[:, 2], maps[:, 3:7], self._cells, previous, self._window,
                          post.window_influence, post.penalty_k, post.size_lr)

        height, width = frame.shape[:2]
        results = []
        for i, (state, window) in enumerate(zip(states, windows)):
            cx, cy = window.crop_to_frame_xy(decision.center_xy[i, 0], decision.center_xy[i, 1])
            w, h = decision.size_wh[i] / scales[i]
            state.center_xy = (min(max(float(cx), 0.0), float(width)), min(max(float(cy), 0.0), float(height)))
            state.size_wh = (min(max(float(w), MIN_BOX_SIDE), float(width)),
                             min(max(float(h), MIN_BOX_SIDE), float(height)))
            center, size = (state.center_xy, state.size_wh) if state.classifier is None else \
                state.classifier.calibration.to_drawn(state.center_xy, state.size_wh)
            results.append(TrackResult(
                box_xywh=clip_box(*center, *size, width, height),
                score=float(decision.score[i]),
                maps=ResponseMaps(cls=maps[i, 0], align=maps[i, 1], score=maps[i, 2], reg=maps[i, 3:7]),
                search_region_xywh=self._maps_region(window),
            ))
        return results

"""SiamCrossTracker: template once at init, then one batched network pass per frame.

The network is stateless; everything a target needs between frames (its template
encoding, centre and size in the frame) lives in its ``TargetState``, owned by the
caller. So many targets share one forward pass (``track_many``), and restarting from an
edited keyframe is just a new ``init_target``. ``init``/``track`` are the single-target
convenience of the public contract (DESIGN.md, "Tracker contract").

A step reads: crops (core.tracking.crops, windows from ``SearchGeometry``) -> the network
runner (core.tracking.runtime: device, passes, GPU fallback) -> the decision
(core.tracking.postprocess) -> the targets' new state.

Coordinates: frames use 0-based continuous pixel coordinates (pixel i covers [i, i+1));
crops map to them through ``CropWindow``; the network's boxes and cell locations are in
the same crop coordinates that training uses (``CropWindow.box_to_crop_xyxy``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.model import PostprocessConfig, SiamCrossNet, TemplateEncoding, load_model

from . import adapting
from .adaptation import AdaptationConfig, AdaptedClassifier, Evidence
from .crops import crop_many, padding_for
from .inputs import MIN_BOX_SIDE, check_frame, clip_box, normalise_box
from .result import ResponseMaps, TrackResult
from .runtime.device import DeviceChoice, resolve_device
from .runtime.inference import InferencePrep
from .runtime.runner import NetworkRunner
from .search import SearchGeometry
from .state import TargetState


@dataclass(frozen=True)
class TrackerOptions:
    """How a SiamCrossTracker runs (its model's config says what it computes).

    max_batch: targets per network pass (None: a few on a CPU, no cap on a GPU;
    core.tracking.runtime.runner). postprocess: post-processing knobs instead of the model's
    own (for tuning them). parallel_passes: passes of several targets side by side, one thread
    each (None: for a small net on a CPU; core.tracking.runtime.passes). fill_agree_iou: the
    IoU at which fill's forward and backward passes count as agreeing (core.propagation.fusion);
    the effort simulator chose it on train/ (``siamcross simulate --agree-iou``).
    """

    max_batch: int | None = None
    postprocess: PostprocessConfig | None = None
    parallel_passes: bool | None = None
    fill_agree_iou: float = 0.5


class SiamCrossTracker:
    """SiamCross single- and multi-target tracker around a ``SiamCrossNet``.

    ``from_pretrained("lite" | "r50" | path, device="auto")`` builds one; the network's
    config supplies crop sizes, the context amount, omega and the post-processing knobs.
    fuse=True prepares the net for inference only (``NetworkRunner``), so only pass it for a
    net this tracker owns.
    """

    def __init__(self, net: SiamCrossNet, device: DeviceChoice | str = "auto", fuse: bool = False,
                 options: TrackerOptions | None = None) -> None:
        self.options = options or TrackerOptions()
        self._runner = NetworkRunner(net, device, fuse, self.options.max_batch, self.options.parallel_passes)
        self._geometry = SearchGeometry.of(net, self.options.postprocess)
        self._state: TargetState | None = None

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path = "lite", device: str = "auto",
                        options: TrackerOptions | None = None) -> SiamCrossTracker:
        """Load named weights ("lite", "r50") or a weights file, on ``device`` ("auto" picks)."""
        choice = resolve_device(device)
        return cls(load_model(str(name_or_path), choice.device), choice, fuse=True, options=options)

    @property
    def device(self) -> DeviceChoice:
        return self._runner.device

    @property
    def net(self) -> SiamCrossNet:
        return self._runner.net

    @property
    def inference_prep(self) -> InferencePrep:
        """Which inference-only speed-ups this tracker applied to its net."""
        return self._runner.prep

    @property
    def pass_lanes(self) -> int:
        """Network passes run side by side, each on one thread (1: one after another)."""
        return self._runner.lanes

    @property
    def score_threshold(self) -> float:
        """Below this score a result is uncertain (from the model's post-processing config)."""
        return float(self._geometry.post.score_threshold)

    @property
    def fill_agree_iou(self) -> float:
        """Fill's agreement IoU for this tracker (read by core.propagation.fusion.agree_iou_for)."""
        return self.options.fill_agree_iou

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
        window = self._geometry.template_window(center, (w, h))
        crop = crop_many(frame, [window])[0]
        box_xyxy = window.box_to_crop_xyxy((x, y, w, h))
        template = self._runner.run(lambda: self._runner.encode_template(crop, box_xyxy))
        return TargetState(template=template, center_xy=center, size_wh=(w, h), template_crop=crop,
                           template_box_xyxy=box_xyxy, generation=self._runner.generation)

    def track_many(self, frame_bgr: np.ndarray, targets: Sequence[TargetState]) -> list[TrackResult]:
        """Advance every target to frame_bgr in one batched network pass (passes of at most
        max_batch targets on a CPU); states update in place."""
        frame = check_frame(frame_bgr)
        if not targets:
            return []
        return self._runner.run(lambda: self._track_batch(frame, list(targets)))

    def adapt_target(self, state: TargetState, evidence: Sequence[Evidence],
                     config: AdaptationConfig | None = None) -> AdaptedClassifier | None:
        """Teach a just-initialised target what the person's keyframes say (core.tracking.adaptation):
        a refitted last classification layer and the person's box convention. Call it right after
        ``init_target`` (the state still holds the drawn box). Returns what was learnt, or None (the
        offline model is kept) for a single view without any correction."""
        return adapting.adapt_target(self._runner, self._geometry, state, evidence, config)

    # -- one step: crops -> network -> decision -> state --------------------------------
    def _track_batch(self, frame: np.ndarray, states: list[TargetState]) -> list[TrackResult]:
        for state in states:
            if state.generation != self._runner.generation:  # the net moved since this target started
                state.template = self._runner.encode_template(state.template_crop, state.template_box_xyxy)
                state.generation = self._runner.generation
        windows = [self._geometry.search_window(s.center_xy, s.size_wh) for s in states]
        pad = padding_for(frame, windows)  # once for the frame, not once per lane
        maps = np.concatenate(self._runner.map_passes(len(states), lambda r: self._response_maps(
            crop_many(frame, windows[r.start:r.stop], pad), states[r.start:r.stop])))  # each pass crops its own

        scales = np.array([w.out_size / w.side for w in windows])  # crop px per frame px
        previous = np.array([s.size_wh for s in states], dtype=np.float64) * scales[:, None]
        decision = self._geometry.decide(maps, previous)

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
                search_region_xywh=self._geometry.maps_region(window),
                box_spread=float(decision.spread[i]),
            ))
        return results

    def _response_maps(self, crops: np.ndarray, states: list[TargetState]) -> np.ndarray:
        """One network pass over search crops [n, S, S, 3] -> float32 [n, 7, H, W] numpy maps
        (cls, align, fused score, then reg l, r, t, b), copied to the host in one transfer."""
        adapted = [i for i, s in enumerate(states) if s.classifier is not None and s.classifier.weight is not None]
        net = self._runner.net
        with torch.inference_mode():
            x = self._runner.to_input(crops)
            template = states[0].template if len(states) == 1 else TemplateEncoding.cat([s.template for s in states])
            out = net.decode(template, net.encode_search(x), keep_cls_features=bool(adapted))
            if adapted:
                out = adapting.with_adapted_logits(out, [states[i].classifier for i in adapted], adapted)
            maps = out.stacked_maps(self._geometry.omega).nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
            return maps.to("cpu", torch.float32).numpy()  # one op on the device: numpy's took far longer

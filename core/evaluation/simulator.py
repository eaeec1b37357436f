"""Annotation-effort simulator: how many boxes must a person draw to label a sequence right?

A simulated annotator draws the first box (ground truth), lets the tool propagate, reviews
the frames in order, and at the FIRST frame whose box has IoU below the bar with the truth
(or is wrongly present / absent) draws the true box there: a new keyframe, after which the
tool re-propagates only up to the next keyframe, as the app does. This repeats until every
frame is right. Strategies, side by side on the same sequences:

- "interpolation": keyframes every N frames (and the last frame) with linear interpolation,
  no tracker, then corrections; N is the best of a sweep for each sequence (an optimistic
  baseline), and every N's total is reported too.
- "forward": forward-only tracking re-initialised at each correction (pysot demo / CVAT).
- "fill": our engine. With only corrections in review order there is never a keyframe after
  the frame being fixed, so fill would equal forward; the annotator therefore also draws the
  LAST frame once the sequence has shown itself hard (at its second error by default; counted
  as a correction), so every later stretch has a keyframe at both ends. Each correction then
  re-fills (correction, next keyframe) with a forward and a backward pass fused by
  ``core.propagation.fusion`` — the same ``fused_labels`` the engine streams. On train/ with
  NanoTrack v2, "second-error" beat "first-error" and "upfront" (benchmarks/simulate_bench.py).

Costs: a correction is one drawn box (the first box is free). compute_seconds is tracker time
(init + track_many) only; frames are decoded once per sequence beforehand, outside the clock.
Passes are deterministic, so a pass from a keyframe is computed once and reused (the
backward pass from the last frame serves every later correction); forward passes are run
lazily, frame by frame, only as far as the review gets before the next correction, which
gives the same count as propagating to the end first.
"""
from __future__ import annotations

import logging
import time
import zlib
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import numpy as np

from ..annotations.model import Flags, FrameLabel, Provenance
from ..errors import Cancelled
from ..media.sequence import Sequence
from ..propagation.boxes import iou_xywh
from ..propagation.cancel import CancelToken
from ..propagation.engine import fused_labels
from ..propagation.fusion import agree_iou_for
from ..propagation.interpolation import linear_labels
from ..propagation.plan import Pass, Segment
from ..propagation.request import PropagationRequest
from ..propagation.sources import SequenceSource
from ..tracking.adaptation import AdaptationConfig, Evidence, nearest_keyframes
from ..tracking.protocol import MultiTargetTracker
from ..tracking.result import TrackResult

log = logging.getLogger(__name__)

STRATEGIES = ("interpolation", "forward", "fill")
FILL_ANCHORS = ("first-error", "second-error", "upfront", "none")
ORACLE_FUSION = "oracle"
"""A simulator-only fusion that knows the truth: each frame takes a pass that is right there
when either is. No rule can do better with the same two passes, so fill with it bounds what
any fusion could gain over forward-only with a given tracker."""
_ANCHOR_AFTER_ERRORS: dict[str, int | None] = {"upfront": 0, "first-error": 1, "second-error": 2, "none": None}
"""When the "fill" annotator also draws the last frame: up front, at the first or second error, never."""
DEFAULT_INTERVALS = (5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 0)
"""Keyframe intervals tried by "interpolation"; 0 means the first box only (held)."""


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated annotator judges and which strategies run.

    pass_score_threshold / patience: fill passes stop after `patience` frames below the
    threshold (0.0 never stops; forward-only never stops, like the tools it stands for).
    agree_iou: fill's agreement IoU; None takes the tracker's own, as the engine does.
    """

    iou_threshold: float = 0.5
    strategies: tuple[str, ...] = STRATEGIES
    intervals: tuple[int, ...] = DEFAULT_INTERVALS
    fusion: str = "agreement"
    agree_iou: float | None = None
    fill_anchor: str = "second-error"
    pass_score_threshold: float = 0.0
    patience: int = 3
    max_frames: int | None = None
    jitter: float = 0.0
    seed: int = 0
    adapt: bool = False


DEFAULT_JITTER = 0.02
"""How far a simulated person's drawn box strays with ``--seeds``: position and size each move by
up to this share of the box's size. People never draw the same box twice, and single
correction counts move by about a tenth with changes this small, so models are compared by
the mean and the spread over several such annotators."""


@dataclass(frozen=True)
class StrategyResult:
    """One strategy on one sequence (or summed over sequences)."""

    frames: int
    corrections: int
    compute_seconds: float
    frames_tracked: int
    interval: int | None = None
    fusion_misses: int | None = None

    @property
    def corrections_per_100_frames(self) -> float:
        return 100.0 * self.corrections / self.frames if self.frames else 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["corrections_per_100_frames"] = round(self.corrections_per_100_frames, 3)
        out["compute_seconds"] = round(self.compute_seconds, 3)
        for optional in ("interval", "fusion_misses"):
            if out[optional] is None:
                out.pop(optional)
        return out


@dataclass(frozen=True)
class SequenceOutcome:
    name: str
    frames: int
    results: dict[str, StrategyResult]
    interpolation_sweep: dict[int, int] = field(default_factory=dict)  # interval -> corrections


@dataclass(frozen=True)
class SimulationReport:
    config: SimulatorConfig
    tracker: str
    sequences: tuple[SequenceOutcome, ...]

    def total(self, strategy: str) -> StrategyResult:
        rows = [s.results[strategy] for s in self.sequences if strategy in s.results]
        return StrategyResult(frames=sum(r.frames for r in rows), corrections=sum(r.corrections for r in rows),
                              compute_seconds=sum(r.compute_seconds for r in rows),
                              frames_tracked=sum(r.frames_tracked for r in rows),
                              fusion_misses=None if any(r.fusion_misses is None for r in rows) or not rows
                              else sum(r.fusion_misses for r in rows))  # type: ignore[misc]

    def interpolation_sweep(self) -> dict[int, float]:
        """Corrections / 100 frames over all sequences for each fixed interval."""
        frames = sum(s.frames for s in self.sequences if s.interpolation_sweep)
        if not frames:
            return {}
        intervals = self.sequences[0].interpolation_sweep.keys()
        return {n: round(100.0 * sum(s.interpolation_sweep[n] for s in self.sequences) / frames, 3) for n in intervals}

    def to_dict(self) -> dict:
        strategies = {name: self.total(name).to_dict() for name in self.config.strategies}
        if "interpolation" in strategies:
            sweep = self.interpolation_sweep()
            strategies["interpolation"]["interval"] = "best per sequence"
            strategies["interpolation"]["per_interval"] = {str(k): v for k, v in sweep.items()}
        return {
            "tracker": self.tracker,
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.config).items()},
            "strategies": strategies,
            "sequences": [
                {"name": s.name, "frames": s.frames, **{k: r.to_dict() for k, r in s.results.items()}}
                for s in self.sequences
            ],
        }


@dataclass(frozen=True)
class SeedSpread:
    """One strategy's corrections per 100 frames over several jittered annotators (``--seeds``)."""

    strategy: str
    per_run: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_run)) if self.per_run else 0.0

    @property
    def std(self) -> float:
        """Sample standard deviation (0 for a single run)."""
        return float(np.std(self.per_run, ddof=1)) if len(self.per_run) > 1 else 0.0

    def to_dict(self) -> dict:
        return {"mean": round(self.mean, 3), "std": round(self.std, 3), "min": round(min(self.per_run), 3),
                "max": round(max(self.per_run), 3), "per_run": [round(v, 3) for v in self.per_run]}


def seed_spread(reports: list[SimulationReport]) -> dict[str, SeedSpread]:
    """Mean and spread of each strategy's corrections per 100 frames over ``reports``."""
    strategies = reports[0].config.strategies if reports else ()
    return {name: SeedSpread(name, tuple(r.total(name).corrections_per_100_frames for r in reports))
            for name in strategies}


class _Truth:
    """Ground truth of one sequence, the boxes the simulated person draws, and their verdict on a label.

    With jitter > 0 a drawn box is the true box moved and resized by up to ``jitter`` of its size,
    the same for a given (seed, sequence, frame) however often it is drawn, so cached passes
    stay consistent.
    """

    def __init__(self, sequence: Sequence, iou_threshold: float, jitter: float = 0.0, seed: int = 0) -> None:
        self.boxes = np.asarray(sequence.boxes, dtype=np.float64)
        self.absent = np.asarray(sequence.absent, dtype=bool)
        self.threshold = iou_threshold
        self.count = len(sequence)
        self.jitter = float(jitter)
        self.key = (int(seed), zlib.crc32(sequence.name.encode("utf-8")))

    def drawn(self, frame: int) -> tuple[float, float, float, float]:
        """The box the person draws at ``frame`` (x, y, w, h)."""
        x, y, w, h = (float(v) for v in self.boxes[frame])
        if self.jitter <= 0:
            return (x, y, w, h)
        dx, dy, dw, dh = np.random.default_rng([*self.key, int(frame)]).uniform(-self.jitter, self.jitter, 4)
        new_w, new_h = w * (1.0 + dw), h * (1.0 + dh)
        cx, cy = x + w / 2.0 + dx * w, y + h / 2.0 + dy * h
        return (cx - new_w / 2.0, cy - new_h / 2.0, new_w, new_h)

    def keyframe(self, frame: int) -> FrameLabel:
        if self.absent[frame]:
            return FrameLabel(box=None, provenance=Provenance.MANUAL, flags=Flags(absent=True))
        return FrameLabel(box=self.drawn(frame), provenance=Provenance.MANUAL)

    def is_right(self, frame: int, label: FrameLabel | None) -> bool:
        labelled_present = label is not None and not label.is_absent
        if self.absent[frame]:
            return not labelled_present
        return labelled_present and iou_xywh(label.box, self.boxes[frame]) >= self.threshold  # type: ignore[union-attr, arg-type]


class _PassCache:
    """Deterministic tracker passes keyed by (anchor frame, direction), extended on demand and timed.

    Passes are stored untruncated; the low-score stop (`stop_threshold`, `patience`) is applied
    when reading, and tracking ends as soon as that stop is reached. `memo` lets several
    configurations of one sequence share passes (tuning); leave it None to time a strategy alone.
    """

    def __init__(self, source: SequenceSource, tracker: MultiTargetTracker, truth: _Truth,
                 stop_threshold: float, patience: int, memo: dict | None = None, adapt: bool = False) -> None:
        self.source, self.tracker, self.truth = source, tracker, truth
        self.stop_threshold, self.patience = stop_threshold, patience
        self.passes: dict[tuple, dict] = {} if memo is None else memo
        self.stops: dict[tuple, dict] = {}
        self.seconds = 0.0
        self.frames_tracked = 0
        self.adapt = adapt and hasattr(tracker, "adapt_target")
        self.keyframes: dict[int, tuple] = {0: ()}  # keyframe -> boxes the tool showed there before (wrong)

    def add_keyframe(self, frame: int, wrong: FrameLabel | None) -> None:
        """A person drew the truth at ``frame`` over ``wrong`` (what the tool showed; None: nothing)."""
        self.keyframes[frame] = () if wrong is None or wrong.is_absent else (wrong.box,)

    def _key(self, anchor: int, step: int) -> tuple:
        """Passes are deterministic for one set of keyframes; with adaptation that set changes them."""
        return (anchor, step, tuple(sorted(self.keyframes)) if self.adapt else ())

    def result(self, anchor: int, step: int, frame: int) -> TrackResult | None:
        """The pass from keyframe `anchor` at `frame` (None when it stopped before or cannot start)."""
        key = self._key(anchor, step)
        entry = self.passes.get(key) or self._start(anchor, step)
        stop = self.stops.setdefault(key, {"scanned": anchor, "low": 0, "at": None})
        while entry["state"] is not None and stop["at"] is None and (frame - stop["scanned"]) * step > 0:
            nxt = stop["scanned"] + step
            if not 0 <= nxt < self.truth.count:
                break
            result = entry["results"].get(nxt) or self._track(entry, nxt)
            stop["scanned"] = nxt
            stop["low"] = stop["low"] + 1 if result.score < self.stop_threshold else 0
            if stop["low"] >= self.patience:
                stop["at"] = nxt
        if stop["at"] is not None and (frame - stop["at"]) * step > 0:
            return None
        return entry["results"].get(frame)

    def results(self, anchor: int, step: int, last: int) -> dict[int, TrackResult]:
        """The pass's results from its anchor up to `last` (inclusive), as far as it runs."""
        out = {}
        for frame in range(anchor + step, last + step, step):
            result = self.result(anchor, step, frame)
            if result is None:
                break
            out[frame] = result
        return out

    def _track(self, entry: dict, frame: int) -> TrackResult:
        assert frame == entry["reached"] + entry["step"], "passes advance one frame at a time"
        image = self.source.read(frame)
        began = time.perf_counter()
        result = self.tracker.track_many(image, [entry["state"]])[0]
        self.seconds += time.perf_counter() - began
        self.frames_tracked += 1
        entry["results"][frame] = result
        entry["reached"] = frame
        return result

    def _start(self, anchor: int, step: int) -> dict:
        state = None
        if not self.truth.absent[anchor]:
            image = self.source.read(anchor)
            began = time.perf_counter()
            state = self.tracker.init_target(image, self.truth.drawn(anchor))
            if self.adapt:
                self.tracker.adapt_target(state, self._evidence(anchor))  # type: ignore[attr-defined]
            self.seconds += time.perf_counter() - began
        entry = {"state": state, "results": {}, "reached": anchor, "step": step}
        self.passes[self._key(anchor, step)] = entry
        return entry

    def _evidence(self, anchor: int) -> list[Evidence]:
        """The keyframes drawn so far nearest to the pass's start, as the engine picks them."""
        visible = [k for k in self.keyframes if not self.truth.absent[k]]
        frames = nearest_keyframes(visible, anchor, AdaptationConfig().max_views)
        return [Evidence(self.source.read(k), self.truth.drawn(k), self.keyframes.get(k, ())) for k in frames]


def _tracked(result: TrackResult | None) -> FrameLabel | None:
    if result is None:
        return None
    return FrameLabel(box=tuple(float(v) for v in result.box_xywh), provenance=Provenance.TRACKED,  # type: ignore[arg-type]
                      score=float(result.score))


def simulate_forward(truth: _Truth, cache: _PassCache) -> int:
    """Forward-only tracking from the latest correction; returns the number of corrections."""
    corrections, anchor, frame = 0, 0, 1
    while frame < truth.count:
        shown = _tracked(cache.result(anchor, 1, frame))
        if not truth.is_right(frame, shown):
            corrections += 1
            cache.add_keyframe(frame, shown)
            anchor = frame
        frame += 1
    return corrections


def simulate_fill(truth: _Truth, cache: _PassCache, config: SimulatorConfig) -> tuple[int, int]:
    """Fill between keyframes with re-propagation up to the next keyframe.

    Returns (corrections, fusion misses): a miss is a correction on a frame where one of the
    two passes was right and the fusion still chose wrong (the rule's share of the effort).
    """
    last = truth.count - 1
    keys = {0: truth.keyframe(0)}
    corrections = misses = errors = 0
    anchor_after = _ANCHOR_AFTER_ERRORS[config.fill_anchor]
    if anchor_after == 0 and last > 0:
        keys[last] = truth.keyframe(last)
        cache.add_keyframe(last, None)
        corrections += 1
    oracle = config.fusion == ORACLE_FUSION
    request = PropagationRequest((1,), "fill", fusion="agreement" if oracle else config.fusion,
                                 agree_iou=agree_iou_for(cache.tracker, config.agree_iou))
    anchor, frame = 0, 1
    labels = _fill_segment(truth, cache, keys, 0, request, oracle)
    while frame < truth.count:
        label = labels.get(frame) if frame in labels else (
            keys.get(frame) if frame in keys else _tracked(cache.result(anchor, 1, frame)))
        if truth.is_right(frame, label):
            frame += 1
            continue
        right = min((k for k in keys if k > frame), default=None)
        if frame in labels and right is not None and _right_pass(truth, cache, anchor, right, frame) is not None:
            misses += 1
        corrections += 1
        errors += 1
        keys[frame] = truth.keyframe(frame)
        cache.add_keyframe(frame, label)
        if anchor_after is not None and errors >= anchor_after and last not in keys:
            keys[last] = truth.keyframe(last)
            cache.add_keyframe(last, None)
            corrections += 1
        anchor = frame
        labels = _fill_segment(truth, cache, keys, frame, request, oracle)
        frame += 1
    return corrections, misses


def _fill_segment(truth: _Truth, cache: _PassCache, keys: dict[int, FrameLabel], left: int,
                  request: PropagationRequest, oracle: bool = False) -> dict[int, FrameLabel | None]:
    """Labels of the frames between keyframe `left` and the next keyframe (empty for the open tail).

    oracle: where the fused label is wrong but one of the two passes is right, take that pass
    (see ORACLE_FUSION)."""
    right = min((k for k in keys if k > left), default=None)
    if right is None or right - left < 2:
        return {}
    labels = _fused_segment(cache, keys, left, right, request)
    if oracle:
        for frame, label in labels.items():
            if not truth.is_right(frame, label):
                labels[frame] = _right_pass(truth, cache, left, right, frame) or label
    return labels


def _right_pass(truth: _Truth, cache: _PassCache, left: int, right: int, frame: int) -> FrameLabel | None:
    """The label of the first of segment (left, right)'s two passes, forward then backward,
    that is right at `frame`; None when neither is (a fusion miss needs one that is)."""
    for anchor, step in ((left, 1), (right, -1)):
        label = _tracked(cache.result(anchor, step, frame))
        if truth.is_right(frame, label):
            return label
    return None


def _fused_segment(cache: _PassCache, keys: dict[int, FrameLabel], left: int, right: int,
                   request: PropagationRequest) -> dict[int, FrameLabel | None]:
    """The engine's labels between keyframes `left` and `right` (at least one frame apart)."""
    left_label, right_label = keys[left], keys[right]
    seg = Segment(1, left, right, left_label, right_label, left + 1, right - 1)
    if left_label.is_absent or right_label.is_absent:
        # One-sided: the pass from the visible end, or absent in between (engine semantics).
        if left_label.is_absent and right_label.is_absent:
            return {f: FrameLabel(None, Provenance.INTERPOLATED, flags=Flags(absent=True)) for f in range(left + 1, right)}
        if right_label.is_absent:
            return {f: _tracked(cache.result(left, 1, f)) for f in range(left + 1, right)}
        return {f: _tracked(cache.result(right, -1, f)) for f in range(left + 1, right)}
    seg.forward = Pass(1, left, 1, right - 1, left_label.box, False, left + 1, right - 1, seg,  # type: ignore[arg-type]
                       results=cache.results(left, 1, right - 1))
    seg.backward = Pass(1, right, -1, left + 1, right_label.box, False, left + 1, right - 1, seg,  # type: ignore[arg-type]
                        results=cache.results(right, -1, left + 1))
    return dict(fused_labels(seg, request))


def simulate_interpolation(truth: _Truth, interval: int) -> int:
    """Keyframes every `interval` frames plus the last (0: first box only), linear in between."""
    last = truth.count - 1
    keys = {0: truth.keyframe(0)}
    if interval > 0:
        for k in list(range(interval, last, interval)) + [last]:
            keys[k] = truth.keyframe(k)
    corrections = len(keys) - 1
    labels = linear_labels(keys, range(truth.count))
    frame = 1
    while frame < truth.count:
        if truth.is_right(frame, keys.get(frame) or labels.get(frame)):
            frame += 1
            continue
        corrections += 1
        keys[frame] = truth.keyframe(frame)
        right = min((k for k in keys if k > frame), default=truth.count)
        labels.update(linear_labels(keys, range(frame + 1, right)))
        frame += 1
    return corrections


def truncate(sequence: Sequence, max_frames: int | None) -> Sequence:
    """The first max_frames frames of a sequence (all of it when None)."""
    if max_frames is None or max_frames >= len(sequence):
        return sequence
    keep = slice(0, max(int(max_frames), 2))
    return Sequence(name=sequence.name, boxes=sequence.boxes[keep], frames=sequence.frames[keep],
                    video=sequence.video, absent=sequence.absent[keep], occluded=sequence.occluded[keep],
                    out_of_view=sequence.out_of_view[keep], cut_by_image=sequence.cut_by_image[keep],
                    cover=sequence.cover[keep], meta=dict(sequence.meta))


def simulate_sequence(sequence: Sequence, tracker: MultiTargetTracker | None, config: SimulatorConfig,
                      source: SequenceSource | None = None, memo: dict | None = None) -> SequenceOutcome:
    """Every configured strategy on one sequence (tracker may be None when only interpolation runs).

    memo: share tracker passes between calls on the same sequence and tracker (for sweeps of
    fusion settings); compute_seconds then only counts what this call had to track.
    """
    sequence = truncate(sequence, config.max_frames)
    truth = _Truth(sequence, config.iou_threshold, config.jitter, config.seed)
    results: dict[str, StrategyResult] = {}
    sweep: dict[int, int] = {}
    if "interpolation" in config.strategies:
        began = time.perf_counter()
        sweep = {n: simulate_interpolation(truth, n) for n in config.intervals}
        best = min(sweep, key=lambda n: (sweep[n], n == 0, n))
        results["interpolation"] = StrategyResult(len(sequence), sweep[best], time.perf_counter() - began, 0, best)
    tracked = [s for s in config.strategies if s != "interpolation"]
    if tracked:
        if tracker is None:
            raise ValueError("the forward and fill strategies need a tracker")
        source = source or SequenceSource(sequence)
        for index in range(len(sequence)):  # decode once, outside the clock
            source.read(index)
    for strategy in tracked:
        misses = None
        if strategy == "forward":
            cache = _PassCache(source, tracker, truth, 0.0, config.patience, memo, config.adapt)  # type: ignore[arg-type]
            corrections = simulate_forward(truth, cache)
        elif strategy == "fill":
            cache = _PassCache(source, tracker, truth, config.pass_score_threshold, config.patience,  # type: ignore[arg-type]
                               memo, config.adapt)
            corrections, misses = simulate_fill(truth, cache, config)
        else:
            raise ValueError(f"unknown strategy {strategy!r}")
        results[strategy] = StrategyResult(len(sequence), corrections, cache.seconds, cache.frames_tracked,
                                           fusion_misses=misses)
    return SequenceOutcome(sequence.name, len(sequence), results, sweep)


def simulate(sequences: Iterable[Sequence], tracker: MultiTargetTracker | None, config: SimulatorConfig,
             tracker_name: str = "tracker", progress: Callable[[int, int, str], None] | None = None,
             cancel: CancelToken | None = None) -> SimulationReport:
    """Run the simulator over sequences; progress(done, total, name) before each; Cancelled on cancel."""
    sequences = list(sequences)
    outcomes = []
    for done, sequence in enumerate(sequences):
        if cancel is not None and cancel.cancelled:
            raise Cancelled("simulation cancelled")
        if progress is not None:
            progress(done, len(sequences), sequence.name)
        outcome = simulate_sequence(sequence, tracker, config)
        log.info("%s: %s", sequence.name, {k: r.corrections for k, r in outcome.results.items()})
        outcomes.append(outcome)
    if progress is not None:
        progress(len(sequences), len(sequences), "")
    return SimulationReport(config=config, tracker=tracker_name, sequences=tuple(outcomes))

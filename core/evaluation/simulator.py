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
  re-fills (correction, next keyframe) with a forward and a backward pass, and the labels
  between them are the engine's own (core.propagation.segments: which passes run, how two are
  fused, what one pass or an absent keyframe leaves). benchmarks/simulate_bench.py compares the
  moments the annotator draws the last frame.

Costs: a correction is one drawn box (the first box is free). compute_seconds is tracker time
(init + track_many) only; frames are decoded once per sequence beforehand, outside the clock.
Passes are deterministic, so a pass from a keyframe is computed once and reused (the
backward pass from the last frame serves every later correction); forward passes are run
lazily, frame by frame, only as far as the review gets before the next correction, which
gives the same count as propagating to the end first (core.evaluation.simulator_passes).
The configuration and the report are in core.evaluation.simulator_report.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from ..annotations.model import FrameLabel
from ..errors import Cancelled
from ..media.sequence import Sequence
from ..propagation.cancel import CancelToken
from ..propagation.fusion import agree_iou_for
from ..propagation.interpolation import linear_labels
from ..propagation.plan import Segment
from ..propagation.request import PropagationRequest
from ..propagation.segments import passes_for, segment_labels, tracked_label
from ..propagation.sources import SequenceSource
from ..tracking.protocol import MultiTargetTracker
from ..tracking.result import TrackResult
from .simulator_passes import PassCache, Truth
from .simulator_report import (
    ANCHOR_AFTER_ERRORS,
    ORACLE_FUSION,
    SequenceOutcome,
    SimulationReport,
    SimulatorConfig,
    StrategyResult,
)

log = logging.getLogger(__name__)


def _shown(result: TrackResult | None) -> FrameLabel | None:
    """What the tool shows for a pass's result: its tracked label (None: the pass did not get there)."""
    return None if result is None else tracked_label(result)


def simulate_forward(truth: Truth, cache: PassCache) -> int:
    """Forward-only tracking from the latest correction; returns the number of corrections."""
    corrections, anchor, frame = 0, 0, 1
    while frame < truth.count:
        shown = _shown(cache.result(anchor, 1, frame))
        if not truth.is_right(frame, shown):
            corrections += 1
            cache.add_keyframe(frame, shown)
            anchor = frame
        frame += 1
    return corrections


def simulate_fill(truth: Truth, cache: PassCache, config: SimulatorConfig) -> tuple[int, int]:
    """Fill between keyframes with re-propagation up to the next keyframe.

    Returns (corrections, fusion misses): a miss is a correction on a frame where one of the
    two passes was right and the fusion still chose wrong (the rule's share of the effort).
    """
    last = truth.count - 1
    keys = {0: truth.keyframe(0)}
    corrections = misses = errors = 0
    anchor_after = ANCHOR_AFTER_ERRORS[config.fill_anchor]
    if anchor_after == 0 and last > 0:
        keys[last] = truth.keyframe(last)
        cache.add_keyframe(last, None, anchor=True)
        corrections += 1
    oracle = config.fusion == ORACLE_FUSION
    request = PropagationRequest((1,), "fill", fusion="agreement" if oracle else config.fusion,
                                 agree_iou=agree_iou_for(cache.tracker, config.agree_iou))
    anchor, frame = 0, 1
    labels = _fill_segment(truth, cache, keys, 0, request, oracle)
    while frame < truth.count:
        label = labels.get(frame) if frame in labels else (
            keys.get(frame) if frame in keys else _shown(cache.result(anchor, 1, frame)))
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
            cache.add_keyframe(last, None, anchor=True)
            corrections += 1
        anchor = frame
        labels = _fill_segment(truth, cache, keys, frame, request, oracle)
        frame += 1
    return corrections, misses


def _fill_segment(truth: Truth, cache: PassCache, keys: dict[int, FrameLabel], left: int,
                  request: PropagationRequest, oracle: bool = False) -> dict[int, FrameLabel | None]:
    """Labels of the frames between keyframe `left` and the next keyframe (empty for the open tail),
    as the engine leaves them (core.propagation.segments).

    oracle: where the fused label is wrong but one of the two passes is right, take that pass
    (see ORACLE_FUSION)."""
    right = min((k for k in keys if k > left), default=None)
    if right is None or right - left < 2:
        return {}
    seg = Segment(track_id=1, left=left, right=right, left_label=keys[left], right_label=keys[right],
                  write_lo=left + 1, write_hi=right - 1)
    forward, backward = passes_for(seg.left_label, seg.right_label)
    labels = segment_labels(seg, cache.output(left, 1, right - 1) if forward else None,
                            cache.output(right, -1, left + 1) if backward else None, request)
    if oracle:
        for frame, label in labels.items():
            if not truth.is_right(frame, label):
                labels[frame] = _right_pass(truth, cache, left, right, frame) or label
    return labels


def _right_pass(truth: Truth, cache: PassCache, left: int, right: int, frame: int) -> FrameLabel | None:
    """The label of the first of segment (left, right)'s two passes, forward then backward,
    that is right at `frame`; None when neither is (a fusion miss needs one that is)."""
    for anchor, step in ((left, 1), (right, -1)):
        label = _shown(cache.result(anchor, step, frame))
        if truth.is_right(frame, label):
            return label
    return None


def simulate_interpolation(truth: Truth, interval: int) -> int:
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
    truth = Truth(sequence, config.iou_threshold, config.jitter, config.seed)
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
            # mypy, next line: tracker is set for every tracking strategy
            cache = PassCache(source, tracker, truth, 0.0, config.patience, memo, config.adapt)  # type: ignore[arg-type]
            corrections = simulate_forward(truth, cache)
        elif strategy == "fill":
            # mypy, next line: tracker is set for every tracking strategy
            cache = PassCache(source, tracker, truth, config.pass_score_threshold, config.patience,  # type: ignore[arg-type]
                               memo, config.adapt)
            corrections, misses = simulate_fill(truth, cache, config)
        else:
            raise ValueError(f"unknown strategy {strategy!r}")
        results[strategy] = StrategyResult(len(sequence), corrections, cache.seconds, cache.frames_tracked,
                                           fusion_misses=misses, kinds=cache.kind_counts())
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

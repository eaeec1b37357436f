"""The headless propagation engine: a generator that streams one PropagationStep per frame.

Every track of a request advances through ONE ``tracker.track_many`` call per frame and
direction (a "fill" makes a forward sweep then a backward sweep). The generator checks the
CancelToken before each frame, so cancelling stops within one frame; what was yielded is
kept. The caller writes ``step.labels`` (``store.apply_propagated`` in the app, directly in
the CLI); human labels are never among them (plan.stops), unless the request overwrites
imported ones.

Low scores: a pass whose score stays below ``request.score_threshold`` for
``request.patience`` consecutive frames stops. Those frames were already streamed with their
low scores (so the timeline shows them red); frames after the stop are not written. We stop
rather than guess "absent": the tracker cannot tell occlusion from drift, the annotator can.

Fill streams the forward pass as provisional labels, then the backward pass; when a
segment's backward pass ends, its fused labels (core.propagation.fusion) are streamed as
extra steps with empty ``results``. Frames neither pass reached get the linear
interpolation with score 0.0, so they are labelled yet flagged for review. After a keyframe
marked absent, frames are written absent until something visible comes from the right (CVAT's
"outside" rule, as in core.propagation.interpolation).
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from ..annotations.model import FrameLabel, Project, Track
from ..media.cache import FrameCache
from ..media.source import MediaInfo
from ..review.cues import result_distractor
from ..tracking.adaptation import AdaptationConfig, Evidence, adaptation_views, nearest_keyframes
from ..tracking.protocol import MultiTargetTracker
from ..tracking.result import TrackResult
from .cancel import CancelToken
from .fusion import agree_iou_for
from .interpolation import ABSENT_INTERPOLATED, linear_labels
from .plan import Pass, Plan, Segment, linear_anchors, linear_frames, plan_directional, plan_fill
from .request import PassStop, PropagationRequest, PropagationStep
from .segments import PassResults, fused_labels, stays_absent, tracked_label

log = logging.getLogger(__name__)

DEFAULT_FRAME_MEMORY_BYTES = 512 * 1024 * 1024
DEFAULT_READ_AHEAD = 8
READ_AHEAD_MAX_BYTES = 96 * 1024 * 1024


class RecentFrames:
    """The frames a forward sweep read, kept (newest first out of budget last) for the backward sweep.

    A backward sweep starts where the forward one ended, so keeping the most recent frames
    saves exactly the decodes that reverse seeking in a video makes expensive.
    """

    def __init__(self, source: object, max_bytes: int = DEFAULT_FRAME_MEMORY_BYTES) -> None:
        self._source = source
        self._max_bytes = max_bytes
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0

    def read(self, index: int) -> np.ndarray:
        frame = self._frames.get(index)
        if frame is not None:
            return frame
        frame = self._source.read(index)  # type: ignore[attr-defined]  # a FrameSource-like object (duck-typed source)
        self._frames[index] = frame
        self._bytes += frame.nbytes
        while self._bytes > self._max_bytes and len(self._frames) > 1:
            _, old = self._frames.popitem(last=False)
            self._bytes -= old.nbytes
        return frame


def read_ahead_cache(source: object, frames_ahead: int) -> FrameCache | None:
    """A small FrameCache that decodes the next frames in a background thread while the model runs.

    Only for media sources (a MediaInfo with a frame size): the cache holds three read-ahead
    windows and two more frames, at most READ_AHEAD_MAX_BYTES (less read-ahead for larger
    frames). Backward, the window must be long enough to keep ahead of the model: a backward
    seek in a long-GOP video is expensive. OpenCV releases the GIL
    while decoding, so decode overlaps inference instead of adding to it; going backward it
    decodes blocks in ascending order instead of seeking once per frame.
    """
    info = getattr(source, "info", None)
    if frames_ahead <= 0 or not isinstance(info, MediaInfo) or info.frame_bytes <= 0:
        return None
    # The cache is an LRU: a frame decoded ahead is older than the frames used since, so it
    # survives until it is used only if the cache holds about three windows (with one window
    # plus two, most forward reads missed and each miss was a seek; going backward, two windows
    # still evicted the lowest frame of each block before its use).
    frames_ahead = max(1, min(frames_ahead, (READ_AHEAD_MAX_BYTES // info.frame_bytes - 2) // 3))
    frames = 3 * frames_ahead + 2
    # mypy, next line: a FrameSource-like object (duck-typed source)
    return FrameCache(source, max_bytes=frames * info.frame_bytes, read_ahead=frames_ahead)  # type: ignore[arg-type]


class _CacheReader:
    """``read(index)`` through a FrameCache (what RecentFrames expects of a source)."""

    def __init__(self, cache: FrameCache) -> None:
        self.cache = cache

    def read(self, index: int) -> np.ndarray:
        return self.cache.get(index)


def frame_count_of(source: object) -> int:
    info = getattr(source, "info", None)
    if info is not None:
        return int(info.frame_count)
    return len(source)  # type: ignore[arg-type]  # a sequence of frames when there is no MediaInfo


def propagate(project: Project, source: object, tracker: MultiTargetTracker | None, request: PropagationRequest,
              cancel: CancelToken | None = None,
              frame_memory_bytes: int = DEFAULT_FRAME_MEMORY_BYTES,
              read_ahead: int = DEFAULT_READ_AHEAD) -> Iterator[PropagationStep]:
    """Propagate the request's tracks through `source`, yielding one step per frame as it is done.

    Raises UserError (before the first step) for a missing track, a start frame without a
    box, or a range outside the media. For a media source (a MediaInfo), the next
    `read_ahead` frames are decoded by a background thread while the tracker runs, so do not
    read the same source elsewhere until the generator ends or is closed (0 turns it off).
    """
    frame_count = frame_count_of(source)
    request = replace(request, agree_iou=agree_iou_for(tracker, request.agree_iou))
    if request.method == "linear":
        return _linear(project, request, frame_count, cancel)
    if tracker is None:
        raise ValueError(f"propagation by {request.method} needs a tracker (None only for linear)")
    plan = plan_fill(project, request, frame_count) if request.direction == "fill" else \
        plan_directional(project, request, frame_count)
    return _run(plan, project, source, tracker, request, cancel, frame_memory_bytes, read_ahead)


def _linear(project: Project, request: PropagationRequest, frame_count: int,
            cancel: CancelToken | None) -> Iterator[PropagationStep]:
    per_track = {}
    for track_id in request.track_ids:
        track = project.tracks.get(track_id)
        if track is None:
            from ..errors import UserError

            raise UserError(f"Track {track_id} does not exist in this project.")
        frames = linear_frames(track, request, frame_count)
        per_track[track_id] = linear_labels(linear_anchors(track, request), frames)
    order = sorted({f for labels in per_track.values() for f in labels}, reverse=request.direction == "backward")
    return _stream_labels(order, per_track, cancel)


def _stream_labels(order: list[int], per_track: dict[int, dict[int, FrameLabel]],
                   cancel: CancelToken | None) -> Iterator[PropagationStep]:
    for done, frame in enumerate(order, start=1):
        if cancel is not None and cancel.cancelled:
            return
        labels = {t: labels[frame] for t, labels in per_track.items() if frame in labels}
        yield PropagationStep(frame=frame, labels=labels, results={}, done=done, total=len(order))


def _planned(passes: list[Pass]) -> list[int]:
    frames: set[int] = set()
    for p in passes:
        frames.update(p.planned_frames())
    return sorted(frames)


def _run(plan: Plan, project: Project, source: object, tracker: MultiTargetTracker, request: PropagationRequest,
         cancel: CancelToken | None, frame_memory_bytes: int, read_ahead: int) -> Iterator[PropagationStep]:
    # Only a backward sweep re-reads the forward sweep's frames; a one-way run keeps none
    # (a 720p forward run held 512 MiB of frames it never read again).
    keep = frame_memory_bytes if plan.backward and plan.forward else 0
    cache = read_ahead_cache(source, read_ahead)
    try:
        frames = RecentFrames(_CacheReader(cache) if cache else source, keep)
        adapter = PassAdapter(project, frames, tracker) if request.adapt and hasattr(tracker, "adapt_target") else None
        yield from _run_sweeps(plan, frames, tracker, request, cancel, cache, adapter)
    finally:
        if cache is not None:
            cache.close()


class PassAdapter:
    """Adapts each pass's new target to its track's human labels nearest to the pass's anchor
    (at most ``views``), reading those frames; the wrong box a correction replaced comes along."""

    def __init__(self, project: Project, frames: RecentFrames, tracker: MultiTargetTracker) -> None:
        self.project, self.frames, self.tracker = project, frames, tracker
        self.views = AdaptationConfig().max_views

    def evidence(self, track_id: int, anchor: int) -> list[Evidence]:
        track = self.project.tracks.get(track_id)
        if track is None:
            return []
        if not track_adaptation_views(track, self.views):
            return []  # one keyframe: nothing to learn, nothing to read
        human = [f for f in track.human_frames() if track.frames[f].box is not None]
        nearest = nearest_keyframes(human, anchor, self.views)
        views = []
        for f in nearest:
            label = track.frames[f]
            assert label.box is not None  # human frames were picked with a box
            wrong = () if label.corrected_from is None else (label.corrected_from,)
            views.append(Evidence(self.frames.read(f), label.box, wrong))
        return views

    def adapt(self, p: Pass) -> None:
        evidence = self.evidence(p.track_id, p.anchor)
        if evidence:
            # mypy, next line: hasattr-checked before this adapter is made
            self.tracker.adapt_target(p.state, evidence)  # type: ignore[attr-defined]


def track_adaptation_views(track: Track, views: int | None = None) -> int:
    """How many of its human labels a pass of ``track`` learns from (0: none; what the app shows)."""
    human = [f for f in track.human_frames() if track.frames[f].box is not None]
    corrections = sum(1 for f in human if track.frames[f].corrected_from is not None)
    return adaptation_views(human, corrections, AdaptationConfig().max_views if views is None else views)


def _run_sweeps(plan: Plan, frames: RecentFrames, tracker: MultiTargetTracker, request: PropagationRequest,
                cancel: CancelToken | None, cache: FrameCache | None,
                adapter: PassAdapter | None = None) -> Iterator[PropagationStep]:
    forward_frames, backward_frames = _planned(plan.forward), _planned(plan.backward)
    total = len(forward_frames) + len(backward_frames)
    progress = [0]
    for seg in plan.segments:  # left keyframe absent and nothing coming from the right: absent
        if stays_absent(seg.left_label, seg.backward is not None):
            seg.fused = True
    yield from _absent_segments(plan.segments, progress, total)
    if plan.forward:
        yield from _sweep(plan.forward, forward_frames, 1, frames, tracker, request, cancel, progress, total, plan,
                          adapter)
    if cancel is not None and cancel.cancelled:
        return
    if plan.backward:
        if cache is not None:
            cache.set_direction(-1)
        yield from _sweep(plan.backward, backward_frames[::-1], -1, frames, tracker, request, cancel, progress,
                          total, plan, adapter)


def _absent_segments(segments: list[Segment], progress: list[int], total: int) -> Iterator[PropagationStep]:
    by_frame: dict[int, dict[int, FrameLabel]] = {}
    for seg in segments:
        if seg.fused:
            for frame in range(seg.write_lo, seg.write_hi + 1):
                by_frame.setdefault(frame, {})[seg.track_id] = ABSENT_INTERPOLATED
    for frame in sorted(by_frame):
        yield PropagationStep(frame=frame, labels=by_frame[frame], results={}, done=progress[0], total=total)


def _sweep(passes: list[Pass], planned: list[int], step: int, frames: RecentFrames, tracker: MultiTargetTracker,
           request: PropagationRequest, cancel: CancelToken | None, progress: list[int], total: int,
           plan: Plan, adapter: PassAdapter | None = None) -> Iterator[PropagationStep]:
    """Advance every pass of one direction frame by frame with one track_many call per frame."""
    anchors: dict[int, list[Pass]] = {}
    for p in passes:
        anchors.setdefault(p.anchor, []).append(p)
    planned_set = set(planned)
    visit = sorted(planned_set | set(anchors), reverse=step < 0)
    remaining_anchors = len(anchors)
    for frame in visit:
        if cancel is not None and cancel.cancelled:
            return
        active = [p for p in passes if p.state is not None and not p.stopped and p.covers(frame)]
        starting = anchors.get(frame, [])
        if frame in planned_set:
            progress[0] += 1
        if not active and not starting:
            if remaining_anchors == 0 and not any(p.state is not None and not p.stopped and
                                                  (p.last - frame) * step > 0 for p in passes):
                progress[0] = max(progress[0], _sweep_end(progress[0], planned, frame, step))
                break
            continue
        image = frames.read(frame)
        labels: dict[int, FrameLabel] = {}
        results: dict[int, TrackResult] = {}
        stops: list[PassStop] = []
        if active:
            outcome = tracker.track_many(image, [p.state for p in active])
            for p, result in zip(active, outcome):
                distractor = result_distractor(result)
                if p.segment is not None and p.segment.forward is not None and p.segment.backward is not None:
                    # kept for fusion; the response maps go out in the step, not into memory
                    p.results[frame] = TrackResult(result.box_xywh, result.score, box_spread=result.box_spread)
                    if distractor is not None:
                        p.distractors[frame] = distractor
                results[p.track_id] = result
                if p.emit and p.writes(frame):
                    labels[p.track_id] = tracked_label(result, distractor)
                p.low_run = p.low_run + 1 if result.score < request.score_threshold else 0
                if p.low_run >= request.patience:
                    p.stopped = True
                    stops.append(PassStop(p.track_id, frame, "forward" if step > 0 else "backward", p.low_run,
                                          request.score_threshold, float(result.score)))
                    log.info("track %d stopped at frame %d after %d low-score frames", p.track_id, frame, p.low_run)
        for p in starting:
            p.state = tracker.init_target(image, p.box)
            if adapter is not None:
                adapter.adapt(p)
        if starting:
            remaining_anchors -= 1
        if active:
            yield PropagationStep(frame=frame, labels=labels, results=results, done=progress[0], total=total,
                                  stops=tuple(stops))
        if step < 0:
            yield from _fuse_finished(active, frame, request, progress, total)


def _sweep_end(done: int, planned: list[int], frame: int, step: int) -> int:
    """Progress after skipping the rest of a sweep: every planned frame of it counts as done."""
    rest = sum(1 for f in planned if (f - frame) * step > 0)
    return done + rest


def _fuse_finished(active: list[Pass], frame: int, request: PropagationRequest, progress: list[int],
                   total: int) -> Iterator[PropagationStep]:
    """Stream the fused labels of every segment whose backward pass has just ended."""
    by_frame: dict[int, dict[int, FrameLabel]] = {}
    for p in active:
        seg = p.segment
        if seg is None or seg.fused or p.emit or not p.finished_at(frame):
            continue
        seg.fused = True
        assert seg.forward is not None and seg.backward is not None
        passes = (PassResults(seg.forward.results, seg.forward.distractors),
                  PassResults(seg.backward.results, seg.backward.distractors))
        for f, label in fused_labels(seg, *passes, request).items():
            by_frame.setdefault(f, {})[seg.track_id] = label
    for f in sorted(by_frame, reverse=True):
        yield PropagationStep(frame=f, labels=by_frame[f], results={}, done=progress[0], total=total)

"""Which tracking passes a request needs: pure planning over the project, no pixels.

A pass starts on an anchor frame (a stop, or the request's start frame) and tracks
one direction up to an inclusive last frame. "fill" splits each track into segments
between consecutive stops; a segment has a forward pass from its left stop and a
backward pass from its right one, and writes only the frames that lie in the requested
range.

Stops are the human labels: manual keyframes and imported labels (ground truth from
another tool has no keyframes, and nudging one box must not re-track the rest of it).
Only a request with ``overwrite`` tracks over imported labels; nothing tracks over a
manual keyframe.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..annotations.model import FrameLabel, Project, Track, as_box
from ..errors import UserError
from ..tracking.result import TrackResult
from .request import PropagationRequest
from .segments import passes_for


@dataclass
class Pass:
    """One tracker run of one track from its anchor frame towards `last` (inclusive)."""

    track_id: int
    anchor: int
    step: int  # +1 forward, -1 backward
    last: int
    box: tuple[float, float, float, float]
    emit: bool  # labels are written frame by frame as the pass runs
    write_lo: int
    write_hi: int
    segment: Segment | None = None
    state: object = None
    results: dict[int, TrackResult] = field(default_factory=dict)
    stopped: bool = False
    low_run: int = 0
    distractors: dict[int, float] = field(default_factory=dict)  # kept beside results for fusion

    def planned_frames(self) -> range:
        return range(self.anchor + self.step, self.last + self.step, self.step)

    def covers(self, frame: int) -> bool:
        return (frame - self.anchor) * self.step > 0 and (self.last - frame) * self.step >= 0

    def finished_at(self, frame: int) -> bool:
        return self.stopped or frame == self.last

    def writes(self, frame: int) -> bool:
        return self.write_lo <= frame <= self.write_hi


@dataclass
class Segment:
    """The frames strictly between two stops of a track (one side may be missing)."""

    track_id: int
    left: int | None
    right: int | None
    left_label: FrameLabel | None
    right_label: FrameLabel | None
    write_lo: int
    write_hi: int
    forward: Pass | None = None
    backward: Pass | None = None
    fused: bool = False


@dataclass
class Plan:
    forward: list[Pass]
    backward: list[Pass]
    segments: list[Segment]


def stops(track: Track, overwrite: bool = False) -> list[int]:
    """The frames a run never writes and ends at, ascending: human labels (keyframes only with overwrite)."""
    return track.keyframes() if overwrite else track.human_frames()


def next_stop(track: Track, frame: int, overwrite: bool = False) -> int | None:
    """The first stop strictly after frame, or None."""
    keys = stops(track, overwrite)
    i = bisect.bisect_right(keys, frame)
    return keys[i] if i < len(keys) else None


def previous_stop(track: Track, frame: int, overwrite: bool = False) -> int | None:
    """The last stop strictly before frame, or None."""
    keys = stops(track, overwrite)
    i = bisect.bisect_left(keys, frame)
    return keys[i - 1] if i > 0 else None


def _track(project: Project, track_id: int) -> Track:
    track = project.tracks.get(track_id)
    if track is None:
        raise UserError(f"Track {track_id} does not exist in this project.")
    return track


def _start_box(track: Track, frame: int) -> tuple[float, float, float, float]:
    label = track.frames.get(frame)
    if label is None:
        raise UserError(f"Track {track.id} has no box on frame {frame + 1}; draw one there before propagating.")
    if label.is_absent or label.box is None:  # (absent includes a missing box)
        raise UserError(f"Track {track.id} is marked absent on frame {frame + 1}; draw its box there first.")
    return as_box(label.box)


def check_range(request: PropagationRequest, frame_count: int) -> tuple[int, int]:
    """The request's frame range clipped to the media; UserError when it is empty or outside."""
    if request.start_frame >= frame_count:
        raise UserError(f"Frame {request.start_frame + 1} is past the end of the media ({frame_count} frames).")
    stop = request.stop_frame
    if request.direction == "backward":
        stop = 0 if stop is None else stop
        if stop > request.start_frame:
            raise UserError("Backward propagation must stop before the frame it starts from.")
        return stop, request.start_frame
    stop = frame_count - 1 if stop is None else min(stop, frame_count - 1)
    if stop < request.start_frame:
        raise UserError("Propagation must stop after the frame it starts from.")
    return request.start_frame, stop


def plan_directional(project: Project, request: PropagationRequest, frame_count: int) -> Plan:
    """Forward or backward: one pass per track from the start frame to the range end or next stop."""
    lo, hi = check_range(request, frame_count)
    step = 1 if request.direction == "forward" else -1
    passes = []
    for track_id in request.track_ids:
        track = _track(project, track_id)
        box = _start_box(track, request.start_frame)
        if step > 0:
            key = next_stop(track, request.start_frame, request.overwrite)
            last = hi if key is None else min(hi, key - 1)
        else:
            key = previous_stop(track, request.start_frame, request.overwrite)
            last = lo if key is None else max(lo, key + 1)
        passes.append(Pass(track_id, request.start_frame, step, last, box, True, min(lo, hi), max(lo, hi)))
    return Plan(forward=passes if step > 0 else [], backward=passes if step < 0 else [], segments=[])


def segments_for(track: Track, lo: int, hi: int, overwrite: bool = False) -> list[Segment]:
    """Stretches between consecutive stops (plus head and tail) that hold frames of [lo, hi]."""
    keys = stops(track, overwrite)
    if not keys:
        raise UserError(f"Track {track.id} has no keyframe to fill from; draw a box on some frame first.")
    bounds: list[tuple[int | None, int | None]] = [(None, keys[0])]
    bounds += list(zip(keys[:-1], keys[1:]))
    bounds.append((keys[-1], None))
    out = []
    for left, right in bounds:
        first = lo if left is None else max(lo, left + 1)
        last = hi if right is None else min(hi, right - 1)
        if first > last:
            continue
        out.append(Segment(track.id, left, right,
                           None if left is None else track.frames[left],
                           None if right is None else track.frames[right], first, last))
    return out


def plan_fill(project: Project, request: PropagationRequest, frame_count: int) -> Plan:
    """Fill: a forward pass from each segment's left stop, a backward one from its right stop."""
    lo, hi = check_range(request, frame_count)
    forward, backward, segments = [], [], []
    for track_id in request.track_ids:
        track = _track(project, track_id)
        for seg in segments_for(track, lo, hi, request.overwrite):
            segments.append(seg)
            two_sided = seg.left is not None and seg.right is not None
            from_left, from_right = passes_for(seg.left_label, seg.right_label)
            if from_left:
                last = seg.write_hi if seg.right is None else seg.right - 1
                # mypy, next line: a segment's human end has a box
                seg.forward = Pass(track_id, seg.left, 1, last, tuple(seg.left_label.box), True,  # type: ignore[union-attr, arg-type]
                                   seg.write_lo, seg.write_hi, seg)
                forward.append(seg.forward)
            if from_right:
                last = seg.write_lo if seg.left is None else seg.left + 1
                # mypy, next line: a segment's human end has a box
                seg.backward = Pass(track_id, seg.right, -1, last, tuple(seg.right_label.box),  # type: ignore[union-attr, arg-type]
                                    not (two_sided and seg.forward is not None), seg.write_lo, seg.write_hi, seg)
                backward.append(seg.backward)
    return Plan(forward=forward, backward=backward, segments=segments)


def linear_anchors(track: Track, request: PropagationRequest) -> dict[int, FrameLabel]:
    """Stops, plus the start frame's label for forward/backward (it need not be human)."""
    anchors = {i: track.frames[i] for i in stops(track, request.overwrite)}
    if request.direction != "fill":
        anchors[request.start_frame] = track.frames.get(request.start_frame) or _missing(track, request.start_frame)
    return anchors


def _missing(track: Track, frame: int) -> FrameLabel:
    raise UserError(f"Track {track.id} has no box on frame {frame + 1}; draw one there before propagating.")


def linear_frames(track: Track, request: PropagationRequest, frame_count: int) -> list[int]:
    """The frames a linear request writes for one track, in the order they are streamed."""
    lo, hi = check_range(request, frame_count)
    keys = stops(track, request.overwrite)
    if request.direction == "forward":
        nxt = next_stop(track, request.start_frame, request.overwrite)
        hi = hi if nxt is None else min(hi, nxt - 1)
        return list(range(request.start_frame + 1, hi + 1))
    if request.direction == "backward":
        prev = previous_stop(track, request.start_frame, request.overwrite)
        lo = lo if prev is None else max(lo, prev + 1)
        return list(range(request.start_frame - 1, lo - 1, -1))
    keyset = set(keys)
    return [f for f in range(lo, hi + 1) if f not in keyset]

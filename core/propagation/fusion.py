"""Fusing a forward and a backward tracking pass over the frames between two keyframes.

Why not "each frame from the nearer keyframe": a tracker that drifts keeps drifting, so the
nearer pass is often the lost one, and that naive rule loses to forward-only tracking
(the effort simulator shows it: ``siamcross simulate --fusion nearest``). The rule here
("agreement") uses what two independent passes tell us:

1. Where the passes agree (IoU >= agree_iou), both are almost surely on the target: the box
   is their mean weighted by score x closeness to each pass's keyframe, and the confidence is
   high (noisy-OR of the two scores).
2. Drift is persistent: a pass is right on a prefix starting at its own keyframe. So frames
   before the first agreeing frame take the forward pass, frames after the last agreeing
   frame take the backward pass (each is the pass that has not yet met the other one).
3. A disagreeing stretch between two agreeing frames: one pass left the target and came back,
   or the forward pass drifted and the backward pass took over. Scores often mislead here (a
   lost Lite pass can score higher than the right one), so the stretch takes the forward pass
   up to a switch frame and the backward pass after it, where the switch (possibly at either
   end) makes the smoothest motion through the two agreeing frames around it, less
   STRETCH_SCORE_WEIGHT x the chosen scores: the target moves smoothly, a lost pass jumps
   (core.propagation.boxes.motion_jump). Its frames are marked low-confidence (score <= the
   passes' IoU).
4. No agreement at all: the single switch frame s (forward up to s, backward after) that
   maximises the summed scores (plus a small prior for the nearer keyframe, so equal scores
   switch half-way) is chosen, and every frame is marked low-confidence.
Frames only one pass reached take that pass; frames neither reached are left out.

"score" (per frame: higher score x closeness) and "nearest" (the naive rule) are kept to
measure against (``siamcross simulate --fusion``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate

from ..tracking.result import TrackResult
from .boxes import Box, iou_xywh, motion_jump, weighted_box

DEFAULT_AGREE_IOU = 0.5
"""For trackers that do not say otherwise (a tracker's own ``fill_agree_iou`` wins); chosen with
the effort simulator (``siamcross simulate --agree-iou``)."""
CLOSENESS_PRIOR = 0.1
STRETCH_SCORE_WEIGHT = 1.0
"""Scores' weight against motion smoothness in a disagreeing stretch, chosen with the effort
simulator on train/ and seqs/ (benchmarks/simulate_bench.py): taking one pass by its mean score,
or the smoothest switch without scores, needed more corrections."""


def agree_iou_for(tracker: object, requested: float | None = None) -> float:
    """The agreement IoU to fuse a tracker's passes with: the request's, else the tracker's own
    ``fill_agree_iou`` (two right passes of a tracker whose boxes jitter overlap less), else
    DEFAULT_AGREE_IOU."""
    if requested is not None:
        return float(requested)
    return float(getattr(tracker, "fill_agree_iou", DEFAULT_AGREE_IOU))


@dataclass(frozen=True)
class FusedBox:
    """The fused box of one frame; source is "forward", "backward" or "blend"."""

    box: Box
    score: float
    source: str


def _closeness(frame: int, left: int, right: int) -> tuple[float, float]:
    """(weight of the forward pass, weight of the backward pass) by distance to their keyframes."""
    span = right - left
    return (right - frame) / span, (frame - left) / span


def _single(result: TrackResult, source: str) -> FusedBox:
    # mypy, next line: box_xywh is four numbers, kept as the tracker gave them
    return FusedBox(tuple(result.box_xywh), float(result.score), source)  # type: ignore[arg-type]


def _blend(frame: int, left: int, right: int, f: TrackResult, b: TrackResult) -> FusedBox:
    near_f, near_b = _closeness(frame, left, right)
    box = weighted_box(f.box_xywh, b.box_xywh, f.score * near_f, b.score * near_b)
    score = 1.0 - (1.0 - f.score) * (1.0 - b.score)
    return FusedBox(box, float(score), "blend")


def _flagged(result: TrackResult, source: str, agreement: float) -> FusedBox:
    """A box chosen where the passes disagree: its confidence is capped by their overlap."""
    # mypy, next line: as in _single
    return FusedBox(tuple(result.box_xywh), float(min(result.score, agreement)), source)  # type: ignore[arg-type]


def fuse_segment(left: int, right: int, forward: Mapping[int, TrackResult], backward: Mapping[int, TrackResult],
                 rule: str = "agreement", agree_iou: float = DEFAULT_AGREE_IOU) -> dict[int, FusedBox]:
    """Fused boxes for the frames strictly between keyframes `left` and `right`.

    forward: results of the pass started at `left`; backward: of the pass started at `right`
    (either may miss frames where its pass stopped). Returns only frames some pass reached.
    """
    if right - left < 2:
        return {}
    frames = range(left + 1, right)
    if rule == "nearest":
        return _fuse_nearest(frames, left, right, forward, backward)
    if rule == "score":
        return _fuse_by_score(frames, left, right, forward, backward)
    if rule != "agreement":
        raise ValueError(f"unknown fusion rule {rule!r}")
    return _fuse_by_agreement(frames, left, right, forward, backward, agree_iou)


def _fuse_nearest(frames: range, left: int, right: int, forward: Mapping[int, TrackResult],
                  backward: Mapping[int, TrackResult]) -> dict[int, FusedBox]:
    out = {}
    for frame in frames:
        f, b = forward.get(frame), backward.get(frame)
        prefer_forward = frame - left <= right - frame
        if f is not None and (prefer_forward or b is None):
            out[frame] = _single(f, "forward")
        elif b is not None:
            out[frame] = _single(b, "backward")
    return out


def _fuse_by_score(frames: range, left: int, right: int, forward: Mapping[int, TrackResult],
                   backward: Mapping[int, TrackResult]) -> dict[int, FusedBox]:
    out = {}
    for frame in frames:
        f, b = forward.get(frame), backward.get(frame)
        if f is None or b is None:
            if f is not None or b is not None:
                # mypy, next line: one of f, b is set
                out[frame] = _single(f or b, "forward" if f is not None else "backward")  # type: ignore[arg-type]
            continue
        near_f, near_b = _closeness(frame, left, right)
        out[frame] = _single(f, "forward") if f.score * near_f >= b.score * near_b else _single(b, "backward")
    return out


def _fuse_by_agreement(frames: range, left: int, right: int, forward: Mapping[int, TrackResult],
                       backward: Mapping[int, TrackResult], agree_iou: float) -> dict[int, FusedBox]:
    out: dict[int, FusedBox] = {}
    both: list[int] = []
    overlap: dict[int, float] = {}
    for frame in frames:
        f, b = forward.get(frame), backward.get(frame)
        if f is None and b is None:
            continue
        if f is None or b is None:
            # mypy, next line: one of f, b is set
            out[frame] = _single(f or b, "forward" if f is not None else "backward")  # type: ignore[arg-type]
            continue
        both.append(frame)
        overlap[frame] = iou_xywh(f.box_xywh, b.box_xywh)
    agreeing = [frame for frame in both if overlap[frame] >= agree_iou]
    if not agreeing:
        _switch_once(both, left, right, forward, backward, overlap, out)
        return out
    first, last = agreeing[0], agreeing[-1]
    stretch: list[int] = []
    for frame in both:
        if overlap[frame] < agree_iou and first < frame < last:
            stretch.append(frame)
            continue
        if stretch:
            _resolve_stretch(stretch, forward, backward, overlap, out)
            stretch = []
        if overlap[frame] >= agree_iou:
            out[frame] = _blend(frame, left, right, forward[frame], backward[frame])
        elif frame < first:
            out[frame] = _single(forward[frame], "forward")
        else:
            out[frame] = _single(backward[frame], "backward")
    if stretch:
        _resolve_stretch(stretch, forward, backward, overlap, out)
    return out


def _resolve_stretch(stretch: list[int], forward: Mapping[int, TrackResult], backward: Mapping[int, TrackResult],
                     overlap: Mapping[int, float], out: dict[int, FusedBox]) -> None:
    """A disagreeing stretch between agreeing frames: forward up to the switch that moves most
    smoothly through the agreeing frames around it (rule 3 of the module docstring)."""
    before, after = stretch[0] - 1, stretch[-1] + 1
    f_boxes = [tuple(forward[i].box_xywh) for i in stretch]
    b_boxes = [tuple(backward[i].box_xywh) for i in stretch]
    start, end = tuple(forward[before].box_xywh), tuple(backward[after].box_xywh)
    # cost(k): forward on stretch[:k], backward on stretch[k:]. Prefix sums from `start` along
    # the forward boxes, suffix sums (index = frames from the end) back from `end`.
    f_path = [0.0, *accumulate(motion_jump(p, q) for p, q in zip([start, *f_boxes], f_boxes))]
    b_path = [0.0, *accumulate(motion_jump(p, q) for p, q in zip(b_boxes[::-1], [end, *b_boxes[::-1]]))]
    f_score = [0.0, *accumulate(forward[i].score for i in stretch)]
    b_score = [0.0, *accumulate(backward[i].score for i in reversed(stretch))]
    n = len(stretch)

    def cost(k: int) -> float:
        last_f = f_boxes[k - 1] if k > 0 else start
        first_b = b_boxes[k] if k < n else end
        motion = f_path[k] + motion_jump(last_f, first_b) + b_path[n - k]
        return motion - STRETCH_SCORE_WEIGHT * (f_score[k] + b_score[n - k])

    switch = min(range(n + 1), key=cost)
    for k, frame in enumerate(stretch):
        chosen, source = (forward, "forward") if k < switch else (backward, "backward")
        out[frame] = _flagged(chosen[frame], source, overlap[frame])


def _switch_once(both: list[int], left: int, right: int, forward: Mapping[int, TrackResult],
                 backward: Mapping[int, TrackResult], overlap: Mapping[int, float], out: dict[int, FusedBox]) -> None:
    """No agreement anywhere: forward up to one switch frame, backward after it, best summed score.

    Each frame's utility is the pass's score plus CLOSENESS_PRIOR x its closeness to the pass's
    keyframe, so that equal scores (no information) switch half-way.
    """
    if not both:
        return

    def utility(frame: int) -> tuple[float, float]:
        near_f, near_b = _closeness(frame, left, right)
        return (forward[frame].score + CLOSENESS_PRIOR * near_f, backward[frame].score + CLOSENESS_PRIOR * near_b)

    # gain after k frames = forward utilities on both[:k] + backward utilities on both[k:]
    utilities = [utility(frame) for frame in both]
    gain = sum(u_b for _, u_b in utilities)
    best_k, best_gain = 0, gain
    for k, (u_f, u_b) in enumerate(utilities, start=1):
        gain += u_f - u_b
        if gain > best_gain:
            best_k, best_gain = k, gain
    for k, frame in enumerate(both):
        chosen, source = (forward, "forward") if k < best_k else (backward, "backward")
        out[frame] = _flagged(chosen[frame], source, overlap[frame])

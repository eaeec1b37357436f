"""Keyframes -> in-between frames without a tracker: pure functions over FrameLabels.

CVAT's rule, typed: between two visible keyframes each coordinate moves linearly with the
frame index; after the last keyframe the box is held; a keyframe marked absent makes the
frames after it absent until the next keyframe. Nothing here reads pixels, so it is exact
and tested without a model.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping

from ..annotations.model import Flags, FrameLabel, Provenance
from .boxes import lerp_box

ABSENT_INTERPOLATED = FrameLabel(box=None, provenance=Provenance.INTERPOLATED, flags=Flags(absent=True))


def interpolate_pair(left_frame: int, left: FrameLabel, right_frame: int, right: FrameLabel,
                     frame: int) -> FrameLabel:
    """The label at `frame` strictly between two anchors (left_frame < frame < right_frame)."""
    if not left_frame < frame < right_frame:
        raise ValueError(f"frame {frame} is not between {left_frame} and {right_frame}")
    if left.is_absent:
        return ABSENT_INTERPOLATED
    if right.is_absent:  # the object leaves at the right keyframe: hold until then
        return FrameLabel(box=left.box, provenance=Provenance.INTERPOLATED)
    t = (frame - left_frame) / (right_frame - left_frame)
    # mypy, next line: both boxes are present: absent ends returned above
    return FrameLabel(box=lerp_box(left.box, right.box, t), provenance=Provenance.INTERPOLATED)  # type: ignore[arg-type]


def linear_labels(anchors: Mapping[int, FrameLabel], frames: Iterable[int],
                  hold_after_last: bool = True) -> dict[int, FrameLabel]:
    """Interpolated labels for `frames` from the anchor labels (anchor frames themselves are skipped).

    Frames before the first anchor get nothing; frames after the last anchor get its box held
    (or nothing when hold_after_last is False).
    """
    keys = sorted(anchors)
    out: dict[int, FrameLabel] = {}
    if not keys:
        return out
    for frame in frames:
        if frame in anchors:
            continue
        i = bisect.bisect_left(keys, frame)
        if i == 0:
            continue
        left_frame = keys[i - 1]
        if i < len(keys):
            right_frame = keys[i]
            out[frame] = interpolate_pair(left_frame, anchors[left_frame], right_frame, anchors[right_frame], frame)
        elif hold_after_last:
            left = anchors[left_frame]
            out[frame] = ABSENT_INTERPOLATED if left.is_absent else FrameLabel(
                box=left.box, provenance=Provenance.INTERPOLATED)
    return out


def guide_towards_linear(tracked: FrameLabel, linear: FrameLabel) -> FrameLabel:
    """Tracker-guided interpolation: trust the tracker as much as its score, the line for the rest.

    box = s * tracked + (1 - s) * linear with s the tracked score; a confident tracker keeps its
    box, an unsure one falls back to the straight path between the keyframes.
    """
    if tracked.is_absent or linear.is_absent or tracked.score is None:
        return tracked
    s = min(max(float(tracked.score), 0.0), 1.0)
    # mypy, next line: guided only where both have boxes
    return tracked.with_(box=lerp_box(linear.box, tracked.box, s))  # type: ignore[arg-type]

"""What "fill" writes between two stops of a track, from the passes that ran: pure functions.

The engine plans and streams with these (core.propagation.plan, .engine); the annotation-effort
simulator (core.evaluation.simulator) calls the same functions on its cached passes, so what it
counts is what the app would show.

Between a left and a right stop: a forward pass starts from a visible left stop and a backward
pass from a visible right one (``passes_for``). Two passes are fused (core.propagation.fusion);
one pass writes its tracked labels as it runs; after an absent stop with nothing coming from
the right the target stays absent (CVAT's "outside" rule, as in core.propagation.interpolation).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from ..annotations.model import Flags, FrameLabel, Provenance, as_box
from ..review.cues import result_distractor
from ..tracking.result import TrackResult
from .boxes import iou_xywh
from .fusion import agree_iou_for, fuse_segment
from .interpolation import ABSENT_INTERPOLATED, guide_towards_linear, interpolate_pair
from .request import PropagationRequest

if TYPE_CHECKING:
    from .plan import Segment


@dataclass(frozen=True)
class PassResults:
    """What one pass produced by frame, as far as it ran: its results (their box spread
    included) and the distractor cue measured on their maps (frames without one have no cue)."""

    results: Mapping[int, TrackResult]
    distractors: Mapping[int, float] = field(default_factory=dict)


def passes_for(left_label: FrameLabel | None, right_label: FrameLabel | None) -> tuple[bool, bool]:
    """(forward, backward): which passes fill runs between two stops (None: no stop on that side)."""
    return (left_label is not None and not left_label.is_absent,
            right_label is not None and not right_label.is_absent)


def stays_absent(left_label: FrameLabel | None, backward: bool) -> bool:
    """True when the frames after an absent stop stay absent: no backward pass comes from the right."""
    return not backward and left_label is not None and left_label.is_absent


def tracked_label(result: TrackResult, distractor: float | None = None) -> FrameLabel:
    """A tracker result as a TRACKED frame label (box as plain floats), with its response map's
    distractor cue (core.review.cues) when the result has maps or the caller measured it, and
    its box spread when the tracker reported one."""
    if distractor is None:
        distractor = result_distractor(result)
    return FrameLabel(box=as_box(result.box_xywh), provenance=Provenance.TRACKED,
                      score=float(result.score), flags=Flags(), distractor=distractor,
                      box_spread=_float_or_none(result.box_spread))


def _float_or_none(value: float | None) -> float | None:
    return None if value is None else float(value)


def segment_labels(seg: Segment, forward: PassResults | None, backward: PassResults | None,
                   request: PropagationRequest) -> dict[int, FrameLabel | None]:
    """Every frame of seg.write_lo..write_hi as fill leaves it once the passes that ran
    (``passes_for``) are done: fused where both ran, the one pass's tracked labels (None where it
    did not reach: it stopped), absent after an absent stop, None where nothing is written."""
    frames = range(seg.write_lo, seg.write_hi + 1)
    if stays_absent(seg.left_label, backward is not None):
        return {f: ABSENT_INTERPOLATED for f in frames}
    if forward is not None and backward is not None:
        return dict(fused_labels(seg, forward, backward, request))
    only = forward or backward
    if only is None:
        return {f: None for f in frames}
    return {f: tracked_label(only.results[f], only.distractors.get(f)) if f in only.results else None
            for f in frames}


def fused_labels(seg: Segment, forward: PassResults, backward: PassResults,
                 request: PropagationRequest) -> dict[int, FrameLabel]:
    """Final labels of a two-sided segment from its two passes (see core.propagation.fusion)."""
    assert seg.left is not None and seg.right is not None
    fused = fuse_segment(seg.left, seg.right, forward.results, backward.results, rule=request.fusion,
                         agree_iou=agree_iou_for(None, request.agree_iou))
    out: dict[int, FrameLabel] = {}
    for frame in range(seg.write_lo, seg.write_hi + 1):
        # mypy, next line: fused segments have labels at both ends
        linear = interpolate_pair(seg.left, seg.left_label, seg.right, seg.right_label, frame)  # type: ignore[arg-type]
        box = fused.get(frame)
        if box is None:
            out[frame] = linear.with_(score=0.0)
            continue
        x, y, w, h = (float(v) for v in box.box)
        label = FrameLabel(box=(x, y, w, h), provenance=Provenance.TRACKED,
                           score=float(box.score), **_fused_cues(forward, backward, frame, box.source))
        out[frame] = guide_towards_linear(label, linear) if request.method == "guided" else label
    return out


class _Cues(TypedDict):
    distractor: float | None
    disagreement: float | None
    box_spread: float | None


def _fused_cues(forward: PassResults, backward: PassResults, frame: int, source: str) -> _Cues:
    """The review cues of one fused frame: the distractor and box spread of the pass it came
    from (the larger of the two for a blend) and how far the two passes' boxes are apart there."""
    f, b = forward.results.get(frame), backward.results.get(frame)
    disagreement = 1.0 - iou_xywh(f.box_xywh, b.box_xywh) if f is not None and b is not None else None
    sources = [(p, result) for p, result, name in ((forward, f, "forward"), (backward, b, "backward"))
               if source in (name, "blend")]
    peaks = [v for v in (p.distractors.get(frame) for p, _ in sources) if v is not None]
    spreads = [float(r.box_spread) for _, r in sources if r is not None and r.box_spread is not None]
    return {"distractor": max(peaks) if peaks else None, "disagreement": disagreement,
            "box_spread": max(spreads) if spreads else None}

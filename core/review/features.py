"""Evidence that a derived box is wrong, one row of features per reviewable frame.

Every cue is measured against the track itself, outward from the human label the frame was
tracked from: a tracker's scores differ by target and by model (the issue's wrong boxes
scored well above any fixed line), but a box that drifts off its target scores below what
that same track scored since its keyframe, or moves, grows or reshapes faster than the track
has been doing. Frames between two human labels are measured from the nearer one (the pass
that started there reached them first; fill fuses its two passes the same way).

Features never see the truth, so one function serves the app, the benchmark and the fit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .series import TrackSeries

LEVEL_WINDOW = 30
"""Frames of history behind a frame's running levels (score, second peak, motion)."""
RECENT = 5
"""Frames over which a sustained score drop is averaged (one low frame is often noise)."""
MOTION_FLOOR = 0.02
"""Centre motion, in target sizes, below which a target counts as still: keeps the ratio of
two nearly still frames from reading as a jump."""

FEATURES = (
    "drop",             # running score level minus this frame's score (0 when higher)
    "sustained_drop",   # running score level minus the mean of the last RECENT scores
    "low",              # 1 - score
    "size_step",        # |log| size change from the previous frame
    "size_drift",       # |log| size change from the anchor's box
    "aspect_step",      # |log| aspect change from the previous frame
    "aspect_drift",     # |log| aspect change from the anchor's box
    "motion",           # log of this frame's centre motion over the track's typical motion
    "distractor",       # second response peak over the first (0 when not recorded)
    "distractor_rise",  # distractor above the track's running level of it
    "disagreement",     # 1 - IoU of the forward and backward passes (0 when not recorded)
    "interpolated",     # no tracker reached the frame
)


@dataclass(frozen=True)
class FrameFacts:
    """What an explanation quotes: measurements of one frame, not model weights.

    score: the frame's score (interpolated: 0); level: the track's running score level before
    it (NaN without history); size_step / aspect_step: this box over the previous one;
    size_drift / aspect_drift: this box over the anchor's; motion: this frame's centre motion
    over the track's typical motion; distractor and its running level; disagreement (0 when
    not recorded); anchor_frame: the human label it was measured from (None if the track has
    none).
    """

    score: float
    level: float
    size_step: float
    aspect_step: float
    size_drift: float
    aspect_drift: float
    motion: float
    distractor: float
    distractor_level: float
    disagreement: float
    interpolated: bool
    anchor_frame: int | None


@dataclass(frozen=True)
class FeatureTable:
    """Features of the reviewable frames of one track: rows[i] and facts[i] belong to frames[i]."""

    frames: np.ndarray
    rows: np.ndarray  # float [n, len(FEATURES)]
    facts: tuple[FrameFacts, ...]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])


def _paths(series: TrackSeries) -> list[tuple[int | None, list[int]]]:
    """(anchor index, reviewable indices walked outward from it) for every stretch of derived labels."""
    present = series.present
    n = len(series)
    bounds = [-1, *np.flatnonzero(series.human).tolist(), n]
    paths: list[tuple[int | None, list[int]]] = []
    for left, right in zip(bounds, bounds[1:]):
        inside = [i for i in range(left + 1, right) if present[i]]
        if not inside:
            continue
        left_anchor = left if left >= 0 and present[left] else None
        right_anchor = right if right < n and present[right] else None
        if right_anchor is None:
            paths.append((left_anchor, inside))
        elif left_anchor is None:
            paths.append((right_anchor, inside[::-1]))
        else:
            lf, rf = int(series.frames[left_anchor]), int(series.frames[right_anchor])
            near_left = [i for i in inside if int(series.frames[i]) - lf <= rf - int(series.frames[i])]
            near_right = [i for i in inside if int(series.frames[i]) - lf > rf - int(series.frames[i])]
            if near_left:
                paths.append((left_anchor, near_left))
            if near_right:
                paths.append((right_anchor, near_right[::-1]))
    return paths


def _side(box: np.ndarray) -> float:
    return math.sqrt(max(float(box[2]), 1e-3) * max(float(box[3]), 1e-3))


def _aspect(box: np.ndarray) -> float:
    return max(float(box[2]), 1e-3) / max(float(box[3]), 1e-3)


def _centre_motion(a: np.ndarray, b: np.ndarray) -> float:
    """Centre distance of two boxes in units of their mean side."""
    distance = math.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2)
    return float(distance) / (0.5 * (_side(a) + _side(b)))


def _known(value: float) -> float:
    return float(value) if math.isfinite(value) else 0.0


def _walk(series: TrackSeries, anchor: int | None, path: list[int]) -> tuple[list[list[float]], list[FrameFacts]]:
    """Features of the frames of one path, in path order (outward from the anchor)."""
    rows: list[list[float]] = []
    facts: list[FrameFacts] = []
    scores: list[float] = []   # tracker scores so far on this path (interpolated frames left out)
    motions: list[float] = []
    peaks: list[float] = []
    anchor_box = series.boxes[anchor] if anchor is not None else series.boxes[path[0]]
    previous = anchor_box
    anchor_frame = int(series.frames[anchor]) if anchor is not None else None
    for i in path:
        box = series.boxes[i]
        interpolated = bool(series.interpolated[i])
        level = _median(scores[-LEVEL_WINDOW:]) if scores else math.nan
        raw = float(series.scores[i])
        score = raw if math.isfinite(raw) else (level if math.isfinite(level) else 1.0)
        recent = [*scores[-(RECENT - 1):], score]
        if not interpolated:
            scores.append(score)
        has_level = math.isfinite(level)
        moved = _centre_motion(previous, box)
        typical = _median(motions[-LEVEL_WINDOW:]) if motions else moved
        motions.append(moved)
        motion = (moved + MOTION_FLOOR) / (typical + MOTION_FLOOR)
        distractor = _known(series.distractor[i])
        usual_peak = _median(peaks[-LEVEL_WINDOW:]) if peaks else distractor
        peaks.append(distractor)
        disagreement = _known(series.disagreement[i])
        fact = FrameFacts(
            score=score, level=level,
            size_step=_side(box) / _side(previous), aspect_step=_aspect(box) / _aspect(previous),
            size_drift=_side(box) / _side(anchor_box), aspect_drift=_aspect(box) / _aspect(anchor_box),
            motion=motion, distractor=distractor, distractor_level=usual_peak, disagreement=disagreement,
            interpolated=interpolated, anchor_frame=anchor_frame)
        rows.append([
            max(0.0, level - score) if has_level else 0.0,
            max(0.0, level - sum(recent) / len(recent)) if has_level else 0.0,
            1.0 - score,
            abs(math.log(fact.size_step)), abs(math.log(fact.size_drift)),
            abs(math.log(fact.aspect_step)), abs(math.log(fact.aspect_drift)),
            math.log(motion),
            distractor, max(0.0, distractor - usual_peak),
            disagreement, float(interpolated),
        ])
        facts.append(fact)
        previous = box
    return rows, facts


def track_features(series: TrackSeries) -> FeatureTable:
    """Features of every derived frame with a box (human labels and absent frames have none)."""
    order: list[int] = []
    rows: list[list[float]] = []
    facts: list[FrameFacts] = []
    for anchor, path in _paths(series):
        path_rows, path_facts = _walk(series, anchor, path)
        order.extend(path)
        rows.extend(path_rows)
        facts.extend(path_facts)
    if not order:
        return FeatureTable(np.zeros(0, np.int64), np.zeros((0, len(FEATURES))), ())
    frames = series.frames[order]
    sort = np.argsort(frames, kind="stable")
    return FeatureTable(frames=frames[sort], rows=np.asarray(rows, dtype=np.float64)[sort],
                        facts=tuple(facts[k] for k in sort))

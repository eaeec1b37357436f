"""Evidence that a derived box is wrong, one row of features per reviewable frame.

What the queue ranks by (core.review.rule): the tracker's score (as 1 - score), the box spread
(how much the boxes of the best cells around the response peak disagree: a box that sits on
its target but frames it badly), how far fill's two passes disagree, and whether no tracker
reached the frame. The score is also read against the track itself, outward from the human
label the frame was tracked from, so an explanation can say it fell below what that same track
usually scores; frames between two human labels are measured from the nearer one (the pass
that started there reached them first; fill fuses its two passes the same way).

Features never see the truth, so one function serves the app and the benchmark.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .series import TrackSeries

LEVEL_WINDOW = 30
"""Frames of history behind a frame's running score level."""

FEATURES = (
    "low",           # 1 - score
    "box_spread",    # 1 - mean IoU of the boxes of the best cells around the peak (0 when not recorded)
    "disagreement",  # 1 - IoU of the forward and backward passes (0 when not recorded)
    "interpolated",  # no tracker reached the frame
)


@dataclass(frozen=True)
class FrameFacts:
    """What an explanation quotes: measurements of one frame.

    score: the frame's score (a frame without one: the track's level, or 1 without history);
    level: the track's running score level before it (NaN without history); box_spread and
    disagreement (0 when not recorded); anchor_frame: the human label it was measured from
    (None if the track has none).
    """

    score: float
    level: float
    box_spread: float
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


def _known(value: float) -> float:
    return float(value) if math.isfinite(value) else 0.0


def _walk(series: TrackSeries, anchor: int | None, path: list[int]) -> tuple[list[list[float]], list[FrameFacts]]:
    """Features of the frames of one path, in path order (outward from the anchor)."""
    rows: list[list[float]] = []
    facts: list[FrameFacts] = []
    scores: list[float] = []   # tracker scores so far on this path (interpolated frames left out)
    anchor_frame = int(series.frames[anchor]) if anchor is not None else None
    for i in path:
        interpolated = bool(series.interpolated[i])
        level = _median(scores[-LEVEL_WINDOW:]) if scores else math.nan
        raw = float(series.scores[i])
        score = raw if math.isfinite(raw) else (level if math.isfinite(level) else 1.0)
        if not interpolated:
            scores.append(score)
        fact = FrameFacts(score=score, level=level, box_spread=_known(series.box_spread[i]),
                          disagreement=_known(series.disagreement[i]), interpolated=interpolated,
                          anchor_frame=anchor_frame)
        rows.append([1.0 - score, fact.box_spread, fact.disagreement, float(interpolated)])
        facts.append(fact)
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

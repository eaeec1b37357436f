"""How the evidence combines into one suspicion per frame: percentile ranks, nothing fitted.

A frame's suspicion is the percentile rank of its box spread among the frames ranked with it
(the queue's candidates), plus the percentile rank of 1 - its score, plus the ruled cues at
face value. Ranks rather than raw values: scores and spreads differ in scale by tracker, model
and target, and the two cues find different wrong boxes (a low score: the tracker lost its
target; a wide spread: the box sits on the target at a high score but frames it badly), so
each counts by how unusual it is in the same queue and a frame where both are unusual comes
first. benchmarks/review_bench.py measures the rule against ranking by either cue alone. It
replaced a logistic model fitted on ../shared/data/train over the score's and the box's history
along the track: with the box spread among its features, that model still put fewer of
../shared/data/seqs's wrong frames at the head of the queue than these two ranks do.
"""
from __future__ import annotations

import numpy as np

from .features import FEATURES

RANKED = ("box_spread", "low")
"""Features that count by their percentile rank among the frames ranked together."""
RULED = ("disagreement", "interpolated")
"""Features fill produces beside the tracker's own (the passes' disagreement, 1 - their IoU; a
frame no pass reached): they count at face value, so passes that do not overlap at all, or a
frame no pass reached, weigh as much as the lowest score of the queue."""
TERMS = RANKED + RULED
MEDIAN_FRAME = np.array([0.5] * len(RANKED) + [0.0] * len(RULED))
"""What each term of a frame that is unremarkable in its queue contributes (see ``evidence``)."""


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """float [n] in (0, 1]: each value's rank among all of them over n, smallest 1/n, largest 1;
    equal values share their mean rank (a cue nobody recorded ranks every frame the same)."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        return np.zeros(0)
    order = np.argsort(values, kind="stable")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(n)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return ranks / n


def terms(rows: np.ndarray) -> np.ndarray:
    """float [n, len(TERMS)]: each term's share of the suspicion of rows [n, len(FEATURES)], the
    ranked ones ranked among these rows."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))
    columns = [percentile_ranks(rows[:, FEATURES.index(name)]) for name in RANKED]
    columns += [rows[:, FEATURES.index(name)] for name in RULED]
    return np.stack(columns, axis=1)


def suspicion(rows: np.ndarray) -> np.ndarray:
    """float [n]: higher means the box is more likely wrong (ranked among these rows)."""
    return terms(rows).sum(axis=1)


def evidence(rows: np.ndarray) -> np.ndarray:
    """float [n, len(TERMS)]: how much each term raises the suspicion above an unremarkable
    frame's (what the explanation ranks: a score in the queue's lower half says nothing)."""
    return terms(rows) - MEDIAN_FRAME

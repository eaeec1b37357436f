"""How well a review queue finds wrong boxes, measured against ground truth.

A frame is wrong when its box overlaps the truth by less than the bar (IoU). The question
the annotator asks of the queue is whether looking at its first few frames shows them the
wrong ones, so the measure is the share of all wrong frames that the first `fraction` of the
queue holds, beside the most any ranking could hold there (the queue's head is shorter than
the list of wrong frames when a tracker loses its target for long) and beside ranking by the
raw score or by the box spread alone. Stretches (consecutive wrong frames of one track) count one correction each in
the app: a stretch is found when any of its frames is in the head.
"""
from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass

import numpy as np

from ..annotations.model import FrameLabel, Project, Provenance, Track, as_box
from ..media.sequence import Sequence
from ..propagation import PropagationRequest, PropagationStep, apply_step, propagate
from ..propagation.sources import SequenceSource
from ..review.features import FEATURES, track_features
from ..review.rule import suspicion
from ..review.series import series_of
from .metrics import iou

WRONG_IOU = 0.5


@dataclass(frozen=True)
class TrackedSequence:
    """One forward run of a tracker over a labelled sequence, as the app would store it.

    track: the project track (frame 0 of the run is a manual keyframe with the truth's box);
    truth: float N x 4 ground truth (0-based x, y, w, h); stops: what the engine said when
    the pass stopped on low scores (empty when it reached the end).
    """

    name: str
    track: Track
    truth: np.ndarray
    stops: tuple[str, ...]

    @property
    def frame_count(self) -> int:
        return len(self.truth)


def track_forward(sequence: Sequence, tracker: object, patience: int = 3, score_threshold: float = 0.3,
                  max_frames: int | None = None) -> TrackedSequence:
    """Propagate forward from the sequence's first ground-truth box through the engine, with the
    app's stop on low scores (a large patience never stops)."""
    truth = np.asarray(sequence.boxes[:max_frames] if max_frames else sequence.boxes, dtype=np.float64)
    start = int(np.flatnonzero(np.isfinite(truth).all(axis=1))[0])
    track = Track(id=1)
    track.frames[start] = FrameLabel(box=as_box(truth[start]), provenance=Provenance.MANUAL)
    project = Project(tracks={1: track})
    stop = None if max_frames is None else min(max_frames, len(sequence)) - 1
    request = PropagationRequest(track_ids=(1,), direction="forward", start_frame=start, stop_frame=stop,
                                 score_threshold=score_threshold, patience=patience)
    stops: list[str] = []
    with SequenceSource(sequence) as source:
        # mypy, next line: the tracker is a duck-typed MultiTargetTracker
        for step in propagate(project, source, tracker, request):  # type: ignore[arg-type]
            apply_step(project, step)
            stops.extend(s.message() for s in _stops(step))
    return TrackedSequence(sequence.name, track, truth, tuple(stops))


def _stops(step: PropagationStep) -> tuple:
    return getattr(step, "stops", ())


@dataclass(frozen=True)
class ReviewRows:
    """Feature rows of every reviewable frame of several runs, with what the truth says."""

    rows: np.ndarray      # float [n, len(FEATURES)]
    wrong: np.ndarray     # bool [n]: IoU with the truth below WRONG_IOU
    groups: np.ndarray    # int [n]: which run
    frames: np.ndarray    # int [n]
    scores: np.ndarray    # float [n]: the stored score (what the old queue ranked by)
    names: tuple[str, ...]


def review_rows(runs: Seq[TrackedSequence], wrong_iou: float = WRONG_IOU) -> ReviewRows:
    """Rows of all runs' derived frames whose truth has a box (frames without truth say nothing)."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for g, run in enumerate(runs):
        series = series_of(run.track)
        table = track_features(series)
        truth = run.truth[table.frames]
        known = np.isfinite(truth).all(axis=1)
        boxes = np.array([run.track.frames[int(f)].box for f in table.frames], dtype=np.float64).reshape(-1, 4)
        overlap = iou(boxes[known], truth[known]) if known.any() else np.zeros(0)
        scores = np.array([run.track.frames[int(f)].score or 0.0 for f in table.frames])[known]
        parts.append((table.rows[known], overlap < wrong_iou, np.full(int(known.sum()), g),
                      table.frames[known], scores))
    if not parts:
        empty = np.zeros(0)
        return ReviewRows(np.zeros((0, len(FEATURES))), empty.astype(bool), empty.astype(int), empty.astype(int),
                          empty, tuple(r.name for r in runs))
    rows, wrong, groups, frames, scores = (np.concatenate(p) for p in zip(*parts))
    return ReviewRows(rows, wrong.astype(bool), groups.astype(int), frames.astype(int), scores,
                      tuple(r.name for r in runs))


@dataclass(frozen=True)
class HeadShare:
    """What the first `fraction` of a ranking holds.

    held: share of all wrong frames in the head; best: the most any ranking could hold there;
    precision: share of the head that is wrong; stretches: share of wrong stretches with a
    frame in the head; size: frames in the head.
    """

    fraction: float
    size: int
    held: float
    best: float
    precision: float
    stretches: float


def _stretch_ids(wrong: np.ndarray, groups: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """An id per wrong frame for its stretch of consecutive wrong frames of one run (-1 if right)."""
    ids = np.full(len(wrong), -1)
    order = np.lexsort((frames, groups))
    current = -1
    last_group: object = None
    last_frame: int | None = None
    for k in order:
        if not wrong[k]:
            last_group = None
            continue
        if last_frame is None or last_group != groups[k] or frames[k] != last_frame + 1:
            current += 1
        ids[k] = current
        last_group, last_frame = groups[k], frames[k]
    return ids


def head_share(ranking: np.ndarray, wrong: np.ndarray, groups: np.ndarray, frames: np.ndarray,
               fraction: float) -> HeadShare:
    """`ranking`: indices most suspicious first (a permutation of the rows)."""
    size = int(round(fraction * len(wrong)))
    head = np.asarray(ranking[:size], dtype=int)
    total = int(wrong.sum())
    stretches = _stretch_ids(wrong, groups, frames)
    found = set(stretches[head][stretches[head] >= 0].tolist())
    count = int(stretches.max()) + 1 if total else 0
    return HeadShare(
        fraction=fraction, size=size,
        held=float(wrong[head].sum()) / total if total else float("nan"),
        best=min(1.0, size / total) if total else float("nan"),
        precision=float(wrong[head].mean()) if size else float("nan"),
        stretches=len(found) / count if count else float("nan"),
    )


def queue_ranking(rows: ReviewRows) -> np.ndarray:
    """The review queue's order over the rows, all ranked together (as build_queue orders the
    frames of a project with one track per run)."""
    return np.lexsort((rows.groups, rows.frames, -suspicion(rows.rows)))


def score_ranking(rows: ReviewRows) -> np.ndarray:
    """The old order: lowest stored score first."""
    return np.lexsort((rows.groups, rows.frames, rows.scores))


def spread_ranking(rows: ReviewRows) -> np.ndarray:
    """The box spread alone: widest first."""
    return np.lexsort((rows.groups, rows.frames, -rows.rows[:, FEATURES.index("box_spread")]))

"""The review queue of a project: derived frames, most suspicious first, and a way to walk it.

Human labels (manual keyframes, imported labels) are never in it: a person drew them; nor
are frames a person marked reviewed (Project.reviewed), though their labels still count as
the track's history. The queue is rebuilt from the project each time it is asked for, so a
correction (and the re-propagation it sets off) is reflected at the next step; its frames are
ranked against each other (core.review.rule), so one frame's place depends on the others.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..annotations.model import Project
from .features import FEATURES, FrameFacts, track_features
from .reasons import explain
from .rule import TERMS, evidence, suspicion
from .series import series_of

EVIDENCE_SHOWN = 2
"""Pieces of evidence an explanation names at most (the strongest)."""
EVIDENCE_SHARE = 0.25
"""A second piece is named only if it weighs at least this share of the first."""


@dataclass(frozen=True)
class ReviewItem:
    """One frame of one track to look at. suspicion: the rank sum of core.review.rule (higher:
    more likely wrong); evidence: the terms that raised it most, strongest first."""

    track_id: int
    frame: int
    suspicion: float
    evidence: tuple[str, ...]
    facts: FrameFacts

    @property
    def key(self) -> tuple[int, int]:
        return (self.track_id, self.frame)

    @property
    def reason(self) -> str:
        """Why this frame is suspicious, in one line."""
        return explain(self.evidence, self.facts)


def _strongest(strength: np.ndarray) -> list[tuple[str, ...]]:
    order = np.argsort(-strength, axis=1, kind="stable")[:, :EVIDENCE_SHOWN]
    out = []
    for row, picks in zip(strength, order):
        top = row[picks[0]]
        out.append(tuple(TERMS[k] for j, k in enumerate(picks)
                         if row[k] > 0 and (j == 0 or row[k] >= EVIDENCE_SHARE * top)))
    return out


def build_queue(project: Project, track_ids: Iterable[int] | None = None) -> list[ReviewItem]:
    """Every tracked or interpolated frame with a box of the given tracks (all when None) that no
    person marked reviewed, most suspicious first (ties: earlier frame, then lower track id)."""
    chosen = sorted(project.tracks) if track_ids is None else sorted(set(track_ids) & set(project.tracks))
    accepted: set[int] = getattr(project, "reviewed", set())
    keys: list[tuple[int, int]] = []
    rows: list[np.ndarray] = []
    facts: list[FrameFacts] = []
    for track_id in chosen:
        table = track_features(series_of(project.tracks[track_id]))
        keep = [k for k, f in enumerate(table.frames) if int(f) not in accepted]
        keys.extend((track_id, int(table.frames[k])) for k in keep)
        rows.append(table.rows[keep])
        facts.extend(table.facts[k] for k in keep)
    if not keys:
        return []
    table_rows = np.concatenate(rows).reshape(-1, len(FEATURES))
    items = [ReviewItem(track_id, frame, float(s), e, fact) for (track_id, frame), s, e, fact
             in zip(keys, suspicion(table_rows), _strongest(evidence(table_rows)), facts)]
    items.sort(key=lambda item: (-item.suspicion, item.frame, item.track_id))
    return items


def walk(queue: Sequence[ReviewItem], last: tuple[int, int] | None, step: int) -> int | None:
    """The queue index to visit after `last` (a (track id, frame) key): the next one down the
    queue for step > 0, the one before for step < 0. Without a last visit, or when it has left
    the queue (corrected, re-tracked away), ``]`` starts at the top and ``[`` has nowhere to go.
    None when the walk runs off either end."""
    position = next((k for k, item in enumerate(queue) if item.key == last), None) if last is not None else None
    if position is None:
        return 0 if step > 0 and queue else None
    target = position + (1 if step > 0 else -1)
    return target if 0 <= target < len(queue) else None


@dataclass(frozen=True)
class ReviewStep:
    """Where a step of the walk landed: the item, its place in the queue (0-based) and the queue's length."""

    item: ReviewItem
    index: int
    length: int

    def message(self) -> str:
        """The status line: where in the queue, which frame (counted from 1), and why."""
        item = self.item
        return f"Review {self.index + 1}/{self.length}: track {item.track_id}, frame {item.frame + 1}: {item.reason}."


class ReviewWalk:
    """The app's ``]`` and ``[``: the queue rebuilt at every step, walked from the last frame visited."""

    def __init__(self) -> None:
        self.last: tuple[int, int] | None = None

    def step(self, project: Project, track_ids: Iterable[int] | None, step: int) -> ReviewStep | str:
        """The next (step > 0) or previous frame to review, or one sentence saying why there is none."""
        queue = build_queue(project, track_ids)
        if not queue:
            return "Nothing to review: no tracked or interpolated frames yet."
        index = walk(queue, self.last, step)
        if index is None:
            if step > 0:
                self.last = None  # the next ] starts again from the top
                return f"End of the review queue ({len(queue)} frames); ] starts again from the top."
            return "Already at the most suspicious frame; ] goes down the queue."
        self.last = queue[index].key
        return ReviewStep(queue[index], index, len(queue))

"""The primitive state changes every edit is made of, each with its before and after state.

Every high-level edit (split, merge, propagate...) is recorded as a list of these ops.
Undo applies them backwards with before/after swapped; the autosave journal stores
their after-state so a crashed session replays to the same project. Keeping them tiny
and uniform is what makes undo, redo and recovery the same code path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import FrameLabel, Project, Track


@dataclass(frozen=True)
class TrackAttrs:
    """A track without its frames: what a TrackOp creates, changes or removes.

    attributes are sorted (key, value) pairs so the record stays frozen and comparable.
    """

    label: str
    color: str
    hidden: bool
    name: str = ""
    locked: bool = False
    attributes: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def of(track: Track) -> TrackAttrs:
        return TrackAttrs(track.label, track.color, track.hidden, track.name, track.locked,
                          tuple(sorted(track.attributes.items())))

    def apply_to(self, track: Track) -> None:
        track.label, track.color, track.hidden = self.label, self.color, self.hidden
        track.name, track.locked, track.attributes = self.name, self.locked, dict(self.attributes)


@dataclass(frozen=True)
class FrameOp:
    """One track's label on one frame goes from before to after (None = no label)."""

    track_id: int
    frame: int
    before: FrameLabel | None
    after: FrameLabel | None

    def inverse(self) -> FrameOp:
        return FrameOp(self.track_id, self.frame, self.after, self.before)


@dataclass(frozen=True)
class TrackOp:
    """A track is created (before None), removed (after None, frames already cleared) or changed."""

    track_id: int
    before: TrackAttrs | None
    after: TrackAttrs | None

    def inverse(self) -> TrackOp:
        return TrackOp(self.track_id, self.after, self.before)


@dataclass(frozen=True)
class ProjectOp:
    """A project-level field changes: "next_track_id" (int) or "classes" (tuple of str)."""

    name: str
    before: Any  # the field's type, which the name decides (None: not recorded)
    after: Any

    def inverse(self) -> ProjectOp:
        return ProjectOp(self.name, self.after, self.before)


@dataclass(frozen=True)
class ReviewOp:
    """A frame becomes reviewed (accepted by a person) or not."""

    frame: int
    before: bool
    after: bool

    def inverse(self) -> ReviewOp:
        return ReviewOp(self.frame, self.after, self.before)


Op = FrameOp | TrackOp | ProjectOp | ReviewOp


def track_of(op: Op) -> int | None:
    """The track an op changes (None for project-level ops)."""
    return op.track_id if isinstance(op, (FrameOp, TrackOp)) else None


def apply_op(project: Project, op: Op) -> None:
    """Make the project hold op.after (replay-safe: removing what is already gone is a no-op)."""
    if isinstance(op, FrameOp):
        track = project.tracks[op.track_id]
        if op.after is None:
            track.frames.pop(op.frame, None)
        else:
            track.frames[op.frame] = op.after
    elif isinstance(op, TrackOp):
        if op.after is None:
            project.tracks.pop(op.track_id, None)
        elif op.track_id in project.tracks:
            op.after.apply_to(project.tracks[op.track_id])
        else:
            track = Track(op.track_id)
            op.after.apply_to(track)
            project.tracks[op.track_id] = track
    elif isinstance(op, ReviewOp):
        if op.after:
            project.reviewed.add(op.frame)
        else:
            project.reviewed.discard(op.frame)
    elif op.name == "next_track_id":
        project.next_track_id = int(op.after)
    elif op.name == "classes":
        project.classes = list(op.after)
    else:
        raise ValueError(f"unknown project op {op.name!r}")


@dataclass
class Step:
    """One undo step: the ops of one edit (or one transaction, or an edit plus joined propagation)."""

    edit_id: int
    description: str
    ops: list[Op] = field(default_factory=list)

    def track_ids(self) -> frozenset[int]:
        return frozenset(t for t in map(track_of, self.ops) if t is not None)

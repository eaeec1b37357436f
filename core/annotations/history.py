"""Undo, redo, change events and the journal of a project's edits: what AnnotationStore builds on.

An edit records its ops (core.annotations.edits) into one ``Step`` inside ``_recording``: the ops
are applied as they come, published to the journal and the listeners when the edit finishes, and
rolled back if it fails. Nested edits record into the outermost step; ``transaction()`` groups
edits into one; ``_join_target`` finds the step a re-propagation may fold into.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .edits import FrameOp, Op, ProjectOp, ReviewOp, Step, TrackOp, apply_op, track_of
from .model import Project

if TYPE_CHECKING:
    from .journal import Journal

DEFAULT_MAX_UNDO = 500


@dataclass(frozen=True)
class Change:
    """What one edit (or undo/redo) changed, for views to refresh only that.

    kind: the edit name ("add_track", "delete_track", "update_track", "set_frame",
    "clear_frames", "propagate", "split_track", "merge_tracks", "relabel_from",
    "transaction", "undo", "redo"); track_ids: tracks whose attributes or frames changed;
    frames: frame indices whose labels changed; structure: tracks were added, removed or
    renamed/recoloured/hidden (the track list needs a refresh).
    """

    kind: str
    track_ids: frozenset[int]
    frames: frozenset[int]
    structure: bool = False
    edit_id: int | None = None


Listener = Callable[[Change], None]


class EditHistory:
    """A project's undo and redo stacks, its listeners and its journal; edits are AnnotationStore's."""

    def __init__(self, project: Project, journal: Journal | None = None, max_undo: int = DEFAULT_MAX_UNDO) -> None:
        self._project = project
        self._journal = journal
        self._max_undo = max_undo
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        self._open: Step | None = None  # the step being recorded (outermost edit/transaction)
        self._published = 0  # ops of the open step already sent to journal and listeners
        self._next_edit_id = 1
        self._last_edit_id: int | None = None
        self._listeners: list[Listener] = []
        if journal is not None:
            journal.attach(project)

    # -- reading ----------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        """The live project (read it; change it only through the store's edits)."""
        return self._project

    @property
    def journal(self) -> Journal | None:
        return self._journal

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_description(self) -> str | None:
        return self._undo[-1].description if self._undo else None

    @property
    def redo_description(self) -> str | None:
        return self._redo[-1].description if self._redo else None

    @property
    def last_edit_id(self) -> int | None:
        """Edit id of the most recent step (pass it as ``join`` to fold more propagation into it)."""
        return self._last_edit_id

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call listener(Change) after every edit, undo and redo; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # -- grouping ------------------------------------------------------------------------------
    @contextmanager
    def transaction(self, description: str) -> Iterator[int]:
        """Group edits into one undo step; an exception inside rolls all of them back. Yields the edit id."""
        with self._recording("transaction", description) as step:
            yield step.edit_id

    # -- undo / redo --------------------------------------------------------------------------
    def undo(self) -> bool:
        """Revert the last step; False when there is nothing to undo."""
        if self._open is not None:
            raise RuntimeError("undo() inside an open edit or transaction")
        if not self._undo:
            return False
        step = self._undo.pop()
        ops = [op.inverse() for op in reversed(step.ops)]
        for op in ops:
            apply_op(self._project, op)
        self._redo.append(step)
        self._last_edit_id = self._undo[-1].edit_id if self._undo else None
        self._publish("undo", ops, step.edit_id)
        return True

    def redo(self) -> bool:
        """Re-apply the last undone step; False when there is nothing to redo."""
        if self._open is not None:
            raise RuntimeError("redo() inside an open edit or transaction")
        if not self._redo:
            return False
        step = self._redo.pop()
        for op in step.ops:
            apply_op(self._project, op)
        self._undo.append(step)
        self._last_edit_id = step.edit_id
        self._publish("redo", step.ops, step.edit_id)
        return True

    def clear_history(self) -> None:
        self._undo.clear()
        self._redo.clear()

    # -- recording machinery ------------------------------------------------------------------
    @contextmanager
    def _recording(self, kind: str, description: str, into: Step | None = None) -> Iterator[Step]:
        """Collect the ops of one edit; publish them at the end, roll them back on error.

        Nested edits (split inside relabel, edits inside a transaction) record into the
        outermost step and publish as they finish, so views stay live inside long
        transactions; ``into`` reopens a finished step (propagation joined to its correction).
        """
        outermost = self._open is None
        if outermost:
            if into is None:
                into = Step(self._next_edit_id, description)
                self._next_edit_id += 1
            self._open = into
            self._published = len(into.ops)
        step = self._open
        assert step is not None
        mark = len(step.ops)
        try:
            yield step
        except BaseException:
            undone = [op.inverse() for op in reversed(step.ops[mark:])]
            for op in undone:
                apply_op(self._project, op)
            del step.ops[mark:]
            self._published = min(self._published, mark)
            if outermost:
                self._open = None
            if undone:
                self._publish(kind, undone, step.edit_id)
            raise
        fresh = step.ops[self._published :]
        self._published = len(step.ops)
        if outermost:
            self._open = None
            self._commit(step, bool(step.ops[mark:]))
        if fresh:
            self._publish(kind, fresh, step.edit_id)

    def _commit(self, step: Step, changed: bool) -> None:
        if not changed:
            return
        self._redo.clear()
        if any(s is step for s in self._undo):
            return
        self._undo.append(step)
        self._redo.clear()
        self._last_edit_id = step.edit_id
        if len(self._undo) > self._max_undo:
            del self._undo[0]

    def _join_target(self, join: int, track_id: int) -> Step | None:
        """The finished (or open) step with this edit id, if folding into it keeps undo consistent."""
        if self._open is not None:
            return self._open if self._open.edit_id == join else None
        for position in range(len(self._undo) - 1, -1, -1):
            step = self._undo[position]
            if step.edit_id == join:
                later = self._undo[position + 1 :]
                if any(track_id in s.track_ids() or _has_project_ops(s) for s in later):
                    return None
                return step
        return None

    def _do(self, op: Op) -> None:
        assert self._open is not None, "ops are recorded inside _recording()"
        apply_op(self._project, op)
        self._open.ops.append(op)

    def _publish(self, kind: str, ops: list[Op], edit_id: int) -> None:
        if self._journal is not None:
            self._journal.record(kind, ops)
        frames = frozenset(op.frame for op in ops if isinstance(op, (FrameOp, ReviewOp)))
        track_ids = frozenset(t for t in map(track_of, ops) if t is not None)
        structure = any(isinstance(op, (TrackOp, ProjectOp)) for op in ops)
        change = Change(kind, track_ids, frames, structure, edit_id)
        errors: list[BaseException] = []
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception as error:  # one broken view must not starve the others
                errors.append(error)
        if errors:
            raise errors[0]


def _has_project_ops(step: Step) -> bool:
    return any(isinstance(op, ProjectOp) for op in step.ops)

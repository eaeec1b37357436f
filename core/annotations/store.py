"""The one place the project is edited: validated edits, undo/redo, change events, journal.

Views subscribe to ``Change`` events (core.annotations.history, which keeps the undo stacks
and the journal) and write back only through the store (napari's
model/view split), so undo, autosave and every widget always agree. Each public edit is
one undo step; ``transaction()`` groups several; ``apply_propagated(join=edit_id)`` folds
the re-propagation caused by a correction into that correction's step, so a single undo
removes both.

Not thread-safe by design: the GUI thread owns the store; worker threads send their
results to it (Qt signals) instead of calling it. The CLI uses it from one thread.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace

import numpy as np

from core.errors import BoxError, UserError

from .colors import color_for
from .edits import FrameOp, ProjectOp, ReviewOp, TrackAttrs, TrackOp
from .history import EditHistory
from .model import FrameLabel, Provenance, Track, propagation_may_replace


class TrackLocked(UserError):
    """An edit would change a locked track (unlock it first)."""


class TrackNotFound(UserError, KeyError):
    """An edit names a track id the project does not have."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else "Track not found."


class AnnotationStore(EditHistory):
    """Edits a Project in place; every edit validated, undoable, journalled and announced
    (``EditHistory``: undo, redo, ``transaction()``, ``subscribe``, the journal)."""

    def track(self, track_id: int) -> Track:
        try:
            return self._project.tracks[track_id]
        except KeyError:
            raise TrackNotFound(f"Track {track_id} does not exist.") from None

    # -- edits --------------------------------------------------------------------------------
    def add_track(self, label: str = "object", color: str | None = None) -> Track:
        """A new empty track with the next free id and a palette colour unless one is given."""
        label = _check_label(label)
        with self._recording("add_track", f"Add track ({label})"):
            before_next = self._project.next_track_id
            track_id = max([before_next, *[t + 1 for t in self._project.tracks]])
            self._do(ProjectOp("next_track_id", before_next, track_id + 1))
            self._do(TrackOp(track_id, None, TrackAttrs(label, _check_color(color or color_for(track_id)), False)))
            self._ensure_class(label)
        return self._project.tracks[track_id]

    def delete_track(self, track_id: int) -> int:
        track = self._unlocked(track_id)
        with self._recording("delete_track", f"Delete track {track_id}") as step:
            self._remove_track(track)
        return step.edit_id

    def update_track(
        self, track_id: int, label: str | None = None, color: str | None = None, hidden: bool | None = None,
        name: str | None = None, locked: bool | None = None, attributes: Mapping[str, str] | None = None,
    ) -> int:
        """Change a track's class (label), colour, visibility, name, lock or attributes.

        A locked track's class, name and attributes stay (TrackLocked); colour, visibility and
        the lock itself can change.
        """
        track = self.track(track_id)
        before = TrackAttrs.of(track)
        after = TrackAttrs(
            _check_label(label) if label is not None else before.label,
            _check_color(color) if color is not None else before.color,
            bool(hidden) if hidden is not None else before.hidden,
            _check_name(name) if name is not None else before.name,
            bool(locked) if locked is not None else before.locked,
            _check_attributes(attributes) if attributes is not None else before.attributes,
        )
        if before.locked and after.locked and (after.label, after.name, after.attributes) != (
                before.label, before.name, before.attributes):
            raise TrackLocked(f"Track #{track_id} is locked; unlock it to change its class, name or attributes.")
        with self._recording("update_track", f"Change track {track_id}") as step:
            if after != before:
                self._do(TrackOp(track_id, before, after))
            if label is not None:
                self._ensure_class(after.label)
        return step.edit_id

    def set_frame(self, track_id: int, frame: int, label: FrameLabel) -> int:
        """Write one label (a correction passes Provenance.MANUAL); returns the edit id for ``join``.

        A keyframe drawn over a tracked box keeps that box as ``corrected_from`` (what the tracker
        wrongly held; adaptation learns it as a distractor), unless the label already says."""
        track = self._unlocked(track_id)
        frame = self._check_frame(frame)
        _check_frame_label(label, frame)
        label = with_corrected_from(label, track.frames.get(frame))
        with self._recording("set_frame", f"Set box of track {track_id} on frame {frame}") as step:
            self._set(track, frame, label)
        return step.edit_id

    def set_frames(self, track_id: int, labels: Mapping[int, FrameLabel], description: str = "Set boxes") -> int:
        """Write many labels as one step, overwriting anything (imports, interpolation the user asked for)."""
        track = self._unlocked(track_id)
        checked = self._check_labels(labels)
        with self._recording("set_frame", description) as step:
            for frame, label in checked:
                self._set(track, frame, label)
        return step.edit_id

    def clear_frames(self, track_id: int, frames: Iterable[int]) -> int:
        track = self._unlocked(track_id)
        frames = sorted({self._check_frame(f) for f in frames})
        with self._recording("clear_frames", f"Clear {len(frames)} frame(s) of track {track_id}") as step:
            for frame in frames:
                self._set(track, frame, None)
        return step.edit_id

    def apply_propagated(
        self, track_id: int, labels: Mapping[int, FrameLabel], join: int | None = None, overwrite: bool = False
    ) -> list[int]:
        """Write tracker/interpolated labels, never over a human label; returns the frames written.
        A reviewed frame whose box changes is not reviewed any more: nobody saw the new box.

        Human labels are manual keyframes and imported labels; overwrite=True (the user chose
        to replace imported labels) lets imported ones be written over, never keyframes.

        join=edit_id folds the writes into that edit's undo step (a correction and its
        re-propagation undo together). If that edit was undone meanwhile the labels are
        stale and nothing is written; if it is buried under later edits of the same track,
        the writes become their own step.
        """
        track = self.track(track_id)
        checked = self._check_labels(labels)
        if track.locked:  # never changed by propagation: a run that started before the lock writes nothing
            return []
        step = self._join_target(join, track_id) if join is not None else None
        if join is not None and step is None and any(s.edit_id == join for s in self._redo):
            return []
        written: list[int] = []
        with self._recording("propagate", f"Propagate track {track_id}", into=step):
            for frame, label in checked:
                existing = track.frames.get(frame)
                if not propagation_may_replace(existing, overwrite):
                    continue
                if existing != label:
                    self._set(track, frame, label)
                    written.append(frame)
                    if frame in self._project.reviewed and (existing is None or existing.box != label.box):
                        self._do(ReviewOp(frame, True, False))  # the person never saw this box
        return written

    def split_track(self, track_id: int, frame: int) -> int:
        """Move the frames >= frame into a new track (same label, new colour); returns its id."""
        track = self._unlocked(track_id)
        frame = self._check_frame(frame)
        with self._recording("split_track", f"Split track {track_id} at frame {frame}"):
            new_track = self.add_track(track.label)
            for index in sorted(f for f in track.frames if f >= frame):
                label = track.frames[index]
                self._set(track, index, None)
                self._set(new_track, index, label)
        return new_track.id

    def relabel_from(self, track_id: int, frame: int, label: str) -> int:
        """Give the track a new class from frame on: split there and relabel the new part.

        Returns the id of the track that carries the new label; when the track has no
        frames before ``frame`` the whole track is relabelled in place and its id returned.
        """
        track = self.track(track_id)
        frame = self._check_frame(frame)
        label = _check_label(label)
        with self._recording("relabel_from", f"Relabel track {track_id} as {label} from frame {frame}"):
            if not any(f < frame for f in track.frames):
                self.update_track(track_id, label=label)
                return track_id
            new_id = self.split_track(track_id, frame)
            self.update_track(new_id, label=label)
        return new_id

    def merge_tracks(self, keep_id: int, other_id: int) -> int:
        """Move other's frames into keep where keep has none (a manual frame beats a non-manual one)."""
        keep, other = self._unlocked(keep_id), self._unlocked(other_id)
        if keep_id == other_id:
            raise UserError(f"Track {keep_id} cannot be merged with itself.")
        with self._recording("merge_tracks", f"Merge track {other_id} into {keep_id}") as step:
            for frame in sorted(other.frames):
                label = other.frames[frame]
                mine = keep.frames.get(frame)
                if mine is None or (label.is_keyframe and not mine.is_keyframe):
                    self._set(keep, frame, label)
            self._remove_track(other)
        return step.edit_id

    def set_classes(self, classes: Iterable[str]) -> int:
        """The project's class list (add, remove, reorder); a class a track uses cannot go."""
        names = [_check_label(c) for c in classes]
        if len(set(names)) != len(names):
            raise UserError("Each class may appear only once in the class list.")
        used = {t.label for t in self._project.tracks.values()}
        missing = sorted(used - set(names))
        if missing:
            raise UserError(f"The class '{missing[0]}' is used by a track; give the track another class first.")
        with self._recording("classes", "Change the class list") as step:
            before = tuple(self._project.classes)
            if tuple(names) != before:
                self._do(ProjectOp("classes", before, tuple(names)))
        return step.edit_id

    def rename_class(self, old: str, new: str) -> int:
        """Rename a class in the list and in every track that has it, as one undo step."""
        new = _check_label(new)
        if old not in self._project.classes:
            raise UserError(f"There is no class '{old}'.")
        if new != old and new in self._project.classes:
            raise UserError(f"There is already a class '{new}'.")
        locked = sorted(t.id for t in self._project.tracks.values() if t.label == old and t.locked)
        if locked:
            raise TrackLocked(f"Track #{locked[0]} of class '{old}' is locked; unlock it to rename the class.")
        with self._recording("classes", f"Rename class {old} to {new}") as step:
            before = tuple(self._project.classes)
            after = tuple(new if c == old else c for c in before)
            if after != before:
                self._do(ProjectOp("classes", before, after))
            for track in sorted(self._project.tracks.values(), key=lambda t: t.id):
                if track.label == old and new != old:
                    attrs = TrackAttrs.of(track)
                    self._do(TrackOp(track.id, attrs, replace(attrs, label=new)))
        return step.edit_id

    def set_reviewed(self, frames: Iterable[int], reviewed: bool = True) -> int:
        """Mark frames reviewed (accepted by a person) or not, as one undo step."""
        frames = sorted({self._check_frame(f) for f in frames})
        what = "reviewed" if reviewed else "not reviewed"
        with self._recording("review", f"Mark {len(frames)} frame(s) {what}") as step:
            for frame in frames:
                if (frame in self._project.reviewed) != reviewed:
                    self._do(ReviewOp(frame, not reviewed, reviewed))
        return step.edit_id

    def _unlocked(self, track_id: int) -> Track:
        track = self.track(track_id)
        if track.locked:
            raise TrackLocked(f"Track #{track_id} is locked; unlock it to change it.")
        return track

    def _set(self, track: Track, frame: int, label: FrameLabel | None) -> None:
        before = track.frames.get(frame)
        if before != label:
            self._do(FrameOp(track.id, frame, before, label))

    def _remove_track(self, track: Track) -> None:
        for frame in sorted(track.frames):
            self._set(track, frame, None)
        self._do(TrackOp(track.id, TrackAttrs.of(track), None))

    def _ensure_class(self, label: str) -> None:
        if label not in self._project.classes:
            before = tuple(self._project.classes)
            self._do(ProjectOp("classes", before, (*before, label)))

    # -- validation ---------------------------------------------------------------------------
    def _check_frame(self, frame: int) -> int:
        if isinstance(frame, np.integer):
            frame = int(frame)
        if isinstance(frame, bool) or not isinstance(frame, int):
            raise BoxError(f"Frame index {frame!r} is not an integer.")
        media = self._project.media
        if frame < 0 or (media is not None and media.frame_count > 0 and frame >= media.frame_count):
            limit = f" (the media has {media.frame_count} frames)" if media is not None else ""
            raise BoxError(f"Frame {frame} is outside the media{limit}.")
        return frame

    def _check_labels(self, labels: Mapping[int, FrameLabel]) -> list[tuple[int, FrameLabel]]:
        checked = []
        for frame, label in sorted(labels.items()):
            frame = self._check_frame(frame)
            _check_frame_label(label, frame)
            checked.append((frame, label))
        return checked


def with_corrected_from(label: FrameLabel, previous: FrameLabel | None) -> FrameLabel:
    """A new keyframe over a machine label (tracked or interpolated, with a box) remembers that box;
    a keyframe over a keyframe keeps what the one it replaces remembered."""
    if not label.is_keyframe or label.corrected_from is not None or previous is None or previous.box is None:
        return label
    if previous.is_keyframe:
        return label.with_(corrected_from=previous.corrected_from) if previous.corrected_from else label
    if previous.is_human:
        return label
    return label.with_(corrected_from=previous.box)


def _check_label(label: str) -> str:
    if not isinstance(label, str) or not label.strip():
        raise UserError("A track label must be a non-empty text.")
    return label.strip()


def _check_name(name: str) -> str:
    if not isinstance(name, str):
        raise UserError("A track name must be a text.")
    return " ".join(name.split())


def _check_attributes(attributes: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Attributes as sorted (key, value) text pairs; keys must be non-empty."""
    out = {}
    for key, value in dict(attributes).items():
        if not isinstance(key, str) or not key.strip():
            raise UserError("An attribute needs a name.")
        if not isinstance(value, str):
            raise UserError(f"The attribute '{key}' must be a text.")
        out[key.strip()] = value.strip()
    return tuple(sorted(out.items()))


def _check_color(color: str) -> str:
    from .colors import is_hex_color

    if not is_hex_color(color):
        raise UserError(f"Colour {color!r} is not of the form #rrggbb.")
    return color.lower()


def check_box(box: object, frame: int | None = None) -> tuple[float, float, float, float]:
    """A box as 4 floats x, y, w, h; BoxError unless finite with positive width and height."""
    where = f" on frame {frame}" if frame is not None else ""
    try:
        values = tuple(float(v) for v in box)  # type: ignore[attr-defined]  # any object: TypeError below
    except (TypeError, ValueError):
        raise BoxError(f"The box{where} is not four numbers x, y, w, h.") from None
    if len(values) != 4:
        raise BoxError(f"The box{where} has {len(values)} numbers instead of four (x, y, w, h).")
    if not all(math.isfinite(v) for v in values):
        raise BoxError(f"The box{where} contains a value that is not a finite number.")
    if values[2] <= 0 or values[3] <= 0:
        raise BoxError(f"The box{where} has zero or negative width or height.")
    return values


def _check_frame_label(label: FrameLabel, frame: int) -> None:
    if not isinstance(label, FrameLabel):
        raise TypeError(f"expected a FrameLabel, got {type(label).__name__}")
    if not isinstance(label.provenance, Provenance):
        raise BoxError(f"The label on frame {frame} has an unknown provenance {label.provenance!r}.")
    if label.box is None:
        if not label.flags.absent:
            raise BoxError(f"Frame {frame} needs a box unless the target is marked absent.")
    else:
        check_box(label.box, frame)
    for name in ("score", "distractor", "disagreement", "box_spread"):
        value = getattr(label, name)
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
            raise BoxError(f"The {name} on frame {frame} is not a finite number.")


def save_store(store: AnnotationStore, path: str | os.PathLike[str]) -> None:
    """Save the store's project atomically and checkpoint (truncate) its journal."""
    from .io import save_project

    sha1 = save_project(store.project, path)
    if store.journal is not None:
        store.journal.checkpoint(sha1, path)

"""What the user does to the open project: the frame shown, the selected track, every edit and run.

The Controller holds the two parts that do the work, a ProjectSession (``session``: the open
project, its journal, saving and exporting) and a PropagationRun (``run``: the worker and what
it streams), and offers their signals under its own name. Widgets call its methods and subscribe
to its signals; it never draws. Every edit goes through the store, so it is one undo step; a
correction re-tracks only the frames up to the next human label, as the same undo step.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6 import QtCore

from core.annotations.model import Flags, FrameLabel, Project, Provenance, Track
from core.annotations.store import AnnotationStore, check_box
from core.errors import UserError
from core.tracking.result import TrackResult

from .propagation_run import PropagationRun
from .run_requests import correction_request, linear_fill, propagation_request, rederive_request
from .session import ProjectSession
from .settings import AppSettings
from .worker import TrackerFactory


class _Relayed:
    """A signal of the session or the run, offered on the controller under the same name."""

    def __init__(self, part: str) -> None:
        self.part = part

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, controller: object, owner: type | None = None):
        return self if controller is None else getattr(getattr(controller, self.part), self.name)


class Controller(QtCore.QObject):
    frameChanged = QtCore.Signal(int)
    selectionChanged = QtCore.Signal(object)  # track id or None
    mediaOpened = QtCore.Signal()             # a project opened: frame 0, its first track selected
    notice = QtCore.Signal(str)               # one sentence for the status bar
    projectChanged = _Relayed("session")      # throttled: at most one per event-loop pass
    labelsChanged = _Relayed("session")       # every store Change (tracks and frames), for incremental views
    propagationStarted = _Relayed("run")      # frames to do
    propagationProgress = _Relayed("run")     # done, total, frames/s
    propagationFinished = _Relayed("run")     # cancelled
    overlayResult = _Relayed("run")           # TrackResult with maps
    errorOccurred = _Relayed("run")
    warningOccurred = _Relayed("run")         # the engine warned (e.g. while loading a model)

    def __init__(self, settings: AppSettings, tracker_factory: TrackerFactory | None = None,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.frame = 0
        self.selected: int | None = None
        self.session = ProjectSession(self)
        self.run = PropagationRun(self.session, settings, lambda: self.selected, tracker_factory, self)
        self.session.opened.connect(self._on_opened)
        self.session.notice.connect(self.notice)
        self.run.notice.connect(self.notice)
        self.run.followed.connect(self.seek)

    # --- state ------------------------------------------------------------------------------
    @property
    def store(self) -> AnnotationStore | None:
        return self.session.store

    @property
    def project(self) -> Project | None:
        return self.session.project

    def _open_store(self) -> AnnotationStore:
        """The store, where the window offers the edit only while a project is open."""
        store = self.store
        assert store is not None, "no project is open"
        return store

    @property
    def frame_count(self) -> int:
        return self.session.frame_count

    @property
    def busy(self) -> bool:
        return self.run.busy

    def track(self, track_id: int | None) -> Track | None:
        return None if track_id is None or self.project is None else self.project.tracks.get(track_id)

    def label_at(self, track_id: int, frame: int | None = None) -> FrameLabel | None:
        track = self.track(track_id)
        return None if track is None else track.frames.get(self.frame if frame is None else frame)

    def result_for(self, frame: int) -> TrackResult | None:
        """The tracker output (with maps) that explains this frame's label, for the overlay."""
        return self.run.result_for(frame)

    def current_frame_bgr(self):
        """The current frame (BGR, read-only): the worker's copy when it just tracked it, else decoded."""
        if self.session.cache is None:
            return None
        streamed = self.run.streamed_image(self.frame)
        return streamed if streamed is not None else self.session.cache.get(self.frame)

    # --- the project as a whole -------------------------------------------------------------
    def _on_opened(self) -> None:
        project = self._open_store().project
        self.frame = 0
        self.selected = min(project.tracks) if project.tracks else None
        self.mediaOpened.emit()
        self.selectionChanged.emit(self.selected)
        self.frameChanged.emit(0)

    def save(self, path: str | Path | None = None) -> Path:
        """Save (see ProjectSession.save) with what a running propagation streamed so far."""
        self.run.flush()
        return self.session.save(path)

    def export(self, fmt: str, out_dir: str | Path, images: bool = False, progress=None) -> None:
        """Export (see ProjectSession.export) with what a running propagation streamed so far."""
        self.run.flush()
        self.session.export(fmt, out_dir, images=images, progress=progress)

    def abandon(self) -> None:
        """Stop without closing the journal cleanly (what a crash leaves behind; tests use it)."""
        self.run.stop()
        self.session.abandon()

    def shutdown(self) -> None:
        self.session.close()
        self.run.stop()

    def set_settings(self, settings: AppSettings) -> None:
        self.settings = settings
        self.run.set_settings(settings)
        self.session.refresh()

    # --- navigation -------------------------------------------------------------------------
    def seek(self, frame: int) -> None:
        if self.frame_count == 0:
            return
        frame = min(max(int(frame), 0), self.frame_count - 1)
        if frame != self.frame:
            self.frame = frame
            self.frameChanged.emit(frame)

    def step(self, delta: int) -> None:
        self.seek(self.frame + delta)

    def select(self, track_id: int | None) -> None:
        if track_id != self.selected:
            self.selected = track_id
            self.selectionChanged.emit(track_id)

    def select_relative(self, delta: int) -> None:
        ids = sorted(self.project.tracks) if self.project else []
        if not ids:
            return
        i = ids.index(self.selected) if self.selected in ids else -delta
        self.select(ids[(i + delta) % len(ids)])

    # --- track edits ---------------------------------------------------------------------
    def add_track(self, label: str | None = None) -> int:
        if self.store is None:
            raise UserError("Open a video before adding tracks.")
        classes = self.store.project.classes
        default = classes[0] if classes else "object"
        track = self.store.add_track(label=label or default)
        self.select(track.id)
        return track.id

    def delete_track(self, track_id: int) -> None:
        store = self._open_store()
        store.delete_track(track_id)
        if self.selected == track_id:
            self.select(min(store.project.tracks) if store.project.tracks else None)

    def update_track(self, track_id: int, **changes) -> None:
        """Class (label), colour, hidden, name, locked or attributes of a track (one undo step)."""
        self._open_store().update_track(track_id, **changes)

    def toggle_lock(self, track_id: int | None = None) -> None:
        track = self.track(self.selected if track_id is None else track_id)
        if track is None:
            return
        self._open_store().update_track(track.id, locked=not track.locked)
        self.notice.emit(f"Track #{track.id} is locked: no edit or propagation changes it until it is unlocked."
                         if track.locked else f"Track #{track.id} is unlocked.")

    def set_classes(self, classes) -> None:
        if self.store is None:
            raise UserError("Open a video before editing the class list.")
        self.store.set_classes(classes)

    def rename_class(self, old: str, new: str) -> None:
        if self.store is None:
            raise UserError("Open a video before editing the class list.")
        self.store.rename_class(old, new)

    # --- review --------------------------------------------------------------------------
    def is_reviewed(self, frame: int | None = None) -> bool:
        return self.project is not None and (self.frame if frame is None else frame) in self.project.reviewed

    def toggle_reviewed(self, frame: int | None = None) -> None:
        """Mark a frame (this one by default) reviewed by a person, or not any more (one undo step)."""
        if self.store is None:
            return
        frame = self.frame if frame is None else frame
        self.store.set_reviewed([frame], not self.is_reviewed(frame))

    # --- box edits ------------------------------------------------------------------------
    def draw_box(self, box, new_track: bool = False) -> None:
        """A box drawn on the frame: a manual keyframe of the selected track, or of a new track
        (new_track, or none selected) made with it as one undo step."""
        if self.store is None:
            return
        if not new_track and self.selected is not None and self.selected in self.store.project.tracks:
            self.set_box(self.selected, box)
            return
        check_box(box)  # a bad box makes no empty track
        with self.store.transaction("New track"):
            track_id = self.add_track()
            self.set_box(track_id, box)

    def set_box(self, track_id: int, box, frame: int | None = None) -> None:
        """Make box a keyframe; re-propagate up to the next human label when tracked frames follow."""
        frame = self.frame if frame is None else frame
        box = check_box(box)
        previous = self.label_at(track_id, frame)
        flags = previous.flags if previous is not None else Flags()
        flags = replace(flags, absent=False)
        label = FrameLabel(box=box, provenance=Provenance.MANUAL, score=None, flags=flags)
        self.correct(track_id, frame, label)

    def correct(self, track_id: int, frame: int, label: FrameLabel) -> None:
        """Write a keyframe and, as the same undo step, re-propagate what depended on it.

        Only the frames up to the next human label (keyframe or imported label) change, and
        the status bar says which before they do.
        """
        from core.propagation import preview_changes

        store = self._open_store()
        self.run.stop_for_edit()
        edit_id = store.set_frame(track_id, frame, label)
        self.select(track_id)
        request = correction_request(store.project, track_id, frame, label, self.settings.score_threshold)
        if request is None:
            return
        plan = preview_changes(store.project, request, self.frame_count)
        until = "" if request.stop_frame is None else f" (the next human label is on frame {request.stop_frame + 1})"
        if not plan.frame_count:
            if until:
                self.notice.emit(f"Nothing re-tracked{until}.")
            return
        self.notice.emit(f"Re-tracking {plan.changes_text()}{until}.")
        self.run.start(request, join=edit_id, follow=False)

    def remove_keyframe(self) -> None:
        """The selected track's keyframe on this frame stops being one: its label goes and the frames
        it anchored are re-derived from the human labels around it (fill between them, or tracking
        from the one side that has one), as one undo step with the removal."""
        from core.propagation import preview_changes

        if self.store is None or self.selected is None:
            return
        label = self.label_at(self.selected)
        if label is None or not label.is_keyframe:
            self.notice.emit(f"Frame {self.frame + 1} is not a keyframe of track #{self.selected}.")
            return
        track_id, frame = self.selected, self.frame
        self.run.stop_for_edit()
        derived, request = rederive_request(self.store.project.tracks[track_id], frame,
                                            self.settings.score_threshold)
        if request is None:  # nothing derived from it, or no human label left to derive it from: it goes too
            self.store.clear_frames(track_id, [frame, *derived])
            self.notice.emit(f"Removed the keyframe on frame {frame + 1}"
                             + (f" and the {len(derived)} frames tracked from it." if derived else "."))
            return
        edit_id = self.store.clear_frames(track_id, [frame])
        plan = preview_changes(self.store.project, request, self.frame_count)
        self.notice.emit(f"Removed the keyframe on frame {frame + 1}; re-deriving {plan.changes_text()}.")
        self.run.start(request, join=edit_id, follow=False)

    def interpolate(self, all_tracks: bool = False) -> int:
        """Linear interpolation between the human labels of the selected track (or of every shown,
        unlocked track), no tracker: the frames between its first and last human label that are not
        human labels themselves are replaced, as one undo step. Returns the frames written."""
        if self.store is None:
            return 0
        if self.busy:
            self.notice.emit("A propagation is running (Esc cancels it); interpolate after it.")
            return 0
        if all_tracks:
            tracks = [t for t in self.store.project.tracks.values() if not t.hidden and not t.locked]
        else:
            track = self.track(self.selected)
            if track is not None and track.locked:
                self.notice.emit(f"Track #{track.id} is locked; unlock it (Ctrl+L) to interpolate it.")
                return 0
            tracks = [] if track is None else [track]
        written = 0
        with self.store.transaction("Interpolate linearly"):
            for track in sorted(tracks, key=lambda t: t.id):
                labels = linear_fill(track, self.frame_count)
                if labels:
                    written += len(self.store.apply_propagated(track.id, labels))
        which = "the shown tracks" if all_tracks else f"track #{self.selected}"
        self.notice.emit(f"Interpolated {written} frame{'' if written == 1 else 's'} of {which} linearly between "
                         "keyframes." if written else "Nothing to interpolate: a track needs two keyframes or human "
                         "labels with frames between them.")
        return written

    def delete_box(self) -> None:
        if self.selected is not None and self.label_at(self.selected) is not None:
            self._open_store().clear_frames(self.selected, [self.frame])

    def toggle_flag(self, name: str) -> None:
        """Flip absent / occluded / out_of_view on this frame; the frame becomes a keyframe."""
        if self.selected is None or self.store is None:
            return
        current = self.label_at(self.selected)
        if name == "absent":
            if current is not None and current.is_absent:
                self.store.clear_frames(self.selected, [self.frame])
                return
            label = FrameLabel(box=None, provenance=Provenance.MANUAL, flags=Flags(absent=True))
            self.correct(self.selected, self.frame, label)
            return
        if current is None or current.box is None:
            self.notice.emit("Draw a box on this frame before setting its flags.")
            return
        flags = replace(current.flags, **{name: not getattr(current.flags, name)})
        self.store.set_frame(self.selected, self.frame,
                             current.with_(flags=flags, provenance=Provenance.MANUAL, score=None))

    def undo(self) -> None:
        self._stop_for_history()
        if self.store is not None and self.store.can_undo:
            self.store.undo()

    def redo(self) -> None:
        self._stop_for_history()
        if self.store is not None and self.store.can_redo:
            self.store.redo()

    def _stop_for_history(self) -> None:
        if self.run.stop_for_edit():
            self.notice.emit("Propagation stopped.")

    # --- propagation ----------------------------------------------------------------------
    def propagate(self, direction: str, all_tracks: bool = False, stop_frame: int | None = None,
                  overwrite: bool = False, confirm=None, method: str = "tracker") -> bool:
        """Start propagating from the current frame; False (with a notice) when nothing to do.

        Every pass stops at human labels (keyframes and imported labels). overwrite=True
        tracks over imported labels instead, only after confirm(preview) agrees (the preview,
        a core.propagation.PropagationPreview, says how many it would replace); without
        confirm nothing is replaced.
        """
        from core.propagation import preview_changes

        if self.store is None:
            return False
        if self.busy:
            self.notice.emit("A propagation is already running (Esc cancels it).")
            return False
        project = self.store.project
        request = propagation_request(project, self.frame, self.selected, direction, all_tracks, stop_frame,
                                      overwrite, method, self.settings.score_threshold)
        if isinstance(request, str):
            self.notice.emit(request)
            return False
        plan = preview_changes(project, request, self.frame_count)
        if overwrite and plan.replaced and (confirm is None or not confirm(plan)):
            self.notice.emit("Nothing was replaced.")
            return False
        kept = plan.kept_text()
        if not plan.frame_count:
            self.notice.emit(f"Nothing to propagate: {kept}." if kept else "Nothing to propagate from here.")
            return False
        what = "Linear interpolation" if method == "linear" else direction.capitalize()
        self.notice.emit(f"{what} may change {plan.changes_text()}" + (f"; {kept}." if kept else "."))
        self.run.start(request, join=None, follow=True)
        return True

    def cancel(self) -> None:
        self.run.cancel()

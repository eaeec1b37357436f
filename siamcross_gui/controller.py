"""The GUI's one controller: current frame, selection, edits through the store, propagation.

It owns the AnnotationStore (GUI thread), a FrameCache for display, the worker host, and
the autosave journal. Widgets call its methods and listen to its signals; it never draws.
Propagation results stream in per frame and are applied in batches 10 times a second,
each batch joined to one undo step. While it follows a run, the view shows the frame the
worker already decoded (it comes with each tracked step) instead of decoding it again.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6 import QtCore

from core.annotations.model import Flags, FrameLabel, Project, Provenance, Track
from core.errors import BoxError, UserError
from core.tracking.result import TrackResult

from .opening import plan_open
from .settings import AppSettings
from .worker import TrackerFactory, WorkerHost

log = logging.getLogger(__name__)

RecoverQuestion = Callable[[object], bool]  # (core.annotations.journal.Recovery) -> replay it?
OverwriteQuestion = Callable[[object], bool]  # (core.propagation.PropagationPreview) -> replace them?
# Streamed results are applied and followed on screen 10 times a second: each pass decodes and
# uploads a frame on the GUI thread, which at 30 Hz took half of the 2 CPU cores from the worker.
APPLY_INTERVAL_MS = 100
MAX_OVERLAY_FRAMES = 5000  # response maps kept for scrubbing back over tracked frames (~10 KB each)


class Controller(QtCore.QObject):
    frameChanged = QtCore.Signal(int)
    projectChanged = QtCore.Signal()          # throttled: at most one per event-loop pass
    labelsChanged = QtCore.Signal(object)     # every store Change (tracks and frames), for incremental views
    selectionChanged = QtCore.Signal(object)  # track id or None
    mediaOpened = QtCore.Signal()
    propagationStarted = QtCore.Signal(int)   # frames to do
    propagationProgress = QtCore.Signal(int, int, float)  # done, total, frames/s
    propagationFinished = QtCore.Signal(bool)  # cancelled
    overlayResult = QtCore.Signal(object)      # TrackResult with maps
    errorOccurred = QtCore.Signal(str)
    warningOccurred = QtCore.Signal(str)      # the engine warned (e.g. while loading a model): shown in the window
    notice = QtCore.Signal(str)

    def __init__(self, settings: AppSettings, tracker_factory: TrackerFactory | None = None,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = None
        self.cache = None
        self.project_path: Path | None = None
        self.display_name = ""  # what the title calls the open media ("Car4" for a sequence, not "img")
        self.frame = 0
        self.selected: int | None = None
        self.dirty = False
        self.last_result: TrackResult | None = None
        # frame -> (track id, its maps) of the run that wrote the frame's label (overlay); dropped when
        # that label changes by hand, undo or redo, so a map never outlives the label it explained
        self._results: dict[int, tuple[int, TrackResult]] = {}
        self.journal = None
        self._unsubscribe = None
        self.worker = WorkerHost(tracker_factory, settings.model, settings.device, self)
        self.worker.worker.stepped.connect(self._on_step)
        self.worker.worker.finished.connect(self._on_worker_finished)
        self.worker.worker.failed.connect(self._on_worker_failed)
        self.worker.worker.notice.connect(self.notice)
        self.worker.worker.warned.connect(self.warningOccurred)
        self._pending: list = []
        self._pending_image = None  # (frame, read-only BGR) of the newest streamed tracked frame
        self._streamed_image = None  # (frame, read-only BGR) last followed; shown instead of a decode
        self._queued: tuple | None = None  # (request, join, follow) waiting for a cancelled run to end
        self._discarding = False  # a run of a project that was closed is winding down
        self._join: int | None = None
        self._overwrite = False  # the running request replaces imported labels (the user confirmed it)
        self._run_started = 0.0
        self._run_done = 0
        self._run_total = 0
        self.run_stops: list = []  # core.propagation.PassStop of the last run: where passes stopped, and why
        self._follow = True
        self._apply_timer = QtCore.QTimer(self)
        self._apply_timer.setInterval(APPLY_INTERVAL_MS)
        self._apply_timer.timeout.connect(self._apply_pending)
        self._changed_timer = QtCore.QTimer(self)
        self._changed_timer.setSingleShot(True)
        self._changed_timer.setInterval(0)
        self._changed_timer.timeout.connect(self.projectChanged)

    # --- state ------------------------------------------------------------------------------
    @property
    def project(self) -> Project | None:
        return None if self.store is None else self.store.project

    @property
    def frame_count(self) -> int:
        media = self.project.media if self.project else None
        return media.frame_count if media else 0

    @property
    def busy(self) -> bool:
        return self.worker.busy

    def track(self, track_id: int | None) -> Track | None:
        return None if track_id is None or self.project is None else self.project.tracks.get(track_id)

    def label_at(self, track_id: int, frame: int | None = None) -> FrameLabel | None:
        track = self.track(track_id)
        return None if track is None else track.frames.get(self.frame if frame is None else frame)

    def result_for(self, frame: int) -> TrackResult | None:
        """The tracker output (with maps) of the run that labelled this frame, for the overlay;
        None once that label was corrected or undone."""
        entry = self._results.get(frame)
        return None if entry is None else entry[1]

    def current_frame_bgr(self):
        """The current frame (BGR, read-only): the worker's copy when it just tracked it, else decoded."""
        if self.cache is None:
            return None
        streamed = self._streamed_image
        if streamed is not None and streamed[0] == self.frame:
            return streamed[1]
        return self.cache.get(self.frame)

    # --- opening ----------------------------------------------------------------------------
    def open(self, path: str | Path, ask_recover: RecoverQuestion | None = None,
             media_path: str | Path | None = None) -> None:
        """Open a video, image folder, project or labelled sequence; raises UserError.

        A project whose media is not where it says raises core.media.MediaMissing (the window
        then asks where it went); media_path opens it over media found elsewhere, after
        checking that it is the same media, and the project then holds the new path (saved
        with the next save). When the autosave journal of that project (or of that media, if
        never saved) holds edits from a crashed session, ask_recover(recovery) decides
        whether to replay them.
        """
        from core.annotations.io import load_project
        from core.media import check_located, open_media, open_media_ref

        plan = plan_open(path)
        relocated = False
        if plan.kind == "project":
            project = load_project(plan.path)  # its media path comes back resolved against the file
            if project.media is None:
                raise UserError(f"The project {plan.path.name} names no video or image folder.")
            if media_path is not None:
                project.media = check_located(project.media, media_path)
                relocated = True
            # the media must be the one the project was labelled on (fingerprint, frame count)
            source = open_media_ref(project.media)
            project_path: Path | None = plan.path
        elif plan.kind == "sequence":
            from core.formats import import_project

            project = import_project(plan.path, plan.fmt, media=plan.media)
            if project.media is None:
                raise UserError(f"The sequence {plan.path.name} has no frames to show.")
            source = open_media(project.media.path)
            project_path = None
        else:
            source = open_media(plan.path)
            project = Project(media=source.to_media_ref())
            project_path = None
        self.display_name = plan.name
        self._install(project, source, project_path, ask_recover)
        if relocated:
            self.dirty = True  # the file still names the old place until it is saved
            self.notice.emit(f"Opened with the media at {project.media.path}; save to keep its new place.")
            self.projectChanged.emit()

    def install(self, project: Project, source, project_path: Path | None = None,
                ask_recover: RecoverQuestion | None = None) -> None:
        """Show an in-memory project over an open FrameSource (the controller closes it later)."""
        from .opening import media_name

        self.display_name = media_name(Path(project.media.path)) if project.media else ""
        self._install(project, source, project_path, ask_recover)

    def _install(self, project: Project, source, project_path: Path | None,
                 ask_recover: RecoverQuestion | None) -> None:
        from core.annotations.journal import Journal, read_journal
        from core.annotations.store import AnnotationStore
        from core.media import FrameCache

        self.close_media()
        journal_key = journal_key_for(project, project_path)
        recovery = _read_recovery(read_journal, journal_key)
        recovered = recovery is not None and ask_recover is not None and ask_recover(recovery)
        if recovered:
            opened_media, project = project.media, recovery.project
            project.media = opened_media  # the journal never moves media: keep the path just opened
        self.journal = Journal(journal_key)
        self.store = AnnotationStore(project, journal=self.journal)
        self._unsubscribe = self.store.subscribe(self._on_store_change)
        self.cache = FrameCache(source, max_bytes=384 * 1024 * 1024, read_ahead=8)
        self.project_path = project_path
        self.worker.set_media(str(source.info.path))
        # The model loads in the worker from now on, so the first propagation starts at once; asked
        # for from the event loop, after this frame is painted, so torch's import (which holds the
        # GIL) does not delay the first picture.
        QtCore.QTimer.singleShot(0, self, self._preload)
        self.dirty = bool(recovered)
        self.frame = 0
        self.last_result = None
        self._pending_image = self._streamed_image = None
        self._results.clear()
        self.selected = min(project.tracks) if project.tracks else None
        self.mediaOpened.emit()
        self.selectionChanged.emit(self.selected)
        self.frameChanged.emit(0)
        self.projectChanged.emit()

    def _preload(self) -> None:
        if self.store is not None:
            self.worker.preload()

    def close_media(self) -> None:
        """Close the project; its journal is deleted (the user saved or chose to discard)."""
        if self.worker.busy:
            self.worker.cancel()
            self._discarding = True  # what the old run still sends belongs to the closed project
        self._pending.clear()
        self._pending_image = self._streamed_image = None
        self._queued = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.journal is not None:
            self.journal.discard()
            self.journal = None
        if self.cache is not None:
            source = self.cache.source
            self.cache.close()
            source.close()
            self.cache = None
        self.store = None

    def abandon(self) -> None:
        """Stop without closing the journal cleanly (what a crash leaves behind; tests use it)."""
        self.worker.stop()
        if self.journal is not None:
            self.journal.close()
            self.journal = None

    def shutdown(self) -> None:
        self.close_media()
        self.worker.stop()

    # --- saving -----------------------------------------------------------------------------
    def save(self, path: str | Path | None = None) -> Path:
        """Atomic save; the journal is checkpointed (and moves beside the file on Save As)."""
        from core.annotations.io import save_project

        if self.project is None:
            raise UserError("There is nothing to save: open a video first.")
        self._apply_pending()
        target = Path(path) if path is not None else self.project_path
        if target is None:
            raise UserError("Choose where to save the project.")
        sha1 = save_project(self.project, target)
        if self.journal is not None:
            old = self.journal.path
            self.journal.checkpoint(sha1, target)
            if old != self.journal.path:
                old.unlink(missing_ok=True)
        self.project_path = target
        self.dirty = False
        self.projectChanged.emit()
        return target

    def export(self, fmt: str, out_dir: str | Path, images: bool = False, progress=None) -> None:
        """Export in fmt; images=True also writes the frames the labels name (progress(done, total)
        per frame, which may raise core.errors.Cancelled)."""
        from core.formats import export_project

        if self.project is None:
            raise UserError("There is nothing to export: open a video first.")
        self._apply_pending()
        source = _CachedFrames(self.cache) if self.cache is not None else None  # the cache serialises reads
        export_project(self.project, fmt, Path(out_dir), source=source, images=images, progress=progress)

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
        default = self.project.classes[0] if self.project.classes else "object"
        track = self.store.add_track(label=label or default)
        self.select(track.id)
        return track.id

    def delete_track(self, track_id: int) -> None:
        self.store.delete_track(track_id)
        if self.selected == track_id:
            self.select(min(self.project.tracks) if self.project.tracks else None)

    def update_track(self, track_id: int, **changes) -> None:
        """Class (label), colour, hidden, name, locked or attributes of a track (one undo step)."""
        self.store.update_track(track_id, **changes)

    def toggle_lock(self, track_id: int | None = None) -> None:
        track = self.track(self.selected if track_id is None else track_id)
        if track is None:
            return
        self.store.update_track(track.id, locked=not track.locked)
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
        if not new_track and self.selected in self.project.tracks:
            self.set_box(self.selected, box)
            return
        _check_box(box, self.project)  # a bad box makes no empty track
        with self.store.transaction("New track"):
            track_id = self.add_track()
            self.set_box(track_id, box)

    def set_box(self, track_id: int, box, frame: int | None = None) -> None:
        """Make box a keyframe; re-propagate up to the next human label when tracked frames follow."""
        frame = self.frame if frame is None else frame
        box = _check_box(box, self.project)
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

        if self.worker.busy:
            self.worker.cancel()
            self._apply_pending()
        edit_id = self.store.set_frame(track_id, frame, label)
        self.select(track_id)
        if label.box is None or not _has_derived_frames(self.project.tracks[track_id]):
            return
        request = self._repropagation_request(track_id, frame)
        if request is None:
            return
        plan = preview_changes(self.project, request, self.frame_count)
        until = "" if request.stop_frame is None else f" (the next human label is on frame {request.stop_frame + 1})"
        if not plan.frame_count:
            if until:
                self.notice.emit(f"Nothing re-tracked{until}.")
            return
        self.notice.emit(f"Re-tracking {plan.changes_text()}{until}.")
        self._start(request, join=edit_id, follow=False)

    def _repropagation_request(self, track_id: int, frame: int):
        from core.propagation import repropagation_request

        return repropagation_request(self.project, track_id, frame, score_threshold=self.settings.score_threshold) \
            if _accepts_threshold(repropagation_request) else repropagation_request(self.project, track_id, frame)

    def remove_keyframe(self) -> None:
        """The selected track's keyframe on this frame stops being one: its label goes and the frames
        it anchored are re-derived from the human labels around it (fill between them, or tracking
        from the one side that has one), as one undo step with the removal."""
        from core.propagation import PropagationRequest, preview_changes
        from core.propagation.plan import next_stop, previous_stop

        if self.store is None or self.selected is None:
            return
        label = self.label_at(self.selected)
        if label is None or not label.is_keyframe:
            self.notice.emit(f"Frame {self.frame + 1} is not a keyframe of track #{self.selected}.")
            return
        track_id, frame = self.selected, self.frame
        if self.worker.busy:
            self.worker.cancel()
            self._apply_pending()
        track = self.project.tracks[track_id]
        before, after = previous_stop(track, frame), next_stop(track, frame)
        derived = sorted(f for f, other in track.frames.items() if not other.is_human and f != frame
                         and (before is None or f > before) and (after is None or f < after))
        if before is None and after is None:  # no human label is left to derive them from: they go too
            self.store.clear_frames(track_id, [frame, *derived])
            self.notice.emit(f"Removed the keyframe on frame {frame + 1}"
                             + (f" and the {len(derived)} frames tracked from it." if derived else "."))
            return
        edit_id = self.store.clear_frames(track_id, [frame])
        if not derived:
            self.notice.emit(f"Removed the keyframe on frame {frame + 1}.")
            return
        threshold = self.settings.score_threshold
        if before is not None and after is not None:
            request = PropagationRequest((track_id,), "fill", before, after, threshold)
        elif before is not None:
            request = PropagationRequest((track_id,), "forward", before, max(derived), threshold)
        else:
            request = PropagationRequest((track_id,), "backward", after, min(derived), threshold)
        plan = preview_changes(self.project, request, self.frame_count)
        self.notice.emit(f"Removed the keyframe on frame {frame + 1}; re-deriving {plan.changes_text()}.")
        self._start(request, join=edit_id, follow=False)

    def interpolate(self, all_tracks: bool = False) -> int:
        """Linear interpolation between the human labels of the selected track (or of every shown,
        unlocked track), no tracker: the frames between its first and last human label that are not
        human labels themselves are replaced, as one undo step. Returns the frames written."""
        from core.propagation import PropagationRequest, linear_labels
        from core.propagation.plan import linear_anchors, linear_frames

        if self.store is None:
            return 0
        if self.worker.busy:
            self.notice.emit("A propagation is running (Esc cancels it); interpolate after it.")
            return 0
        if all_tracks:
            tracks = [t for t in self.project.tracks.values() if not t.hidden and not t.locked]
        else:
            track = self.track(self.selected)
            if track is not None and track.locked:
                self.notice.emit(f"Track #{track.id} is locked; unlock it (Ctrl+L) to interpolate it.")
                return 0
            tracks = [] if track is None else [track]
        written = 0
        with self.store.transaction("Interpolate linearly"):
            for track in sorted(tracks, key=lambda t: t.id):
                humans = track.human_frames()
                if len(humans) < 2:
                    continue
                request = PropagationRequest((track.id,), "fill", humans[0], humans[-1], method="linear")
                frames = linear_frames(track, request, self.frame_count)
                labels = linear_labels(linear_anchors(track, request), frames)
                written += len(self.store.apply_propagated(track.id, labels))
        which = "the shown tracks" if all_tracks else f"track #{self.selected}"
        self.notice.emit(f"Interpolated {written} frame{'' if written == 1 else 's'} of {which} linearly between "
                         "keyframes." if written else "Nothing to interpolate: a track needs two keyframes or human "
                         "labels with frames between them.")
        return written

    def delete_box(self) -> None:
        if self.selected is not None and self.label_at(self.selected) is not None:
            self.store.clear_frames(self.selected, [self.frame])

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
        if self.worker.busy:
            self.worker.cancel()
            self._apply_pending()
            self.notice.emit("Propagation stopped.")

    # --- propagation ----------------------------------------------------------------------
    def propagate(self, direction: str, all_tracks: bool = False, stop_frame: int | None = None,
                  overwrite: bool = False, confirm: OverwriteQuestion | None = None, method: str = "tracker") -> bool:
        """Start propagating from the current frame; False (with a notice) when nothing to do.

        Every pass stops at human labels (keyframes and imported labels). overwrite=True
        tracks over imported labels instead, only after confirm(preview) agrees (the preview
        says how many it would replace); without confirm nothing is replaced.
        """
        from core.propagation import PropagationRequest, preview_changes

        if self.store is None:
            return False
        if self.worker.busy:
            self.notice.emit("A propagation is already running (Esc cancels it).")
            return False
        if all_tracks:
            ids = tuple(sorted(t.id for t in self.project.tracks.values() if not t.hidden and not t.locked))
            if not ids and any(t.locked for t in self.project.tracks.values()):
                self.notice.emit("Every shown track is locked: nothing to propagate.")
                return False
        else:
            ids = (self.selected,) if self.selected in self.project.tracks else ()
            if ids and self.project.tracks[ids[0]].locked:
                self.notice.emit(f"Track #{ids[0]} is locked; unlock it (Ctrl+L) to propagate it.")
                return False
        if not ids:
            self.notice.emit("Draw a box first: there is no track to propagate.")
            return False
        if direction != "fill" and not any(self._has_box(t, self.frame) for t in ids):
            self.notice.emit(f"No box on frame {self.frame + 1} to propagate from.")
            return False
        request = PropagationRequest(track_ids=ids, direction=direction, start_frame=self.frame,
                                     stop_frame=stop_frame, score_threshold=self.settings.score_threshold,
                                     overwrite=overwrite, method=method)
        plan = preview_changes(self.project, request, self.frame_count)
        if overwrite and plan.replaced and (confirm is None or not confirm(plan)):
            self.notice.emit("Nothing was replaced.")
            return False
        kept = plan.kept_text()
        if not plan.frame_count:
            self.notice.emit(f"Nothing to propagate: {kept}." if kept else "Nothing to propagate from here.")
            return False
        what = "Linear interpolation" if method == "linear" else direction.capitalize()
        self.notice.emit(f"{what} may change {plan.changes_text()}" + (f"; {kept}." if kept else "."))
        self._start(request, join=None, follow=True)
        return True

    def _has_box(self, track_id: int, frame: int) -> bool:
        label = self.label_at(track_id, frame)
        return label is not None and label.box is not None

    def _start(self, request, join: int | None, follow: bool) -> None:
        if self.worker.busy:  # a cancelled run is finishing its last frame: start right after it
            self._queued = (request, join, follow)
            return
        self._join = join
        self._follow = follow
        self._overwrite = request.overwrite
        self._pending.clear()
        self._pending_image = None
        self._run_started = time.perf_counter()
        self._run_done = 0
        self._run_total = 0
        self.run_stops = []
        self.worker.configure(self.settings.model, self.settings.device)
        self.worker.submit(self.project, replace(request, adapt=self.settings.adapt))
        self._apply_timer.start()
        self.propagationStarted.emit(0)

    def cancel(self) -> None:
        self.worker.cancel()

    def _on_step(self, streamed) -> None:
        """Queue a StreamedStep; only the newest tracked frame is kept (the one a batch shows)."""
        if self._discarding:
            return
        step = streamed.step
        self._pending.append(step)
        if streamed.frame_bgr is not None:
            self._pending_image = (step.frame, streamed.frame_bgr)
        self._run_done, self._run_total = step.done, step.total
        self.run_stops.extend(getattr(step, "stops", ()))

    def _apply_pending(self) -> None:
        """Apply the streamed steps as one batch per track, joined to the run's undo step."""
        if not self._pending or self.store is None:
            return
        steps, self._pending = self._pending, []
        image, self._pending_image = self._pending_image, None
        by_track: dict[int, dict[int, FrameLabel]] = {}
        for step in steps:
            for track_id, label in step.labels.items():
                by_track.setdefault(track_id, {})[step.frame] = label
        for track_id, labels in by_track.items():
            if track_id not in self.project.tracks:
                continue
            self._join = self._apply(track_id, labels)
        last = steps[-1]
        for step in steps:
            entry = self._overlay_result(step)
            if entry is not None:
                self._results[step.frame] = entry
                self.last_result = entry[1]
        while len(self._results) > MAX_OVERLAY_FRAMES:
            self._results.pop(next(iter(self._results)))
        if self.last_result is not None:
            self.overlayResult.emit(self.last_result)
        if self._follow:
            if image is not None:  # follow the newest tracked frame, shown from the worker's decode
                self._streamed_image = image
            self.seek(image[0] if image is not None else last.frame)
        elapsed = max(time.perf_counter() - self._run_started, 1e-6)
        self.propagationProgress.emit(self._run_done, self._run_total, self._run_done / elapsed)

    def _apply(self, track_id: int, labels: dict[int, FrameLabel]) -> int | None:
        """One store call; the first batch that writes opens the undo step the later ones join."""
        if self._join is not None:
            self.store.apply_propagated(track_id, labels, join=self._join, overwrite=self._overwrite)
            return self._join
        written = self.store.apply_propagated(track_id, labels, overwrite=self._overwrite)
        return self.store.last_edit_id if written else None

    def _overlay_result(self, step) -> tuple[int, TrackResult] | None:
        results = step.results
        if not results:
            return None
        track_id = self.selected if self.selected in results else next(iter(results))
        preferred = results[track_id]
        return (track_id, preferred) if preferred.maps is not None else None

    def _wind_down(self) -> bool:
        """Apply what the ended run streamed; False when the run belonged to a closed project."""
        self._apply_timer.stop()
        if self._discarding:
            self._discarding = False
            self.propagationFinished.emit(True)
            return False
        self._apply_pending()
        self._join = None
        return True

    def _on_worker_finished(self, cancelled: bool) -> None:
        if not self._wind_down():
            return
        queued, self._queued = self._queued, None
        if queued is not None and self.store is not None:
            self._start(*queued)
            return
        self.propagationFinished.emit(cancelled)

    def _on_worker_failed(self, message: str) -> None:
        if not self._wind_down():
            return
        self._queued = None
        self.errorOccurred.emit(message)
        self.propagationFinished.emit(True)

    # --- store events --------------------------------------------------------------------
    def _on_store_change(self, change) -> None:
        self.dirty = True
        for frame in change.frames & self._results.keys():
            if self._results[frame][0] in change.track_ids:
                del self._results[frame]
        self.labelsChanged.emit(change)
        if not self._changed_timer.isActive():
            self._changed_timer.start()

    def set_settings(self, settings: AppSettings) -> None:
        self.settings = settings
        self.worker.configure(settings.model, settings.device)
        self._preload()  # a changed model or device loads now, not at the next run
        self.projectChanged.emit()


class _CachedFrames:
    """The open media as export reads it: through the FrameCache, whose read-ahead thread shares
    the FrameSource (reading the source directly would race with it)."""

    def __init__(self, cache) -> None:
        self.read = cache.get


def _has_derived_frames(track: Track) -> bool:
    """Only a track the tracker already filled needs re-propagation after a correction
    (imported labels are not derived: they are a person's, and stay)."""
    return any(not label.is_human for label in track.frames.values())


def _accepts_threshold(function) -> bool:
    import inspect

    try:
        return "score_threshold" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _check_box(box, project: Project | None):
    x, y, w, h = (float(v) for v in box)
    if not all(map(_finite, (x, y, w, h))) or w <= 0 or h <= 0:
        raise BoxError("A box needs a positive width and height.")
    return (x, y, w, h)


def _finite(v: float) -> bool:
    return v == v and abs(v) != float("inf")


def journal_key_for(project: Project, project_path: Path | None) -> Path:
    """The project path the journal belongs to: the saved file, or (never saved) a name in the
    autosave dir keyed by the media fingerprint, so reopening the same video finds it."""
    from .paths import autosave_dir

    if project_path is not None:
        return project_path
    key = (project.media.fingerprint or Path(project.media.path).name) if project.media else "untitled"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)[:80]
    return autosave_dir() / f"{safe}.json"


def _read_recovery(read_journal, key: Path):
    try:
        return read_journal(key)
    except UserError as error:
        log.warning("cannot recover %s: %s", key, error)
        return None

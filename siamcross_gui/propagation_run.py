"""A propagation run as the app sees it: the worker, the streamed results, their undo step and heat maps.

Results stream in per frame from the worker thread and are applied to the session's store in
batches every APPLY_INTERVAL_MS, each batch joined to the run's one undo step (or to the edit
that started the run: a correction and its re-tracking undo together). While a run is followed,
the view shows the frame the worker already decoded (it comes with each tracked step) instead of
decoding it again. A run asked for while a cancelled one winds down waits and starts after it.

The response maps of the frames a run wrote are kept (up to MAX_OVERLAY_FRAMES) so the heat map
shows when the user scrubs back; each kept map is a copy of its own target's maps, because the
tracker hands out views into one array per tracked frame holding every target's maps.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import fields, replace

import numpy as np
from PySide6 import QtCore

from core.annotations.model import FrameLabel
from core.tracking.result import ResponseMaps, TrackResult

from .session import ProjectSession
from .settings import AppSettings
from .worker import TrackerFactory, WorkerHost

# Streamed results are applied and followed on screen 10 times a second: each pass decodes and
# uploads a frame on the GUI thread, which at a higher rate takes CPU time from the worker.
APPLY_INTERVAL_MS = 100
MAX_OVERLAY_FRAMES = 5000  # frames whose response maps are kept for scrubbing back over a run


class PropagationRun(QtCore.QObject):
    propagationStarted = QtCore.Signal(int)   # frames to do
    propagationProgress = QtCore.Signal(int, int, float)  # done, total, frames/s
    propagationFinished = QtCore.Signal(bool)  # cancelled
    overlayResult = QtCore.Signal(object)      # TrackResult with maps
    followed = QtCore.Signal(int)              # the frame a followed run shows now
    errorOccurred = QtCore.Signal(str)
    warningOccurred = QtCore.Signal(str)      # the engine warned (e.g. while loading a model)
    notice = QtCore.Signal(str)

    def __init__(self, session: ProjectSession, settings: AppSettings, preferred_track: Callable[[], int | None],
                 tracker_factory: TrackerFactory | None = None, parent: QtCore.QObject | None = None) -> None:
        """preferred_track() names the track whose maps a frame keeps when several were tracked."""
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self._preferred_track = preferred_track
        self.worker = WorkerHost(tracker_factory, settings.model, settings.device, self)
        self.worker.worker.stepped.connect(self._on_step)
        self.worker.worker.finished.connect(self._on_worker_finished)
        self.worker.worker.failed.connect(self._on_worker_failed)
        self.worker.worker.notice.connect(self.notice)
        self.worker.worker.warned.connect(self.warningOccurred)
        self.last_result: TrackResult | None = None
        # frame -> (track id, its maps) of the run that wrote the frame's label (overlay); dropped when
        # that label changes by hand, undo or redo, so a map never outlives the label it explained
        self._results: dict[int, tuple[int, TrackResult]] = {}
        self._pending: list = []
        # (frame, read-only BGR) of the newest streamed tracked frame; the one last followed, shown instead of a decode
        self._pending_image: tuple[int, np.ndarray] | None = None
        self._streamed_image: tuple[int, np.ndarray] | None = None
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
        self._apply_timer.timeout.connect(self.flush)
        session.opened.connect(self._on_opened)
        session.closing.connect(self._on_closing)
        session.labelsChanged.connect(self._forget_maps)

    @property
    def busy(self) -> bool:
        return self.worker.busy

    def result_for(self, frame: int) -> TrackResult | None:
        """The tracker output (with maps) of the run that labelled this frame, for the overlay;
        None once that label was corrected or undone."""
        entry = self._results.get(frame)
        return None if entry is None else entry[1]

    def streamed_image(self, frame: int):
        """The frame as the worker decoded it (BGR, read-only) when a followed run just showed it, else None."""
        streamed = self._streamed_image
        return streamed[1] if streamed is not None and streamed[0] == frame else None

    # --- the open project -------------------------------------------------------------------
    def _on_opened(self) -> None:
        cache = self.session.cache
        assert cache is not None  # opened: the session made its frame cache
        self.worker.set_media(str(cache.source.info.path))
        # The model loads in the worker from now on, so the first propagation starts at once; asked
        # for from the event loop, after this frame is painted, so torch's import (which holds the
        # GIL) does not delay the first picture.
        QtCore.QTimer.singleShot(0, self, self.preload)
        self.last_result = None
        self._pending_image = self._streamed_image = None
        self._results.clear()

    def _on_closing(self) -> None:
        if self.worker.busy:
            self.worker.cancel()
            self._discarding = True  # what the old run still sends belongs to the closed project
        self._pending.clear()
        self._pending_image = self._streamed_image = None
        self._queued = None

    def preload(self) -> None:
        if self.session.store is not None:
            self.worker.preload()

    def set_settings(self, settings: AppSettings) -> None:
        self.settings = settings
        self.worker.configure(settings.model, settings.device)
        self.preload()  # a changed model or device loads now, not at the next run

    def stop(self) -> None:
        """Cancel and end the worker thread (the app is closing)."""
        self.worker.stop()

    # --- running ------------------------------------------------------------------------------
    def start(self, request, join: int | None, follow: bool) -> None:
        """Run request on a copy of the project; its labels join the undo step join (None: a new
        one); follow=True seeks to each batch's newest frame."""
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
        project = self.session.project
        assert project is not None  # the controller starts runs on an open project only
        self.worker.submit(project, replace(request, adapt=self.settings.adapt))
        self._apply_timer.start()
        self.propagationStarted.emit(0)

    def cancel(self) -> None:
        self.worker.cancel()

    def stop_for_edit(self) -> bool:
        """Cancel a running propagation and apply what it already streamed (an edit comes next);
        True when one was running."""
        if not self.worker.busy:
            return False
        self.worker.cancel()
        self.flush()
        return True

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

    def flush(self) -> None:
        """Apply the streamed steps as one batch per track, joined to the run's undo step."""
        store = self.session.store
        if not self._pending or store is None:
            return
        steps, self._pending = self._pending, []
        image, self._pending_image = self._pending_image, None
        by_track: dict[int, dict[int, FrameLabel]] = {}
        for step in steps:
            for track_id, label in step.labels.items():
                by_track.setdefault(track_id, {})[step.frame] = label
        for track_id, labels in by_track.items():
            if track_id not in store.project.tracks:
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
            self.followed.emit(image[0] if image is not None else last.frame)
        elapsed = max(time.perf_counter() - self._run_started, 1e-6)
        self.propagationProgress.emit(self._run_done, self._run_total, self._run_done / elapsed)

    def _apply(self, track_id: int, labels: dict[int, FrameLabel]) -> int | None:
        """One store call; the first batch that writes opens the undo step the later ones join."""
        store = self.session.store
        assert store is not None  # batches of a closed project's run are discarded before this
        if self._join is not None:
            store.apply_propagated(track_id, labels, join=self._join, overwrite=self._overwrite)
            return self._join
        written = store.apply_propagated(track_id, labels, overwrite=self._overwrite)
        return store.last_edit_id if written else None

    def _overlay_result(self, step) -> tuple[int, TrackResult] | None:
        results = step.results
        if not results:
            return None
        preferred = self._preferred_track()
        track_id = preferred if preferred is not None and preferred in results else next(iter(results))
        result = results[track_id]
        return (track_id, with_own_maps(result)) if result.maps is not None else None

    def _wind_down(self) -> bool:
        """Apply what the ended run streamed; False when the run belonged to a closed project."""
        self._apply_timer.stop()
        if self._discarding:
            self._discarding = False
            self.propagationFinished.emit(True)
            return False
        self.flush()
        self._join = None
        return True

    def _on_worker_finished(self, cancelled: bool) -> None:
        if not self._wind_down():
            return
        queued, self._queued = self._queued, None
        if queued is not None and self.session.store is not None:
            self.start(*queued)
            return
        self.propagationFinished.emit(cancelled)

    def _on_worker_failed(self, message: str) -> None:
        if not self._wind_down():
            return
        self._queued = None
        self.errorOccurred.emit(message)
        self.propagationFinished.emit(True)

    def _forget_maps(self, change) -> None:
        """A label changed by hand, undo or redo: the maps that explained the old one go."""
        for frame in change.frames & self._results.keys():
            if self._results[frame][0] in change.track_ids:
                del self._results[frame]


def with_own_maps(result: TrackResult) -> TrackResult:
    """result with its response maps copied into arrays of their own: a view into the tracker's
    per-frame array of every target's maps would keep that whole array alive."""
    maps = result.maps
    assert maps is not None  # called for results with maps only
    own = ResponseMaps(**{f.name: np.array(getattr(maps, f.name), copy=True) for f in fields(maps)})
    return replace(result, maps=own)

"""The propagation worker: one QThread that owns the tracker and its own FrameSource.

The GUI sends a project snapshot and a PropagationRequest; the worker runs
core.propagation.propagate as a generator loop, emits one step per frame, checks the
cancel token between frames, reports errors as one sentence and stays ready for the next
command. The model is loaded in the worker thread, never on the GUI thread, and as soon as a
video is opened (``preload``), so the first propagation starts at once. Each tracked step goes
out with the frame the tracker saw, so the GUI shows it without decoding it a second time.
"""
from __future__ import annotations

import copy
import dataclasses
import gc
import logging
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

from core.annotations.model import Project
from core.errors import UserError
from core.tracking.protocol import MultiTargetTracker

if TYPE_CHECKING:  # the engine's propagation module loads in the worker thread, when first used
    from core.propagation import CancelToken

log = logging.getLogger(__name__)

TrackerFactory = Callable[[str, str], MultiTargetTracker]  # (model, device) -> tracker


def default_tracker_factory(model: str, device: str) -> MultiTargetTracker:
    """The SiamCross tracker; a named model without trained weights is refused (ModelNotTrained)
    rather than run with untrained heads."""
    from core.tracking import SiamCrossTracker

    from .models import check_model_usable

    check_model_usable(model)
    return SiamCrossTracker.from_pretrained(model, device=device)


CORE_DIR = Path(__file__).resolve().parents[1] / "core"


@contextmanager
def engine_warnings(report: Callable[[str], None]) -> Iterator[None]:
    """Warnings the engine raises inside the block go to report(text) (the window shows them)
    instead of only to a terminal; those of libraries are left to the logging set-up."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        try:
            ours = Path(warning.filename).resolve().is_relative_to(CORE_DIR)
        except (OSError, ValueError):
            ours = False
        if ours:
            report(str(warning.message))
        else:
            log.debug("warning while loading the tracker: %s", warning.message)


@dataclass(frozen=True)
class StreamedStep:
    """One PropagationStep and, for a tracked frame, the image the tracker saw (uint8 HxWx3 BGR,
    read-only, shared with the worker: never draw on it); None for fused or interpolated steps."""

    step: object  # core.propagation.PropagationStep
    frame_bgr: np.ndarray | None = None


class FrameRecorder:
    """Wraps the tracker and keeps the image of its last ``track_many`` call.

    The engine makes one track_many call per tracked frame and yields that frame's step
    right after it (core.propagation.engine._sweep), so the image taken after a step with
    results is that step's frame, with no copy and no second decode.
    """

    def __init__(self, tracker: MultiTargetTracker) -> None:
        self.tracker = tracker
        self._image: np.ndarray | None = None

    def init_target(self, frame_bgr: np.ndarray, box_xywh: Sequence[float]) -> object:
        return self.tracker.init_target(frame_bgr, box_xywh)

    def track_many(self, frame_bgr: np.ndarray, targets: Sequence[object]) -> list:
        self._image = frame_bgr
        return self.tracker.track_many(frame_bgr, targets)

    def take(self) -> np.ndarray | None:
        """The last tracked image as a read-only view (once; None until the next track_many)."""
        image, self._image = self._image, None
        if image is None or not image.flags.writeable:
            return image
        view = image.view()
        view.flags.writeable = False
        return view

    def __getattr__(self, name: str):  # anything else the engine may ask of the tracker
        return getattr(self.tracker, name)


@contextmanager
def collections_deferred() -> Iterator[None]:
    """Load a model with the garbage collector paused (it is process-wide), then collect once.

    Loading (torch import, torch.fx fusion, weights) makes many objects, and the full
    collections they set off hold the GIL long enough to freeze the GUI thread, several times
    per load. One collection at the end, still in the worker while the user looks at the first
    frame, keeps the load's garbage from setting off a long one later, in the middle of a
    propagation. The README ("How the window stays responsive") gives the measurements.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if enabled:
            gc.enable()


class PropagationWorker(QtCore.QObject):
    """Lives in the worker thread; WorkerHost connects its methods with queued connections, so they run there."""

    started = QtCore.Signal(object)    # the request
    stepped = QtCore.Signal(object)    # StreamedStep
    finished = QtCore.Signal(bool)     # True when cancelled
    failed = QtCore.Signal(str)        # one sentence for the user
    notice = QtCore.Signal(str)        # e.g. "CUDA ran out of memory; continuing on the CPU."
    warned = QtCore.Signal(str)        # a warning the engine raised while loading: the window shows it
    modelLoaded = QtCore.Signal(str)

    def __init__(self, tracker_factory: TrackerFactory, model: str, device: str) -> None:
        super().__init__()
        self._factory = tracker_factory
        self._model = model
        self._device = device
        self._tracker: MultiTargetTracker | None = None
        self._load_error: Exception | None = None
        self._source = None
        self._media_path: str | None = None

    # --- configuration (queued from the GUI) -------------------------------------------------
    def configure(self, model: str, device: str) -> None:
        if (model, device) != (self._model, self._device):
            self._model, self._device, self._tracker, self._load_error = model, device, None, None

    def set_media(self, path: str) -> None:
        if path != self._media_path:
            self._close_source()
            self._media_path, self._load_error = path, None

    def preload(self) -> None:
        """Open the media and load the model now (a video was just opened), not at the first run.

        A failure is kept and raised by the next run, so it reaches the user as that run's
        one message (and the run after it tries again).
        """
        if self._media_path is None or (self._tracker is not None and self._source is not None):
            return
        try:
            self._ensure_ready()
        except Exception as error:  # reported by the next run, see above
            log.info("preloading the tracker failed (reported at the next run): %s", error)
            self._load_error = error

    def shutdown(self) -> None:
        self._close_source()
        self._tracker = None

    def _close_source(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None

    def _ensure_ready(self):
        from core.media import open_media

        if self._load_error is not None:
            error, self._load_error = self._load_error, None
            raise error
        if self._media_path is None:
            raise RuntimeError("the worker has no media")
        if self._source is None:
            self._source = open_media(self._media_path)
        if self._tracker is None:
            with collections_deferred(), engine_warnings(self.warned.emit):
                self._tracker = self._factory(self._model, self._device)
            self.modelLoaded.emit(self._model)
        return self._source, self._tracker

    # --- the generator loop ----------------------------------------------------------------
    def run(self, project: Project, request, cancel) -> None:
        """Propagate; one `stepped` per frame; `finished` or `failed` exactly once."""
        from core.propagation import apply_step, propagate

        self.started.emit(request)
        last_frame: int | None = None
        try:
            while True:
                try:
                    source, tracker = self._ensure_ready()
                    recorder = FrameRecorder(tracker)
                    for step in propagate(project, source, recorder, request, cancel):
                        # the snapshot stays current, so a restart on the CPU continues from the last frame
                        apply_step(project, step, request.overwrite)
                        last_frame = step.frame
                        image = recorder.take() if step.results else None
                        self.stepped.emit(StreamedStep(step, image))
                        if cancel.cancelled:
                            break
                    break
                except Exception as error:  # only running out of GPU memory is retried
                    from core.tracking.runtime.device import is_out_of_memory

                    if not is_out_of_memory(error) or self._device == "cpu":
                        raise
                    self.notice.emit("The GPU ran out of memory; continuing on the CPU.")
                    self._device, self._tracker = "cpu", None
                    if last_frame is not None and request.direction in ("forward", "backward"):
                        request = dataclasses.replace(request, start_frame=last_frame)
        except UserError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # a bug, but the app must stay usable
            log.error("propagation failed:\n%s", traceback.format_exc())
            self.failed.emit(f"Propagation stopped by an unexpected error: {error}")
            return
        self.finished.emit(bool(cancel.cancelled))


class WorkerHost(QtCore.QObject):
    """GUI-side handle: owns the QThread, forwards commands as queued signals, cancels directly.

    Cancel sets the CancelToken from the GUI thread (a plain flag) because the worker's
    event loop is busy inside `run` while it propagates; the loop checks it between frames.
    """

    _runRequested = QtCore.Signal(object, object, object)
    _configureRequested = QtCore.Signal(str, str)
    _mediaRequested = QtCore.Signal(str)
    _preloadRequested = QtCore.Signal()
    _shutdownRequested = QtCore.Signal()

    def __init__(self, tracker_factory: TrackerFactory | None = None, model: str = "lite",
                 device: str = "auto", parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.worker_thread = QtCore.QThread()  # not "thread": that is QObject.thread()
        self.worker_thread.setObjectName("propagation-worker")
        self.worker = PropagationWorker(tracker_factory or default_tracker_factory, model, device)
        self.worker.moveToThread(self.worker_thread)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._runRequested.connect(self.worker.run, queued)
        self._configureRequested.connect(self.worker.configure, queued)
        self._mediaRequested.connect(self.worker.set_media, queued)
        self._preloadRequested.connect(self.worker.preload, queued)
        self._shutdownRequested.connect(self.worker.shutdown, queued)
        self.worker.finished.connect(self._on_done)
        self.worker.failed.connect(self._on_done)
        self._cancel: CancelToken | None = None
        self.busy = False
        self.worker_thread.start()

    def set_media(self, path: str) -> None:
        self._mediaRequested.emit(path)

    def configure(self, model: str, device: str) -> None:
        self._configureRequested.emit(model, device)

    def preload(self) -> None:
        """Ask the worker to open the media and load the model in its thread (returns at once)."""
        self._preloadRequested.emit()

    def submit(self, project: Project, request) -> None:
        """Start a run on a private copy of the project (the GUI keeps editing its own)."""
        from core.propagation import CancelToken

        if self.busy:
            raise RuntimeError("a propagation is already running")
        self.busy = True
        self._cancel = CancelToken()
        self._runRequested.emit(copy.deepcopy(project), request, self._cancel)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def _on_done(self, *_args: object) -> None:
        self.busy = False

    def stop(self, timeout_ms: int = 5000) -> None:
        """Cancel, release the tracker and source in their thread, and join the thread."""
        self.cancel()
        if self.worker_thread.isRunning():
            self._shutdownRequested.emit()
            self.worker_thread.quit()
            self.worker_thread.wait(timeout_ms)

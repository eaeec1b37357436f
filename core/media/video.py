"""Video files decoded by OpenCV with exact frame indices.

OpenCV's ``CAP_PROP_POS_FRAMES`` seek is exact for well-formed MP4s but can land a few
frames off in other containers, and container headers can lie about the frame count.
So at open we decode the file once (``grab`` only, no colour conversion) to learn the
real frame count and every frame's timestamp. Each seek is then *verified*: the frame
we land on is identified by its timestamp, and when it is not the one asked for we
step forward from an earlier point instead. Sequential reads never seek.
"""
from __future__ import annotations

import bisect
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from core.errors import MediaError

from .fingerprint import file_fingerprint
from .source import BaseFrameSource, MediaInfo

ProgressCallback = Callable[[int, int], None]
CaptureFactory = Callable[[str], "cv2.VideoCapture"]

# Jumps this short are cheaper to decode through than to seek (a seek decodes from a keyframe).
FORWARD_STEP_LIMIT = 16
PROGRESS_EVERY = 64


def _open_capture(path: str) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture = cv2.VideoCapture(path)
    return capture


class VideoSource(BaseFrameSource):
    """Exact random access into one video file. Not thread-safe: one per thread."""

    def __init__(
        self,
        path: str | Path,
        *,
        progress: ProgressCallback | None = None,
        capture_factory: CaptureFactory = _open_capture,
    ) -> None:
        self._path = Path(path)
        self._factory = capture_factory
        name = self._path.name
        capture = self._factory(str(self._path))
        if not capture.isOpened():
            raise MediaError(f"{name} is not a video that OpenCV can decode (unsupported, corrupt or not a video).")
        header_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        header_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        timestamps, shape = self._scan(capture, header_count, progress)
        capture.release()
        if not timestamps or shape is None:
            raise MediaError(f"{name} contains no decodable frames.")
        self._timestamps = timestamps
        self._timestamps_identify = _timestamps_are_unique(timestamps)
        fps, variable, note = _frame_rate(timestamps, header_fps)
        if header_count > 0 and header_count != len(timestamps):
            count_note = f"The container claims {header_count} frames but {len(timestamps)} decode."
            note = f"{note} {count_note}".strip()
        self._info = MediaInfo(
            path=str(self._path),
            kind="video",
            frame_count=len(timestamps),
            width=int(shape[1]),
            height=int(shape[0]),
            fps=fps,
            fingerprint=file_fingerprint(self._path),
            variable_fps=variable,
            note=note,
        )
        self._capture: cv2.VideoCapture | None = self._factory(str(self._path))
        self._next = 0  # index the next capture.grab() decodes; -1 when unknown
        self.seeks = 0
        self.inexact_seeks = 0

    # -- opening ---------------------------------------------------------------------------
    def _scan(
        self, capture: cv2.VideoCapture, header_count: int, progress: ProgressCallback | None
    ) -> tuple[list[float], tuple[int, ...] | None]:
        """Decode every frame once: real count, per-frame timestamps and the frame size."""
        ok, first = capture.read()
        if not ok or first is None:
            return [], None
        timestamps = [float(capture.get(cv2.CAP_PROP_POS_MSEC))]
        while capture.grab():
            timestamps.append(float(capture.get(cv2.CAP_PROP_POS_MSEC)))
            if progress is not None and len(timestamps) % PROGRESS_EVERY == 0:
                progress(len(timestamps), max(header_count, len(timestamps)))
        if progress is not None:
            progress(len(timestamps), len(timestamps))
        return timestamps, first.shape

    # -- reading ---------------------------------------------------------------------------
    def read(self, index: int) -> np.ndarray:
        index = self._check_index(index)
        capture = self._live_capture()
        try:
            self._grab_exactly(capture, index)
            ok, frame = self._live_capture().retrieve()  # a restart may have replaced the capture
        except cv2.error:
            ok, frame = False, None
        if not ok or frame is None:
            self._next = -1
            raise MediaError(f"Frame {index} of {self._path.name} could not be decoded.")
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if frame.shape[:2] != (self._info.height, self._info.width):
            raise MediaError(
                f"Frame {index} of {self._path.name} is {frame.shape[1]}x{frame.shape[0]}, "
                f"not {self._info.width}x{self._info.height} like the first frame."
            )
        return frame

    def _live_capture(self) -> cv2.VideoCapture:
        if self._capture is None:
            raise MediaError(f"{self._path.name} was already closed.")
        return self._capture

    def _grab_exactly(self, capture: cv2.VideoCapture, index: int) -> None:
        """Leave frame ``index`` as the capture's last grabbed frame (ready for retrieve())."""
        if 0 <= self._next <= index <= self._next + FORWARD_STEP_LIMIT:
            self._grab_through(capture, index)
        else:
            self._seek(capture, index)

    def _grab_through(self, capture: cv2.VideoCapture, index: int) -> None:
        """Decode forward from self._next up to and including frame index."""
        while self._next <= index:
            if not capture.grab():
                failed, self._next = self._next, -1
                raise MediaError(f"Frame {failed} of {self._path.name} could not be decoded.")
            self._next += 1

    def _seek(self, capture: cv2.VideoCapture, index: int) -> None:
        """Seek, identify the frame landed on by its timestamp, and step forward to index.

        When the container lands after the target (inexact seek) we retry from further back,
        doubling the distance; from frame 0 decoding is always exact.
        """
        self.seeks += 1
        if not self._timestamps_identify:
            self._restart_through(index)
            return
        back = 0
        while True:
            start = max(0, index - back)
            if start == 0:
                self._restart_through(index)
                return
            capture.set(cv2.CAP_PROP_POS_FRAMES, start)
            landed = self._identify(float(capture.get(cv2.CAP_PROP_POS_MSEC))) if capture.grab() else None
            if landed is not None and landed <= index:
                if landed != start:
                    self.inexact_seeks += 1
                self._next = landed + 1
                self._grab_through(capture, index)
                return
            self.inexact_seeks += 1
            back = max(FORWARD_STEP_LIMIT, back * 2)

    def _restart_through(self, index: int) -> None:
        """The always-correct path: reopen and decode from frame 0 through index."""
        if self._capture is not None:
            self._capture.release()
        self._capture = self._factory(str(self._path))
        self._next = 0
        self._grab_through(self._capture, index)

    def _identify(self, msec: float) -> int | None:
        """Index of the frame with this timestamp, or None if no frame has it."""
        ts = self._timestamps
        i = bisect.bisect_left(ts, msec - 1e-3)
        for k in (i - 1, i, i + 1):
            if 0 <= k < len(ts) and abs(ts[k] - msec) <= 1e-3:
                return k
        return None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _timestamps_are_unique(timestamps: list[float]) -> bool:
    """Timestamps can identify frames only if strictly increasing (some containers report 0s)."""
    return all(b > a for a, b in zip(timestamps, timestamps[1:]))


def _frame_rate(timestamps: list[float], header_fps: float) -> tuple[float, bool, str]:
    """(average fps, variable?, note). Trust the header only when the timestamps agree with it."""
    if len(timestamps) < 2 or not _timestamps_are_unique(timestamps):
        fps = header_fps if header_fps > 0 else 30.0
        return fps, False, "" if header_fps > 0 else "The video has no frame rate; 30 fps is assumed."
    deltas = np.diff(np.asarray(timestamps, dtype=np.float64))
    median = float(np.median(deltas))
    average_fps = 1000.0 * (len(timestamps) - 1) / (timestamps[-1] - timestamps[0])
    variable = bool(np.any(np.abs(deltas - median) > max(1.5, 0.1 * median)))
    if variable:
        note = (
            f"Variable frame rate: frame intervals range from {deltas.min():.1f} to {deltas.max():.1f} ms; "
            f"fps is the average."
        )
        return average_fps, True, note
    if header_fps > 0 and abs(header_fps - average_fps) <= 0.01 * header_fps:
        return header_fps, False, ""
    return average_fps, False, ""

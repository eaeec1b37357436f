"""Video files decoded by OpenCV with exact frame indices.

OpenCV's ``CAP_PROP_POS_FRAMES`` seek is exact for well-formed MP4s but can land a few
frames off in other containers, and container headers can lie about the frame count.
So at open we decode the file once (``grab`` only, no colour conversion) to learn the
real frame count and every frame's timestamp. Every frame reached afterwards is
identified by its timestamp: a seek that lands elsewhere is corrected by stepping from
an earlier point, and sequential reads never seek.

Damaged frames in the middle of a file are dropped by the decoder; their slots are kept
(inferred from the gap in the timestamps) so later frames keep their true indices, and
reading a damaged slot raises a MediaError that names the frame.
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
# After this many failed grabs in a row the stream is over (damaged runs are shorter).
MAX_FAILED_GRABS = 48
PROGRESS_EVERY = 64
TIMESTAMP_TOLERANCE_MS = 1e-3


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
        self._name = self._path.name
        capture = self._factory(str(self._path))
        if not capture.isOpened():
            raise MediaError(f"{self._name} is not a video that OpenCV can decode (unsupported, corrupt or not a video).")
        try:
            header_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            header_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
            decoded, shape = _scan(capture, header_count, progress)
        finally:
            capture.release()
        if not decoded or shape is None:
            raise MediaError(f"{self._name} contains no decodable frames.")
        self._identify_by_time = _strictly_increasing(decoded)
        slots = _frame_slots(decoded) if self._identify_by_time else list(decoded)
        self._slots: list[float | None] = slots
        self._decoded_ts = [t for t in slots if t is not None]
        self._decoded_slot = [i for i, t in enumerate(slots) if t is not None]
        self.damaged_frames = tuple(i for i, t in enumerate(slots) if t is None)
        fps, variable, note = _frame_rate(self._decoded_ts, header_fps)
        notes = [note] if note else []
        if self.damaged_frames:
            shown = ", ".join(str(i) for i in self.damaged_frames[:8])
            notes.append(f"{len(self.damaged_frames)} damaged frame(s) cannot be decoded ({shown}).")
        if header_count > 0 and header_count != len(slots):
            notes.append(f"The container claims {header_count} frames but {len(slots)} decode.")
        self._info = MediaInfo(
            path=str(self._path),
            kind="video",
            frame_count=len(slots),
            width=int(shape[1]),
            height=int(shape[0]),
            fps=fps,
            fingerprint=file_fingerprint(self._path),
            variable_fps=variable,
            note=" ".join(notes),
        )
        self._capture: cv2.VideoCapture | None = self._factory(str(self._path))
        self._next = 0  # slot the next capture.grab() decodes; -1 when unknown
        self.seeks = 0
        self.inexact_seeks = 0

    # -- reading ---------------------------------------------------------------------------
    def read(self, index: int) -> np.ndarray:
        index = self._check_index(index)
        if self._slots[index] is None:
            raise MediaError(f"Frame {index} of {self._name} is damaged and cannot be decoded.")
        try:
            self._grab_exactly(index)
            ok, frame = self._live_capture().retrieve()
        except cv2.error:
            ok, frame = False, None
        if not ok or frame is None:
            self._next = -1
            raise MediaError(f"Frame {index} of {self._name} could not be decoded.")
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if frame.shape[:2] != (self._info.height, self._info.width):
            raise MediaError(
                f"Frame {index} of {self._name} is {frame.shape[1]}x{frame.shape[0]}, "
                f"not {self._info.width}x{self._info.height} like the first frame."
            )
        return frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    # -- positioning -------------------------------------------------------------------------
    def _live_capture(self) -> cv2.VideoCapture:
        if self._capture is None:
            raise MediaError(f"{self._name} was already closed.")
        return self._capture

    def _grab_exactly(self, index: int) -> None:
        """Leave frame ``index`` as the capture's last grabbed frame (ready for retrieve())."""
        if 0 <= self._next <= index <= self._next + FORWARD_STEP_LIMIT:
            self._grab_through(index)
        else:
            self._seek(index)

    def _grab_through(self, index: int) -> None:
        """Decode forward from slot self._next up to and including slot index."""
        capture = self._live_capture()
        failures = 0
        while self._next <= index:
            if not capture.grab():
                failures += 1
                if failures > MAX_FAILED_GRABS:
                    self._next = -1
                    raise MediaError(f"Frame {index} of {self._name} could not be decoded.")
                continue
            landed = self._landed_slot(capture)
            self._next = (landed if landed is not None else self._next) + 1
        if self._next != index + 1:
            self._next = -1
            raise MediaError(f"Frame {index} of {self._name} could not be decoded.")

    def _seek(self, index: int) -> None:
        """Seek, identify the frame landed on by its timestamp, and step forward to index.

        When the container lands after the target (inexact seek) we retry from further back,
        doubling the distance; decoding from the start is the always-exact last resort.
        """
        self.seeks += 1
        if not self._identify_by_time:
            self._restart_through(index)
            return
        capture = self._live_capture()
        back = 0
        while True:
            start = max(0, index - back)
            if start == 0:
                self._restart_through(index)
                return
            capture.set(cv2.CAP_PROP_POS_FRAMES, start)
            landed = self._landed_slot(capture) if capture.grab() else None
            if landed is not None and landed <= index:
                if landed != start:
                    self.inexact_seeks += 1
                self._next = landed + 1
                self._grab_through(index)
                return
            self.inexact_seeks += 1
            back = max(FORWARD_STEP_LIMIT, back * 2)

    def _restart_through(self, index: int) -> None:
        """The always-correct path: reopen and decode from the first frame through index."""
        if self._capture is not None:
            self._capture.release()
        self._capture = self._factory(str(self._path))
        self._next = 0
        self._grab_through(index)

    def _landed_slot(self, capture: cv2.VideoCapture) -> int | None:
        """Slot of the frame just grabbed, by its timestamp (None: timestamps cannot tell)."""
        if not self._identify_by_time:
            return None
        msec = float(capture.get(cv2.CAP_PROP_POS_MSEC))
        ts = self._decoded_ts
        i = bisect.bisect_left(ts, msec - TIMESTAMP_TOLERANCE_MS)
        if i < len(ts) and abs(ts[i] - msec) <= TIMESTAMP_TOLERANCE_MS:
            return self._decoded_slot[i]
        return None


def _scan(
    capture: cv2.VideoCapture, header_count: int, progress: ProgressCallback | None
) -> tuple[list[float], tuple[int, ...] | None]:
    """Decode every frame once: the timestamps of the frames that decode, and the frame size.

    Grabbing goes on past failures (a damaged stretch mid-file) until MAX_FAILED_GRABS in a row.
    """
    ok, first = capture.read()
    if not ok or first is None:
        return [], None
    timestamps = [float(capture.get(cv2.CAP_PROP_POS_MSEC))]
    failures_in_a_row = 0
    while failures_in_a_row <= MAX_FAILED_GRABS:
        if not capture.grab():
            failures_in_a_row += 1
            if header_count and len(timestamps) >= header_count:
                break  # the normal end of the stream
            continue
        failures_in_a_row = 0
        timestamps.append(float(capture.get(cv2.CAP_PROP_POS_MSEC)))
        if progress is not None and len(timestamps) % PROGRESS_EVERY == 0:
            progress(len(timestamps), max(header_count, len(timestamps)))
    if progress is not None:
        progress(len(timestamps), len(timestamps))
    return timestamps, first.shape


def _frame_slots(decoded: list[float]) -> list[float | None]:
    """Decoded timestamps with None slots where the gap to the next one shows frames were dropped."""
    if len(decoded) < 3:
        return list(decoded)
    interval = float(np.median(np.diff(decoded)))
    slots: list[float | None] = [decoded[0]]
    for previous, current in zip(decoded, decoded[1:]):
        missing = int(round((current - previous) / interval)) - 1 if interval > 0 else 0
        slots.extend([None] * max(0, missing))
        slots.append(current)
    return slots


def _strictly_increasing(timestamps: list[float]) -> bool:
    """Timestamps identify frames only if strictly increasing (some containers report 0s)."""
    return all(b > a for a, b in zip(timestamps, timestamps[1:]))


def _frame_rate(timestamps: list[float], header_fps: float) -> tuple[float, bool, str]:
    """(average fps, variable?, note). Trust the header only when the timestamps agree with it."""
    if len(timestamps) < 2 or not _strictly_increasing(timestamps):
        if header_fps > 0:
            return header_fps, False, ""
        return 30.0, False, "The video has no frame rate; 30 fps is assumed."
    deltas = np.diff(np.asarray(timestamps, dtype=np.float64))
    median = float(np.median(deltas))
    average_fps = 1000.0 * (len(timestamps) - 1) / (timestamps[-1] - timestamps[0])
    irregular = np.abs(deltas - median) > max(1.5, 0.1 * median)
    # A few long gaps are dropped (damaged) frames, not a variable rate: ignore whole multiples.
    multiples = np.abs(deltas / median - np.round(deltas / median)) < 0.1
    variable = bool(np.any(irregular & ~multiples))
    if variable:
        note = (
            f"Variable frame rate: frame intervals range from {deltas.min():.1f} to {deltas.max():.1f} ms; "
            f"fps is the average."
        )
        return average_fps, True, note
    regular_fps = 1000.0 / median
    if header_fps > 0 and abs(header_fps - regular_fps) <= 0.01 * header_fps:
        return header_fps, False, ""
    return regular_fps, False, ""

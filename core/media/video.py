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

from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from core.errors import MediaError

from .fingerprint import file_fingerprint
from .frame_index import GridIndex, ScannedIndex, frame_rate
from .source import BaseFrameSource, MediaInfo

ProgressCallback = Callable[[int, int], None]
CaptureFactory = Callable[[str], "cv2.VideoCapture"]

# Jumps this short are cheaper to decode through than to seek (a seek decodes from a keyframe).
FORWARD_STEP_LIMIT = 16
# After this many failed grabs in a row the stream is over (damaged runs are shorter).
MAX_FAILED_GRABS = 48
PROGRESS_EVERY = 64
# Videos up to this many frames are decoded fully at open (a few seconds at 720p); longer
# ones get their constant-rate header verified by probes instead.
SCAN_FRAME_LIMIT = 3000
VERIFY_TAIL = 8


def _open_capture(path: str) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture = cv2.VideoCapture(path)
    return capture


class VideoSource(BaseFrameSource):
    """Exact random access into one video file. Not thread-safe: one per thread.

    index: "scan" decodes the whole file at open (exact count, damaged frames, variable
    rate); "verify" trusts a constant-rate header after probing it (fast for long videos,
    falls back to a scan when a probe disagrees); "auto" scans videos up to
    SCAN_FRAME_LIMIT frames and verifies longer ones.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        progress: ProgressCallback | None = None,
        capture_factory: CaptureFactory = _open_capture,
        index: str = "auto",
    ) -> None:
        if index not in ("auto", "scan", "verify"):
            raise ValueError(f"index must be auto, scan or verify, got {index!r}")
        self._path = Path(path)
        self._factory = capture_factory
        self._name = self._path.name
        capture = self._factory(str(self._path))
        if not capture.isOpened():
            raise MediaError(f"{self._name} is not a video that OpenCV can decode (unsupported, corrupt or not a video).")
        try:
            header_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            header_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
            ok, first = capture.read()
            if not ok or first is None:
                raise MediaError(f"{self._name} contains no decodable frames.")
            first_ms = float(capture.get(cv2.CAP_PROP_POS_MSEC))
            frame_index: ScannedIndex | GridIndex | None = None
            if index == "verify" or (index == "auto" and header_count > SCAN_FRAME_LIMIT):
                frame_index = _verify_grid(capture, first_ms, header_count, header_fps)
                if frame_index is None:  # the header cannot be trusted: decode everything
                    capture.release()
                    capture = self._factory(str(self._path))
                    capture.read()
            if frame_index is None:
                frame_index = ScannedIndex.from_timestamps(_scan_rest(capture, first_ms, header_count, progress))
        finally:
            capture.release()
        self._index = frame_index
        self.damaged_frames = frame_index.damaged
        if isinstance(frame_index, ScannedIndex):
            fps, variable, note = frame_rate(frame_index.decoded_timestamps, header_fps)
        else:
            fps, variable, note = header_fps, False, ""
        notes = [note] if note else []
        if self.damaged_frames:
            shown = ", ".join(str(i) for i in self.damaged_frames[:8])
            notes.append(f"{len(self.damaged_frames)} damaged frame(s) cannot be decoded ({shown}).")
        if header_count > 0 and header_count != frame_index.count:
            notes.append(f"The container claims {header_count} frames but {frame_index.count} decode.")
        self._info = MediaInfo(
            path=str(self._path),
            kind="video",
            frame_count=frame_index.count,
            width=int(first.shape[1]),
            height=int(first.shape[0]),
            fps=fps,
            fingerprint=file_fingerprint(self._path),
            variable_fps=variable,
            note=" ".join(notes),
        )
        self._capture: cv2.VideoCapture | None = self._factory(str(self._path))
        self._next = 0  # slot the next capture.grab() decodes; -1 when unknown
        self.seeks = 0
        self.inexact_seeks = 0

    @property
    def verified_by_probes(self) -> bool:
        """True when the index came from header probes rather than a full decode."""
        return isinstance(self._index, GridIndex)

    # -- reading ---------------------------------------------------------------------------
    def read(self, index: int) -> np.ndarray:
        index = self._check_index(index)
        if self._index.is_damaged(index):
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
        if not self._index.identifies:
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
        return self._index.slot_of(float(capture.get(cv2.CAP_PROP_POS_MSEC)))


def _scan_rest(
    capture: cv2.VideoCapture, first_ms: float, header_count: int, progress: ProgressCallback | None
) -> list[float]:
    """Decode every remaining frame once: the timestamps of the frames that decode.

    Grabbing goes on past failures (a damaged stretch mid-file) until MAX_FAILED_GRABS in a row.
    """
    timestamps = [first_ms]
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
    return timestamps


def _verify_grid(capture: cv2.VideoCapture, first_ms: float, header_count: int, header_fps: float) -> GridIndex | None:
    """A GridIndex if the header's count and constant rate survive probes, else None.

    Probes: the first frames step by exactly one interval; seeks at 1/3 and 2/3 land on the
    grid; from near the end, stepping reaches exactly frame header_count - 1 and no further.
    """
    if header_count < 2 or not 0 < header_fps < 1000:
        return None
    grid = GridIndex(first_ms, 1000.0 / header_fps, header_count)
    for expected in range(1, min(5, header_count)):
        if not capture.grab() or grid.slot_of(float(capture.get(cv2.CAP_PROP_POS_MSEC))) != expected:
            return None
    for target in (header_count // 3, (2 * header_count) // 3):
        capture.set(cv2.CAP_PROP_POS_FRAMES, target)
        if not capture.grab() or grid.slot_of(float(capture.get(cv2.CAP_PROP_POS_MSEC))) is None:
            return None
    capture.set(cv2.CAP_PROP_POS_FRAMES, max(0, header_count - VERIFY_TAIL))
    last = None
    for _ in range(VERIFY_TAIL * 4):
        if not capture.grab():
            break
        landed = grid.slot_of(float(capture.get(cv2.CAP_PROP_POS_MSEC)))
        if landed is None or (last is not None and landed != last + 1):
            return None
        last = landed
    return grid if last == header_count - 1 else None

"""Video files decoded by OpenCV with exact frame indices.

OpenCV's ``CAP_PROP_POS_FRAMES`` seek is exact for well-formed MP4s but can land a few
frames off in other containers, and container headers can lie about the frame count.
So every frame we decode is identified by its timestamp against an index built at open
(see ``frame_index.py``): a seek that lands elsewhere is corrected by stepping from an
earlier point, sequential reads never seek, and a forward jump with no keyframe in
between decodes forward instead of seeking (a seek would decode from that keyframe anyway).

Damaged frames in the middle of a file are dropped by the decoder; their slots are kept
(inferred from the gap in the timestamps) so later frames keep their true indices, and
reading a damaged slot raises a MediaError that names the frame.
"""
from __future__ import annotations

import bisect
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from core.errors import MediaError

from .fingerprint import file_fingerprint
from .frame_index import FrameIndex, PacketScan, frame_rate, keyframe_slots, strictly_increasing
from .source import BaseFrameSource, MediaInfo

ProgressCallback = Callable[[int, int], None]


def quiet_native_logs() -> None:
    """Silence FFmpeg's and OpenCV's own stderr diagnostics ("moov atom not found", "error
    while decoding MB ..."): a user gets one MediaError sentence instead, and the CLI's
    one-line errors stay one line. Setting OPENCV_FFMPEG_LOGLEVEL or OPENCV_LOG_LEVEL in the
    environment brings them back for debugging."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET; read at the first capture
    if "OPENCV_LOG_LEVEL" not in os.environ:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


quiet_native_logs()
CaptureFactory = Callable[[str], "cv2.VideoCapture"]

# Without keyframe knowledge, jumps this short decode through instead of seeking.
FORWARD_STEP_LIMIT = 16
# After this many failed grabs in a row the stream is over (damaged runs are shorter).
MAX_FAILED_GRABS = 48
PROGRESS_EVERY = 64
# Videos up to this many frames are decoded fully at open (a few seconds at 720p on a
# laptop); longer ones are indexed from their packets and probed at both ends.
SCAN_FRAME_LIMIT = 3000
HEAD_PROBE = 4


@dataclass(frozen=True)
class _Opening:
    index: FrameIndex
    keyframes: list[int] | None
    info: MediaInfo


# Reopening the same unchanged file (a worker thread's own source, a dataset reader) reuses
# what the first open learnt instead of decoding the file again. Keyed by size and mtime.
_OPENINGS: OrderedDict[tuple[str, int, int, str], _Opening] = OrderedDict()
_OPENINGS_LOCK = threading.Lock()
_OPENINGS_MAX = 32


def _opening_key(path: Path, index: str) -> tuple[str, int, int, str] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, index)


def _reuse_opening(path: Path, index: str) -> _Opening | None:
    key = _opening_key(path, index)
    with _OPENINGS_LOCK:
        opening = _OPENINGS.get(key) if key is not None else None
        if key is not None and opening is not None:
            _OPENINGS.move_to_end(key)
    if opening is not None and opening.info.path != str(path):
        opening = _Opening(opening.index, opening.keyframes, replace(opening.info, path=str(path)))
    return opening


def _remember_opening(path: Path, index: str, opening: _Opening) -> None:
    key = _opening_key(path, index)
    if key is None:
        return
    with _OPENINGS_LOCK:
        _OPENINGS[key] = opening
        while len(_OPENINGS) > _OPENINGS_MAX:
            _OPENINGS.popitem(last=False)


def _open_capture(path: str) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture = cv2.VideoCapture(path)
    return capture


class VideoSource(BaseFrameSource):
    """Exact random access into one video file. Not thread-safe: one per thread.

    index: "decode" decodes the whole file at open (exact count, damaged frames found up
    front, variable rate measured from decoded frames); "packets" indexes the container's
    packets without decoding and checks the first and last frames by decoding them (falls
    back to "decode" when they disagree); "auto" decodes videos up to SCAN_FRAME_LIMIT
    frames and uses packets for longer ones.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        progress: ProgressCallback | None = None,
        capture_factory: CaptureFactory = _open_capture,
        index: str = "auto",
    ) -> None:
        if index not in ("auto", "decode", "packets"):
            raise ValueError(f"index must be auto, decode or packets, got {index!r}")
        self._path = Path(path)
        self._factory = capture_factory
        self._name = self._path.name
        opened = _reuse_opening(self._path, index) if capture_factory is _open_capture else None
        if opened is None:
            opened = self._open(index, progress)
            if capture_factory is _open_capture:
                _remember_opening(self._path, index, opened)
        self._index = opened.index
        self._keyframes = opened.keyframes
        self._info = opened.info
        self.damaged_frames = opened.index.damaged
        self._capture: cv2.VideoCapture | None = self._factory(str(self._path))
        self._next = 0  # slot the next capture.grab() decodes; -1 when unknown
        self.seeks = 0
        self.inexact_seeks = 0

    def _open(self, index: str, progress: ProgressCallback | None) -> _Opening:
        """Header, first frame, frame index and keyframes: everything learnt once per file."""
        capture = self._factory(str(self._path))
        if not capture.isOpened():
            raise MediaError(f"{self._name} is not a video that OpenCV can decode "
                             "(unsupported, corrupt or not a video).")
        try:
            header_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            header_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
            ok, first = capture.read()
            if not ok or first is None:
                raise MediaError(f"{self._name} contains no decodable frames.")
            first_ms = float(capture.get(cv2.CAP_PROP_POS_MSEC))
        finally:
            capture.release()
        packets = self._packet_scan()
        frame_index: FrameIndex | None = None
        long_video = max(header_count, len(packets.timestamps) if packets else 0) > SCAN_FRAME_LIMIT
        if index == "packets" or (index == "auto" and long_video):
            frame_index = self._probed_packet_index(packets, first_ms)
        if frame_index is None:
            frame_index = self._decoded_index(first_ms, header_count, progress)
        fps, variable, note = frame_rate(frame_index.decoded_timestamps, header_fps)
        notes = [note] if note else []
        damaged = frame_index.damaged
        if damaged:
            shown = ", ".join(str(i) for i in damaged[:8])
            notes.append(f"{len(damaged)} damaged frame(s) cannot be decoded ({shown}).")
        if header_count > 0 and header_count != frame_index.count:
            notes.append(f"The container claims {header_count} frames but {frame_index.count} decode.")
        info = MediaInfo(
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
        return _Opening(frame_index, keyframe_slots(frame_index, packets), info)

    @property
    def index_source(self) -> str:
        """"decode" or "packets": how the frame index was built at open."""
        return self._index.source

    @property
    def keyframes(self) -> tuple[int, ...] | None:
        """Keyframe slots from the container (None when the container does not say)."""
        return None if self._keyframes is None else tuple(self._keyframes)

    # -- opening ---------------------------------------------------------------------------
    def _packet_scan(self) -> PacketScan | None:
        """Timestamps and keyframes of the video packets, read without decoding (None if unsupported)."""
        capture = self._factory(str(self._path))
        try:
            if not capture.isOpened() or not capture.set(cv2.CAP_PROP_FORMAT, -1):
                return None
            timestamps: list[float] = []
            keyframes: list[float] = []
            while capture.grab():
                msec = float(capture.get(cv2.CAP_PROP_POS_MSEC))
                timestamps.append(msec)
                if capture.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME):
                    keyframes.append(msec)
        except cv2.error:
            return None
        finally:
            capture.release()
        timestamps.sort()
        if not timestamps or not strictly_increasing(timestamps):
            return None
        return PacketScan(timestamps, keyframes)

    def _probed_packet_index(self, packets: PacketScan | None, first_ms: float) -> FrameIndex | None:
        """An index from packets if decoding agrees at both ends, else None.

        Head: the first frames decode with the first packet timestamps, in order. Tail:
        decoding from the last keyframe ends exactly on the last packet's timestamp.
        """
        if packets is None or len(packets.timestamps) < 2:
            return None
        candidate = FrameIndex.build(packets.timestamps, "packets")
        if candidate.slot_of(first_ms) != 0:
            return None
        capture = self._factory(str(self._path))
        try:
            for expected in range(HEAD_PROBE + 1):
                if not capture.grab() or candidate.slot_of(float(capture.get(cv2.CAP_PROP_POS_MSEC))) != expected:
                    return None
                if expected == candidate.count - 1:
                    return candidate
            keys = keyframe_slots(candidate, packets) or [0]
            capture.set(cv2.CAP_PROP_POS_FRAMES, keys[-1])
            last = None
            while capture.grab():
                landed = candidate.slot_of(float(capture.get(cv2.CAP_PROP_POS_MSEC)))
                if landed is None or (last is not None and landed != last + 1):
                    return None
                last = landed
        finally:
            capture.release()
        return candidate if last == candidate.count - 1 else None

    def _decoded_index(self, first_ms: float, header_count: int, progress: ProgressCallback | None) -> FrameIndex:
        """Decode every frame once: the timestamps of the frames that decode.

        Grabbing goes on past failures (a damaged stretch mid-file) until MAX_FAILED_GRABS
        in a row; only then are timestamp gaps read as damaged frames.
        """
        capture = self._factory(str(self._path))
        try:
            capture.grab()  # frame 0, already known
            timestamps = [first_ms]
            failures_in_a_row = 0
            damaged_run = False
            while failures_in_a_row <= MAX_FAILED_GRABS:
                if not capture.grab():
                    failures_in_a_row += 1
                    if header_count and len(timestamps) >= header_count:
                        break  # the normal end of the stream
                    continue
                damaged_run = damaged_run or failures_in_a_row > 0
                failures_in_a_row = 0
                timestamps.append(float(capture.get(cv2.CAP_PROP_POS_MSEC)))
                if progress is not None and len(timestamps) % PROGRESS_EVERY == 0:
                    progress(len(timestamps), max(header_count, len(timestamps)))
        finally:
            capture.release()
        if progress is not None:
            progress(len(timestamps), len(timestamps))
        return FrameIndex.build(timestamps, "decode", infer_gaps=damaged_run)

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
        if self._should_step(index):
            self._grab_through(index)
        else:
            self._seek(index)

    def _should_step(self, index: int) -> bool:
        """Decode forward when that is no more work than a seek (which decodes from a keyframe)."""
        if not 0 <= self._next <= index:
            return False
        if index - self._next <= FORWARD_STEP_LIMIT:
            return True
        if self._keyframes is None:
            return False
        keyframe = self._keyframes[bisect.bisect_right(self._keyframes, index) - 1]
        return keyframe <= self._next

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
            landed = self._index.slot_of(float(capture.get(cv2.CAP_PROP_POS_MSEC)))
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
            landed = self._index.slot_of(float(capture.get(cv2.CAP_PROP_POS_MSEC))) if capture.grab() else None
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

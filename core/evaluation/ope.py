"""One-pass evaluation, the "run" half: every tracker through every sequence, predictions kept.

Scoring and tables live in report.py, so a run can be reported again (or by another tool)
without tracking again. Like the got10k toolkit's ExperimentOTB, the target starts on its
first ground-truth box and that box is stored as frame 0's prediction; then the tracker runs
once over the remaining frames with no re-initialisation.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..datasets import load_sequences
from ..errors import Cancelled, FormatError
from ..media.sequence import Sequence
from ..tracking.protocol import MultiTargetTracker
from .metrics import valid_frames

log = logging.getLogger(__name__)


class CancelFlag(Protocol):
    """Anything with a ``cancelled`` attribute (core.propagation.CancelToken fits)."""

    cancelled: bool


@dataclass(frozen=True)
class SequenceResult:
    """One tracker's pass over one sequence.

    boxes: float64 Nx4 predictions, 0-based x, y, w, h (NaN before the init frame).
    scores: float64 N tracker confidence (1.0 on the init frame).
    times: float64 N seconds spent in the tracker call for each frame (init on the init frame).
    """

    tracker: str
    sequence: str
    boxes: np.ndarray
    scores: np.ndarray
    times: np.ndarray
    init_frame: int = 0

    @property
    def tracked_frames(self) -> int:
        return max(len(self.boxes) - self.init_frame - 1, 0)

    @property
    def fps(self) -> float:
        """Frames per second of the tracking calls alone (init excluded), as shared/tools/ope.py."""
        spent = float(self.times[self.init_frame + 1:].sum())
        return self.tracked_frames / spent if spent > 0 else float("nan")


@dataclass(frozen=True)
class OPEProgress:
    """Where a run is: for progress bars (frames/s of the tracker so far in this sequence)."""

    tracker: str
    sequence: str
    frame: int
    frames: int
    done_frames: int
    total_frames: int
    fps: float


def truncate(sequence: Sequence, max_frames: int | None) -> Sequence:
    """The first max_frames frames of a sequence (all of it when None)."""
    if max_frames is None or max_frames >= len(sequence):
        return sequence
    keep = slice(0, max(int(max_frames), 1))
    return Sequence(
        name=sequence.name,
        boxes=sequence.boxes[keep],
        frames=sequence.frames[keep],
        video=sequence.video,
        absent=sequence.absent[keep],
        occluded=sequence.occluded[keep],
        out_of_view=sequence.out_of_view[keep],
        cut_by_image=sequence.cut_by_image[keep],
        cover=sequence.cover[keep],
        meta=dict(sequence.meta),
    )


class _FrameReader:
    """Frames of a sequence by index: image files directly, videos through one open FrameSource."""

    def __init__(self, sequence: Sequence) -> None:
        self.sequence = sequence
        self.source = None
        if sequence.video is not None:
            from ..media import open_media  # only videos need the exact-seek reader

            self.source = open_media(sequence.video)

    def read(self, index: int) -> np.ndarray:
        if self.source is not None:
            return self.source.read(index)
        return self.sequence.read_frame(index)

    def close(self) -> None:
        if self.source is not None:
            self.source.close()


def run_sequence(
    tracker: MultiTargetTracker,
    sequence: Sequence,
    tracker_name: str = "tracker",
    progress: Callable[[OPEProgress], None] | None = None,
    cancel: CancelFlag | None = None,
    done_before: int = 0,
    total_frames: int | None = None,
) -> SequenceResult:
    """One pass of `tracker` over `sequence` from its first present ground-truth box."""
    n = len(sequence)
    present = np.flatnonzero(valid_frames(sequence.boxes, sequence.absent))
    if len(present) == 0:
        raise FormatError(f"Sequence {sequence.name} has no frame with a ground-truth box to start from.")
    start = int(present[0])
    boxes = np.full((n, 4), np.nan)
    scores = np.full(n, np.nan)
    times = np.zeros(n)
    total = total_frames if total_frames is not None else n
    reader = _FrameReader(sequence)
    try:
        frame = reader.read(start)
        began = time.perf_counter()
        state = tracker.init_target(frame, tuple(float(v) for v in sequence.boxes[start]))
        times[start] = time.perf_counter() - began
        boxes[start] = sequence.boxes[start]
        scores[start] = 1.0
        for index in range(start + 1, n):
            if cancel is not None and cancel.cancelled:
                raise Cancelled(f"evaluation cancelled in {sequence.name} at frame {index + 1}")
            frame = reader.read(index)
            began = time.perf_counter()
            result = tracker.track_many(frame, [state])[0]
            times[index] = time.perf_counter() - began
            boxes[index] = result.box_xywh
            scores[index] = result.score
            if progress is not None:
                spent = times[start + 1:index + 1].sum()
                progress(OPEProgress(tracker_name, sequence.name, index + 1, n, done_before + index + 1,
                                     total, (index - start) / spent if spent > 0 else float("nan")))
    finally:
        reader.close()
    return SequenceResult(tracker_name, sequence.name, boxes, scores, times, init_frame=start)


def run_ope(
    tracker_factory: Callable[[], MultiTargetTracker],
    sequences: Iterable[Sequence],
    max_frames: int | None = None,
    progress: Callable[[OPEProgress], None] | None = None,
    cancel: CancelFlag | None = None,
    tracker_name: str = "tracker",
) -> list[SequenceResult]:
    """Run one tracker over every sequence (first max_frames frames of each).

    tracker_factory is called once (a network loads once); each sequence starts a fresh
    target with ``init_target``. Cancelling raises ``Cancelled`` between frames, with the
    finished sequences in its ``partial`` attribute.
    """
    chosen = [truncate(s, max_frames) for s in sequences]
    total = sum(len(s) for s in chosen)
    tracker = tracker_factory()
    results: list[SequenceResult] = []
    done = 0
    for sequence in chosen:
        try:
            result = run_sequence(tracker, sequence, tracker_name, progress, cancel, done, total)
        except Cancelled as stop:
            stop.partial = results  # type: ignore[attr-defined]  # the partial results ride on the exception
            raise
        log.info("%s on %s: %d frames at %.1f fps", tracker_name, sequence.name, len(sequence), result.fps)
        results.append(result)
        done += len(sequence)
    return results


def load_eval_sequences(root: Path | str, layout: str | None = None,
                        only: Iterable[str] | None = None) -> list[Sequence]:
    """Sequences to evaluate on, read by core.datasets (layout None: detected); ``only`` picks
    them by name, in its order."""
    root = Path(root)
    if not root.is_dir():
        raise FormatError(f"Evaluation data folder not found: {root}.")
    sequences = list(load_sequences(root, layout))
    if only:
        wanted = [name for name in only if name]
        by_name = {s.name: s for s in sequences}
        missing = [name for name in wanted if name not in by_name]
        if missing:
            raise FormatError(f"No sequence named {missing[0]} in {root}.")
        sequences = [by_name[name] for name in wanted]
    if not sequences:
        raise FormatError(f"No labelled sequences found in {root}.")
    return sequences

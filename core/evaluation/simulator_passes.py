"""What the annotation-effort simulator reviews: the simulated person's truth and the tracker's passes.

``Truth`` holds one sequence's ground truth, draws the boxes a person draws (jittered the same
way for the same frame however often) and judges a label right or wrong. ``PassCache`` runs the
tracker's passes from keyframes, deterministic and so computed once, only as far as the review
reads them, and applies the engine's low-score stop when reading.
"""
from __future__ import annotations

import time
import zlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..annotations.model import Flags, FrameLabel, Provenance
from ..media.sequence import Sequence
from ..propagation.boxes import iou_xywh
from ..propagation.segments import PassResults
from ..propagation.sources import SequenceSource
from ..tracking.adaptation import AdaptationConfig, Evidence, nearest_keyframes
from ..tracking.protocol import MultiTargetTracker
from ..tracking.result import TrackResult
from .simulator_report import CORRECTION_KINDS, DRIFTED_IOU, LOST_IOU


class Truth:
    """Ground truth of one sequence, the boxes the simulated person draws, and their verdict on a label.

    With jitter > 0 a drawn box is the true box moved and resized by up to ``jitter`` of its size,
    the same for a given (seed, sequence, frame) however often it is drawn, so cached passes
    stay consistent.
    """

    def __init__(self, sequence: Sequence, iou_threshold: float, jitter: float = 0.0, seed: int = 0) -> None:
        self.boxes = np.asarray(sequence.boxes, dtype=np.float64)
        self.absent = np.asarray(sequence.absent, dtype=bool)
        self.threshold = iou_threshold
        self.count = len(sequence)
        self.jitter = float(jitter)
        self.key = (int(seed), zlib.crc32(sequence.name.encode("utf-8")))

    def drawn(self, frame: int) -> tuple[float, float, float, float]:
        """The box the person draws at ``frame`` (x, y, w, h)."""
        x, y, w, h = (float(v) for v in self.boxes[frame])
        if self.jitter <= 0:
            return (x, y, w, h)
        dx, dy, dw, dh = np.random.default_rng([*self.key, int(frame)]).uniform(-self.jitter, self.jitter, 4)
        new_w, new_h = w * (1.0 + dw), h * (1.0 + dh)
        cx, cy = x + w / 2.0 + dx * w, y + h / 2.0 + dy * h
        return (cx - new_w / 2.0, cy - new_h / 2.0, new_w, new_h)

    def keyframe(self, frame: int) -> FrameLabel:
        if self.absent[frame]:
            return FrameLabel(box=None, provenance=Provenance.MANUAL, flags=Flags(absent=True))
        return FrameLabel(box=self.drawn(frame), provenance=Provenance.MANUAL)

    def kind(self, frame: int, label: FrameLabel | None) -> str:
        """What was wrong with ``label`` at ``frame`` (one of CORRECTION_KINDS but "anchor")."""
        labelled_present = label is not None and not label.is_absent
        if self.absent[frame] or not labelled_present:
            return "presence"
        # mypy, next line: labelled_present means a box
        iou = iou_xywh(label.box, self.boxes[frame])  # type: ignore[union-attr, arg-type]
        return "lost" if iou < LOST_IOU else "drifted" if iou < DRIFTED_IOU else "loose"

    def is_right(self, frame: int, label: FrameLabel | None) -> bool:
        labelled_present = label is not None and not label.is_absent
        if self.absent[frame]:
            return not labelled_present
        # mypy, next line: labelled_present means a box
        return labelled_present and iou_xywh(label.box, self.boxes[frame]) >= self.threshold  # type: ignore[union-attr, arg-type]


@dataclass
class CachedPass:
    """One tracker pass from a keyframe: its target (None when the keyframe is absent: the pass
    cannot start), its results so far and the last frame it reached."""

    anchor: int
    step: int
    state: object | None
    reached: int
    results: dict[int, TrackResult] = field(default_factory=dict)


@dataclass
class StopScan:
    """How far a reader has applied the low-score stop to a pass: the last frame scanned, the run
    of low scores up to it, and the frame the pass stopped at (None: not stopped)."""

    scanned: int
    low: int = 0
    at: int | None = None


class PassCache:
    """Deterministic tracker passes keyed by (anchor frame, direction), extended on demand and timed.

    Passes are stored untruncated; the low-score stop (`stop_threshold`, `patience`) is applied
    when reading, and tracking ends as soon as that stop is reached. `memo` lets several
    configurations of one sequence share passes (tuning); leave it None to time a strategy alone.
    """

    def __init__(self, source: SequenceSource, tracker: MultiTargetTracker, truth: Truth,
                 stop_threshold: float, patience: int, memo: dict[tuple, CachedPass] | None = None,
                 adapt: bool = False) -> None:
        self.source, self.tracker, self.truth = source, tracker, truth
        self.stop_threshold, self.patience = stop_threshold, patience
        self.passes: dict[tuple, CachedPass] = {} if memo is None else memo
        self.stops: dict[tuple, StopScan] = {}
        self.seconds = 0.0
        self.frames_tracked = 0
        self.adapt = adapt and hasattr(tracker, "adapt_target")
        self.keyframes: dict[int, tuple] = {0: ()}  # keyframe -> boxes the tool showed there before (wrong)
        self.kinds: Counter[str] = Counter()  # corrections by kind (CORRECTION_KINDS)

    def add_keyframe(self, frame: int, wrong: FrameLabel | None, anchor: bool = False) -> None:
        """A person drew the truth at ``frame`` over ``wrong`` (what the tool showed; None: nothing),
        or drew it as an anchor (fill's last frame) whatever the tool showed."""
        self.keyframes[frame] = () if wrong is None or wrong.is_absent else (wrong.box,)
        self.kinds["anchor" if anchor else self.truth.kind(frame, wrong)] += 1

    def kind_counts(self) -> tuple[int, ...]:
        """Corrections so far of each of CORRECTION_KINDS."""
        return tuple(self.kinds[k] for k in CORRECTION_KINDS)

    def _key(self, anchor: int, step: int) -> tuple:
        """Passes are deterministic for one set of keyframes; with adaptation that set changes them."""
        return (anchor, step, tuple(sorted(self.keyframes)) if self.adapt else ())

    def result(self, anchor: int, step: int, frame: int) -> TrackResult | None:
        """The pass from keyframe `anchor` at `frame` (None when it stopped before or cannot start)."""
        key = self._key(anchor, step)
        run = self.passes.get(key) or self._start(anchor, step)
        stop = self.stops.setdefault(key, StopScan(scanned=anchor))
        while run.state is not None and stop.at is None and (frame - stop.scanned) * step > 0:
            nxt = stop.scanned + step
            if not 0 <= nxt < self.truth.count:
                break
            result = run.results.get(nxt) or self._track(run, nxt)
            stop.scanned = nxt
            stop.low = stop.low + 1 if result.score < self.stop_threshold else 0
            if stop.low >= self.patience:
                stop.at = nxt
        if stop.at is not None and (frame - stop.at) * step > 0:
            return None
        return run.results.get(frame)

    def results(self, anchor: int, step: int, last: int) -> dict[int, TrackResult]:
        """The pass's results from its anchor up to `last` (inclusive), as far as it runs."""
        out = {}
        for frame in range(anchor + step, last + step, step):
            result = self.result(anchor, step, frame)
            if result is None:
                break
            out[frame] = result
        return out

    def output(self, anchor: int, step: int, last: int) -> PassResults:
        """The pass's results up to `last` as the engine's segment functions take them."""
        return PassResults(self.results(anchor, step, last))

    def _track(self, run: CachedPass, frame: int) -> TrackResult:
        assert frame == run.reached + run.step, "passes advance one frame at a time"
        image = self.source.read(frame)
        began = time.perf_counter()
        result = self.tracker.track_many(image, [run.state])[0]
        self.seconds += time.perf_counter() - began
        self.frames_tracked += 1
        run.results[frame] = result
        run.reached = frame
        return result

    def _start(self, anchor: int, step: int) -> CachedPass:
        state = None
        if not self.truth.absent[anchor]:
            image = self.source.read(anchor)
            began = time.perf_counter()
            state = self.tracker.init_target(image, self.truth.drawn(anchor))
            if self.adapt:
                # mypy, next line: hasattr-checked by the caller
                self.tracker.adapt_target(state, self._evidence(anchor))  # type: ignore[attr-defined]
            self.seconds += time.perf_counter() - began
        run = CachedPass(anchor=anchor, step=step, state=state, reached=anchor)
        self.passes[self._key(anchor, step)] = run
        return run

    def _evidence(self, anchor: int) -> list[Evidence]:
        """The keyframes drawn so far nearest to the pass's start, as the engine picks them."""
        visible = [k for k in self.keyframes if not self.truth.absent[k]]
        frames = nearest_keyframes(visible, anchor, AdaptationConfig().max_views)
        return [Evidence(self.source.read(k), self.truth.drawn(k), self.keyframes.get(k, ())) for k in frames]

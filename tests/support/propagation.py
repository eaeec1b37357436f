"""Fakes shared by the propagation, simulator and review tests: frames that carry their index,
scripted trackers whose output is a known function of (anchor frame, anchor box, frame), and
projects of manual keyframes run through the real engine.

Scripted trackers make the engine's behaviour exactly checkable (which frames were tracked,
from which keyframe, in one call or many) without a model.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.propagation import SequenceSource, propagate
from core.tracking.result import TrackResult

Box = tuple[float, float, float, float]
Script = Callable[[int, Box, int], tuple[Box, float]]


def stamp(frame: np.ndarray, index: int) -> np.ndarray:
    frame = frame.copy()
    frame[0, 0, 0], frame[0, 0, 1] = index % 256, index // 256
    return frame


def frame_index(frame: np.ndarray) -> int:
    return int(frame[0, 0, 0]) + 256 * int(frame[0, 0, 1])


class IndexedSource:
    """Blank 24x32 frames whose pixel (0, 0) encodes the frame index; records every read."""

    def __init__(self, count: int) -> None:
        self.info = SimpleNamespace(frame_count=count)
        self.reads: list[int] = []

    def __len__(self) -> int:
        return self.info.frame_count

    def read(self, index: int) -> np.ndarray:
        assert 0 <= index < self.info.frame_count
        self.reads.append(index)
        return stamp(np.zeros((24, 32, 3), np.uint8), index)


class IndexedSequenceSource(SequenceSource):
    """Real frames of a sequence, stamped with their index so an oracle tracker knows where it is."""

    def read(self, index: int) -> np.ndarray:
        return stamp(super().read(index), index)


@dataclass
class ScriptState:
    anchor: int
    box: Box


def still(anchor: int, box: Box, frame: int) -> tuple[Box, float]:
    return box, 1.0


class ScriptedTracker:
    """MultiTargetTracker whose result for a target is script(anchor, anchor_box, frame)."""

    def __init__(self, script: Script = still) -> None:
        self.script = script
        self.calls: list[tuple[int, int]] = []  # (frame, number of targets) per track_many
        self.inits: list[tuple[int, Box]] = []

    def init_target(self, frame_bgr: np.ndarray, box_xywh) -> ScriptState:
        index = frame_index(frame_bgr)
        box = tuple(float(v) for v in box_xywh)
        self.inits.append((index, box))
        return ScriptState(index, box)  # type: ignore[arg-type]

    def track_many(self, frame_bgr: np.ndarray, targets) -> list[TrackResult]:
        index = frame_index(frame_bgr)
        self.calls.append((index, len(targets)))
        out = []
        for state in targets:
            box, score = self.script(state.anchor, state.box, index)
            out.append(TrackResult(box_xywh=tuple(float(v) for v in box), score=float(score)))
        return out


class OracleTracker(ScriptedTracker):
    """Returns the ground truth of the frame it is shown (score 1): a perfect tracker."""

    def __init__(self, truth: np.ndarray) -> None:
        super().__init__(lambda anchor, box, frame: (tuple(truth[frame]), 1.0))


# --- projects and runs ------------------------------------------------------------------------
def manual(box) -> FrameLabel:
    return FrameLabel(box=tuple(float(v) for v in box), provenance=Provenance.MANUAL)


def project_with(**tracks: dict[int, tuple]) -> Project:
    """project_with(a={0: box, 10: box}) -> tracks 1, 2, ... in argument order with manual keyframes."""
    project = Project()
    for number, frames in enumerate(tracks.values(), start=1):
        project.tracks[number] = Track(id=number, frames={f: manual(b) for f, b in frames.items()})
    return project


def run(project, request, tracker=None, count=20, cancel=None):
    tracker = tracker or ScriptedTracker()
    source = IndexedSource(count)
    steps = list(propagate(project, source, tracker, request, cancel))
    return steps, tracker, source

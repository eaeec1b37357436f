"""The annotation data model: plain dataclasses, no I/O, no Qt.

A project is a media reference plus tracks; a track holds one ``FrameLabel`` per labelled
frame. Boxes are 0-based pixel x, y, w, h floats everywhere inside the engine.
Frames carrying ``Provenance.MANUAL`` are the annotator's keyframes: nothing automatic
ever overwrites them. ``MANUAL`` and ``IMPORTED`` labels are human labels (a person drew
them, here or in the tool they came from): propagation stops at both, and replaces an
imported one only when the user asks for it.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, SupportsFloat

Box = tuple[float, float, float, float]


def as_box(values: Iterable[SupportsFloat]) -> Box:
    """Four numbers as a Box of floats (ValueError unless there are exactly four)."""
    x, y, w, h = (float(v) for v in values)
    return x, y, w, h


class Provenance(str, Enum):
    """Where a frame's label came from."""

    MANUAL = "manual"
    TRACKED = "tracked"
    INTERPOLATED = "interpolated"
    IMPORTED = "imported"


HUMAN_PROVENANCE = frozenset({Provenance.MANUAL, Provenance.IMPORTED})


@dataclass(frozen=True)
class Flags:
    """Visibility flags of one frame (GOT-10k / LaSOT vocabulary); cover is 0-8 or None if unknown."""

    absent: bool = False
    occluded: bool = False
    out_of_view: bool = False
    cut_by_image: bool = False
    cover: int | None = None

    def __post_init__(self) -> None:
        if self.cover is not None and not 0 <= self.cover <= 8:
            raise ValueError(f"cover level must be 0-8, got {self.cover}")


@dataclass(frozen=True)
class FrameLabel:
    """One track on one frame. box is None only when the target is absent.

    distractor, disagreement and box_spread are what the tracker knew beside its score and a
    stored label cannot recompute: the response map's second peak over its first, 1 - IoU of
    the forward and backward passes where a fill ran both, and how much the boxes of the best
    cells around the peak disagree (TrackResult.box_spread); None when not recorded (human
    labels, other trackers, older projects). The review queue (core.review) ranks by the last
    two and the score.

    corrected_from: on a keyframe a person drew over a tracked box, the box the tracker had
    there (what it wrongly held: per-target adaptation, core.tracking.adaptation, learns it as
    a distractor). None otherwise.
    """

    box: Box | None
    provenance: Provenance
    score: float | None = None
    flags: Flags = Flags()
    distractor: float | None = None
    disagreement: float | None = None
    corrected_from: Box | None = None
    box_spread: float | None = None

    @property
    def is_keyframe(self) -> bool:
        return self.provenance is Provenance.MANUAL

    @property
    def is_human(self) -> bool:
        """Drawn by a person (a keyframe here, or ground truth imported from elsewhere)."""
        return self.provenance in HUMAN_PROVENANCE

    @property
    def is_absent(self) -> bool:
        return self.flags.absent or self.box is None

    def with_(self, **changes: Any) -> FrameLabel:
        return replace(self, **changes)


def propagation_may_replace(current: FrameLabel | None, overwrite: bool = False) -> bool:
    """Whether propagation may write over current: anything but a human label, and with
    overwrite (the user's explicit choice) an imported one too; a manual keyframe never."""
    if current is None or not current.is_human:
        return True
    return overwrite and current.provenance is Provenance.IMPORTED


@dataclass
class Track:
    """A labelled object: stable id, class label, colour (#rrggbb) and its frames.

    name: what the annotator calls this object ("red car", "player 7"), beside its class;
    locked: finished and protected: no edit and no propagation changes its frames, class, name
    or attributes until it is unlocked; attributes: free per-track attributes (CVAT-style
    key: value text, e.g. "colour": "red").
    """

    id: int
    label: str = "object"
    color: str = "#ff0000"
    hidden: bool = False
    frames: dict[int, FrameLabel] = field(default_factory=dict)
    name: str = ""
    locked: bool = False
    attributes: dict[str, str] = field(default_factory=dict)

    def frame_indices(self) -> list[int]:
        return sorted(self.frames)

    def keyframes(self) -> list[int]:
        return sorted(i for i, f in self.frames.items() if f.is_keyframe)

    def human_frames(self) -> list[int]:
        """Frames with a manual or imported label, ascending."""
        return sorted(i for i, f in self.frames.items() if f.is_human)

    def next_keyframe(self, frame: int) -> int | None:
        """The first keyframe strictly after frame, or None."""
        keys = self.keyframes()
        i = bisect.bisect_right(keys, frame)
        return keys[i] if i < len(keys) else None

    def previous_keyframe(self, frame: int) -> int | None:
        """The last keyframe strictly before frame, or None."""
        keys = self.keyframes()
        i = bisect.bisect_left(keys, frame)
        return keys[i - 1] if i > 0 else None


@dataclass(frozen=True)
class MediaRef:
    """What a project labels: a video file or an image folder, fingerprinted to detect swaps."""

    path: str
    kind: str  # "video" | "images"
    frame_count: int
    width: int
    height: int
    fps: float = 30.0
    fingerprint: str = ""


@dataclass
class Project:
    """Everything that is saved: media, tracks by id, the class list, free metadata, and the
    frames a person reviewed and accepted (reviewed)."""

    media: MediaRef | None = None
    tracks: dict[int, Track] = field(default_factory=dict)
    classes: list[str] = field(default_factory=lambda: ["object"])
    next_track_id: int = 1
    meta: dict[str, str] = field(default_factory=dict)
    reviewed: set[int] = field(default_factory=set)

    def new_track_id(self) -> int:
        track_id = max([self.next_track_id, *[t + 1 for t in self.tracks]])
        self.next_track_id = track_id + 1
        return track_id

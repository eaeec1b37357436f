"""OpenCV's trackers behind the engine's one tracker interface, so reports put them beside ours.

Every peer implements ``core.tracking.protocol.MultiTargetTracker``: ``init_target`` makes one
OpenCV tracker per target (OpenCV trackers are single-target), ``track_many`` advances each.
Which peers exist depends on the installed cv2 (MIL and Nano ship with the plain wheel; KCF and
CSRT only with contrib builds) and, for NanoTrack, on its ONNX pair being on disk, so callers ask
``available_peers()`` / ``peer_unavailable_reason()`` instead of assuming.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..annotations.model import as_box
from ..errors import BoxError, ModelError
from ..tracking.result import TrackResult

PEER_KINDS: tuple[str, ...] = ("mil", "kcf", "csrt", "nano-v1", "nano-v2")
PEER_TITLES: dict[str, str] = {
    "mil": "MIL",
    "kcf": "KCF",
    "csrt": "CSRT",
    "nano-v1": "NanoTrack v1",
    "nano-v2": "NanoTrack v2",
}
_ALIASES: dict[str, str] = {"nano": "nano-v2", "nanotrack": "nano-v2"}
_OPENCV_NAMES: dict[str, str] = {"mil": "MIL", "kcf": "KCF", "csrt": "CSRT"}
_NANO_FILES = ("nanotrack_backbone_sim.onnx", "nanotrack_head_sim.onnx")


def default_peers_dir() -> Path:
    """Where NanoTrack's ONNX pairs live: $SIAMCROSS_PEERS_DIR, else beside $SIAMCROSS_SHARED_DATA,
    else ../shared/peers beside the repository (the layout tests/conftest.py uses)."""
    configured = os.environ.get("SIAMCROSS_PEERS_DIR")
    if configured:
        return Path(configured)
    shared_data = os.environ.get("SIAMCROSS_SHARED_DATA")
    if shared_data:
        return Path(shared_data).parent / "peers"
    return Path(__file__).resolve().parents[2].parent / "shared" / "peers"


def canonical_kind(name: str) -> str:
    """'MIL', 'nano', 'Nano-V2' -> 'mil', 'nano-v2', 'nano-v2'; unknown names raise ModelError."""
    kind = name.strip().lower()
    kind = _ALIASES.get(kind, kind)
    if kind not in PEER_KINDS:
        raise ModelError(f"Unknown peer tracker '{name}'; choose from {', '.join(PEER_KINDS)}.")
    return kind


def _opencv_factory(kind: str) -> Callable[[], object] | None:
    """cv2.Tracker<NAME>_create from cv2 or cv2.legacy, whichever this build has."""
    for module in (cv2, getattr(cv2, "legacy", None)):
        create = getattr(module, f"Tracker{_OPENCV_NAMES[kind]}_create", None) if module else None
        if create is not None:
            return create
    return None


def _nano_files(kind: str, peers_dir: Path) -> tuple[Path, Path]:
    folder = peers_dir / "nanotrack" / kind.split("-")[1]
    return folder / _NANO_FILES[0], folder / _NANO_FILES[1]


def peer_unavailable_reason(name: str, peers_dir: Path | None = None) -> str | None:
    """None when the peer can run here, else one sentence saying why not (for report notes)."""
    kind = canonical_kind(name)
    if kind.startswith("nano"):
        if not hasattr(cv2, "TrackerNano_create"):
            return f"this OpenCV {cv2.__version__} has no TrackerNano"
        missing = [p for p in _nano_files(kind, peers_dir or default_peers_dir()) if not p.is_file()]
        if missing:
            return f"{PEER_TITLES[kind]} model file not found: {missing[0]}"
        return None
    if _opencv_factory(kind) is None:
        return f"this OpenCV {cv2.__version__} has no Tracker{_OPENCV_NAMES[kind]} (needs opencv-contrib)"
    return None


def available_peers(peers_dir: Path | None = None) -> list[str]:
    """Peer kinds that can run with this cv2 and these model files, in PEER_KINDS order."""
    return [kind for kind in PEER_KINDS if peer_unavailable_reason(kind, peers_dir) is None]


@dataclass
class OpenCVTargetState:
    """One target: its own OpenCV tracker and the last box it reported (kept when it fails)."""

    cv_tracker: Any  # cv2.Tracker or cv2.legacy.Tracker: the stubs give them no common base
    last_box_xywh: tuple[float, float, float, float]
    lost: bool = False


def _check_box(box_xywh: Sequence[float]) -> tuple[float, float, float, float]:
    box = np.asarray(box_xywh, dtype=np.float64).reshape(-1)
    if box.size != 4 or not np.isfinite(box).all() or box[2] <= 0 or box[3] <= 0:
        raise BoxError(f"A tracker needs a finite box with positive width and height, got {list(box_xywh)}.")
    return as_box(box)


def clip_box_to_frame(box_xywh: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    """The part of a box inside the frame, at least 1x1 px so downstream boxes stay valid."""
    x, y, w, h = (float(v) for v in box_xywh)
    x1 = min(max(x, 0.0), width - 1.0)
    y1 = min(max(y, 0.0), height - 1.0)
    x2 = min(max(x + w, x1 + 1.0), float(width))
    y2 = min(max(y + h, y1 + 1.0), float(height))
    return (x1, y1, x2 - x1, y2 - y1)


class OpenCVTracker:
    """An OpenCV tracker kind ('mil', 'kcf', 'csrt', 'nano-v1', 'nano-v2') as a MultiTargetTracker.

    Scores: NanoTrack's own ``getTrackingScore()``; the others report 1.0 when OpenCV says it
    tracked and 0.0 when it lost the target (the last good box is then kept). Boxes are clipped
    to the frame as ``TrackResult`` promises (``clip=False`` keeps OpenCV's raw box).
    """

    def __init__(self, kind: str, peers_dir: Path | str | None = None, clip: bool = True) -> None:
        self.kind = canonical_kind(kind)
        self.name = PEER_TITLES[self.kind]
        self.peers_dir = Path(peers_dir) if peers_dir is not None else default_peers_dir()
        self.clip = clip
        reason = peer_unavailable_reason(self.kind, self.peers_dir)
        if reason is not None:
            raise ModelError(f"Peer tracker {self.name} cannot run: {reason}.")

    def _create(self) -> Any:
        if self.kind.startswith("nano"):
            backbone, neckhead = _nano_files(self.kind, self.peers_dir)
            params = cv2.TrackerNano.Params()
            params.backbone = str(backbone)
            params.neckhead = str(neckhead)
            return cv2.TrackerNano.create(params)
        factory = _opencv_factory(self.kind)
        assert factory is not None  # checked in __init__
        return factory()

    def init_target(self, frame_bgr: np.ndarray, box_xywh: Sequence[float]) -> OpenCVTargetState:
        """A fresh OpenCV tracker on this frame; OpenCV wants an integer rectangle, so it is rounded."""
        box = _check_box(box_xywh)
        cv_tracker = self._create()
        cv_tracker.init(frame_bgr, tuple(int(round(v)) for v in box))
        return OpenCVTargetState(cv_tracker=cv_tracker, last_box_xywh=box)

    def track_many(self, frame_bgr: np.ndarray, targets: Sequence[OpenCVTargetState]) -> list[TrackResult]:
        """Each target's tracker in turn (OpenCV has no batched update)."""
        height, width = frame_bgr.shape[:2]
        results = []
        for state in targets:
            ok, raw_box = state.cv_tracker.update(frame_bgr)
            if ok:
                x, y, w, h = (float(v) for v in raw_box)
                state.last_box_xywh = (x, y, w, h)
                score = self._score(state.cv_tracker)
            else:
                score = 0.0
            state.lost = not ok
            box = clip_box_to_frame(state.last_box_xywh, width, height) if self.clip else state.last_box_xywh
            results.append(TrackResult(box_xywh=box, score=score))
        return results

    def _score(self, cv_tracker: Any) -> float:
        if self.kind.startswith("nano"):
            return float(np.clip(cv_tracker.getTrackingScore(), 0.0, 1.0))
        return 1.0

    def __repr__(self) -> str:
        return f"OpenCVTracker({self.kind!r})"


def make_peer(name: str, peers_dir: Path | str | None = None, clip: bool = True) -> OpenCVTracker:
    """The peer called `name` ('mil', 'nano-v2', ...); ModelError when it cannot run here."""
    return OpenCVTracker(name, peers_dir=peers_dir, clip=clip)

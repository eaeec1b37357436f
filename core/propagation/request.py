"""What the caller asks for (PropagationRequest) and what it gets back per frame (PropagationStep)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..annotations.model import FrameLabel
from ..errors import UserError
from ..tracking.result import TrackResult

DIRECTIONS = ("forward", "backward", "fill")
METHODS = ("tracker", "linear", "guided")
FUSION_RULES = ("agreement", "score", "nearest")


@dataclass(frozen=True)
class PropagationRequest:
    """One propagation job over some tracks of a project.

    direction: "forward" / "backward" track from start_frame until stop_frame (inclusive), the
      end of the media, or the track's next human label (exclusive), whichever comes first;
      "fill" tracks every stretch between consecutive human labels that meets [start_frame,
      stop_frame] from both ends and fuses the two passes (frames after the last one are
      tracked forward, frames before the first backward). Human labels are manual keyframes
      and imported labels (see plan.stops).
    method: "tracker" (the tracker), "linear" (pure interpolation between keyframes, no
      tracker), "guided" (fill with the tracker, then pull each box towards the linear
      interpolation as the tracker's score drops).
    score_threshold / patience: a pass that scores below the threshold on `patience`
      consecutive frames stops there instead of drifting (those frames keep their low score).
    fusion: how "fill" merges its two passes (see core.propagation.fusion).
    agree_iou: the IoU at which fill's two passes count as agreeing; None takes the tracker's
      own (its ``fill_agree_iou``, else core.propagation.fusion.DEFAULT_AGREE_IOU).
    overwrite: imported labels are tracked over and replaced like tracked ones instead of
      stopping the run; an explicit user choice (a person's ground truth is at stake), never a
      default. Manual keyframes stop every run and are never replaced.
    adapt: each pass starts adapted to its track's human labels nearest to it (a tracker with
      ``adapt_target``; core.tracking.adaptation): a track with one keyframe is not adapted. Off by
      default: with siamcross-lite it did not need fewer corrections (README, "Annotation effort").
    """

    track_ids: tuple[int, ...]
    direction: str = "forward"
    start_frame: int = 0
    stop_frame: int | None = None
    score_threshold: float = 0.3
    method: str = "tracker"
    patience: int = 3
    fusion: str = "agreement"
    agree_iou: float | None = None
    overwrite: bool = False
    adapt: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "track_ids", tuple(int(t) for t in self.track_ids))
        if not self.track_ids:
            raise UserError("Choose at least one track to propagate.")
        if self.direction not in DIRECTIONS:
            raise UserError(f"Unknown direction '{self.direction}'; choose forward, backward or fill.")
        if self.method not in METHODS:
            raise UserError(f"Unknown propagation method '{self.method}'; choose tracker, linear or guided.")
        if self.fusion not in FUSION_RULES:
            raise UserError(f"Unknown fusion rule '{self.fusion}'; choose {', '.join(FUSION_RULES)}.")
        if self.start_frame < 0:
            raise UserError(f"The start frame must be 0 or more, got {self.start_frame}.")
        if self.stop_frame is not None and self.stop_frame < 0:
            raise UserError(f"The stop frame must be 0 or more, got {self.stop_frame}.")
        if self.agree_iou is not None and not 0.0 < self.agree_iou <= 1.0:
            raise UserError(f"The agreement IoU must be in (0, 1], got {self.agree_iou}.")
        if self.patience < 1:
            raise UserError(f"Patience must be at least 1 frame, got {self.patience}.")


@dataclass(frozen=True)
class PassStop:
    """A pass that stopped on low scores: where, which way, and why (for the user).

    frame: the 0-based frame on which the low run reached the request's patience (the pass
    wrote it, with its low score, and nothing after it); low_frames: that run's length;
    threshold: the request's score threshold; score: the score on `frame`.
    """

    track_id: int
    frame: int
    direction: str  # "forward" | "backward"
    low_frames: int
    threshold: float
    score: float

    def message(self) -> str:
        """One sentence, frames counted from 1 as the app shows them."""
        run = "1 frame" if self.low_frames == 1 else f"{self.low_frames} frames"
        pass_name = "" if self.direction == "forward" else " going backward"
        return (f"Track {self.track_id} stopped{pass_name} at frame {self.frame + 1}: "
                f"score below {self.threshold:.2f} for {run} ({self.score:.2f} there)")


@dataclass(frozen=True)
class PropagationStep:
    """One frame's worth of results, streamed as soon as it exists.

    labels: what to write for each track on this frame (never MANUAL); may be empty while a
      "fill" pass is still running. results: the raw tracker output per track (for overlays);
      empty for steps that only carry fused or interpolated labels. done / total: tracking
      steps done so far and planned (progress; done may jump when passes stop early).
      stops: the passes that stopped on this frame because their scores stayed low.
    """

    frame: int
    labels: dict[int, FrameLabel] = field(default_factory=dict)
    results: dict[int, TrackResult] = field(default_factory=dict)
    done: int = 0
    total: int = 0
    stops: tuple[PassStop, ...] = ()

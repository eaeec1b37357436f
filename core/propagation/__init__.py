"""Headless propagation: forward, backward and fill-between-keyframes, streamed frame by frame.

``propagate(project, source, tracker, request, cancel)`` yields ``PropagationStep``s; the
caller writes their labels (never over human labels: manual keyframes, and imported labels
unless the request asks to overwrite them). ``preview_changes`` says what a request will
change before it runs. Interpolation and fusion are pure functions over FrameLabels /
TrackResults, usable without a model.
"""
from .apply import apply_step
from .cancel import CancelToken
from .engine import propagate
from .fusion import FusedBox, fuse_segment
from .interpolation import guide_towards_linear, interpolate_pair, linear_labels
from .preview import PropagationPreview, TrackChange, preview_changes
from .repropagation import repropagation_request
from .request import DIRECTIONS, FUSION_RULES, METHODS, PassStop, PropagationRequest, PropagationStep
from .segments import tracked_label
from .sources import SequenceSource

__all__ = [
    "CancelToken", "PropagationRequest", "PropagationStep", "PassStop", "propagate", "repropagation_request",
    "fuse_segment", "FusedBox", "linear_labels", "interpolate_pair", "guide_towards_linear",
    "tracked_label", "apply_step", "SequenceSource", "DIRECTIONS", "METHODS", "FUSION_RULES",
    "PropagationPreview", "TrackChange", "preview_changes",
]

"""What the app re-propagates after a correction: only up to the next human label.

A corrected frame becomes a keyframe; the frames before it were reviewed already (the
annotator corrects in order), so only the frames after it change: up to the next human
label (a keyframe or an imported label) with "fill" (both ends known), or forward to the
end when none follows. A correction never replaces a human label, so it has no
overwrite: imported ground truth after it stays as it is.
"""
from __future__ import annotations

from ..annotations.model import Project
from ..errors import UserError
from .plan import next_stop
from .request import PropagationRequest


def repropagation_request(project: Project, track_id: int, frame: int, method: str = "tracker",
                          score_threshold: float = 0.3, fusion: str = "agreement") -> PropagationRequest:
    """The request to run after the box of `track_id` on `frame` was corrected (made a keyframe)."""
    track = project.tracks.get(track_id)
    if track is None:
        raise UserError(f"Track {track_id} does not exist in this project.")
    nxt = next_stop(track, frame)
    if nxt is None:
        return PropagationRequest((track_id,), "forward", frame, None, score_threshold, method, fusion=fusion)
    return PropagationRequest((track_id,), "fill", frame, nxt, score_threshold, method, fusion=fusion)

"""What a user's command asks the engine to run: pure functions from the project to a PropagationRequest.

The controller calls them and shows their refusals; they read the project and change nothing,
so they are tested without Qt.
"""
from __future__ import annotations

from core.annotations.model import FrameLabel, Project, Track
from core.propagation import PropagationRequest, linear_labels, repropagation_request
from core.propagation.plan import linear_anchors, linear_frames, next_stop, previous_stop


def propagation_request(project: Project, frame: int, selected: int | None, direction: str, all_tracks: bool,
                        stop_frame: int | None, overwrite: bool, method: str,
                        score_threshold: float) -> PropagationRequest | str:
    """The request of a Propagate command from frame (the selected track's, or every shown unlocked
    track's), or the sentence that says why there is nothing to propagate."""
    if all_tracks:
        ids = tuple(sorted(t.id for t in project.tracks.values() if not t.hidden and not t.locked))
        if not ids and any(t.locked for t in project.tracks.values()):
            return "Every shown track is locked: nothing to propagate."
    else:
        ids = (selected,) if selected in project.tracks else ()
        if ids and project.tracks[ids[0]].locked:
            return f"Track #{ids[0]} is locked; unlock it (Ctrl+L) to propagate it."
    if not ids:
        return "Draw a box first: there is no track to propagate."
    if direction != "fill" and not any(_has_box(project.tracks[t], frame) for t in ids):
        return f"No box on frame {frame + 1} to propagate from."
    return PropagationRequest(track_ids=ids, direction=direction, start_frame=frame, stop_frame=stop_frame,
                              score_threshold=score_threshold, overwrite=overwrite, method=method)


def correction_request(project: Project, track_id: int, frame: int, label: FrameLabel,
                       score_threshold: float) -> PropagationRequest | None:
    """After label was written on frame: the re-tracking up to the next human label, or None when
    nothing depends on it (an absent mark, or a track the tracker never filled: imported labels
    are not derived, they are a person's, and stay)."""
    track = project.tracks[track_id]
    if label.box is None or all(other.is_human for other in track.frames.values()):
        return None
    return repropagation_request(project, track_id, frame, score_threshold=score_threshold)


def rederive_request(track: Track, frame: int, score_threshold: float) -> tuple[list[int], PropagationRequest | None]:
    """Before the keyframe on frame is removed: the derived frames it anchored, and the request that
    re-derives them from the human labels around it (fill between them, or tracking from the one
    side that has one); None when there are none, or no human label is left (they go with it)."""
    before, after = previous_stop(track, frame), next_stop(track, frame)
    derived = sorted(f for f, other in track.frames.items() if not other.is_human and f != frame
                     and (before is None or f > before) and (after is None or f < after))
    ids = (track.id,)
    if not derived or (before is None and after is None):
        return derived, None
    if before is not None and after is not None:
        return derived, PropagationRequest(ids, "fill", before, after, score_threshold)
    if before is not None:
        return derived, PropagationRequest(ids, "forward", before, max(derived), score_threshold)
    assert after is not None  # both None returned above
    return derived, PropagationRequest(ids, "backward", after, min(derived), score_threshold)


def linear_fill(track: Track, frame_count: int) -> dict[int, FrameLabel]:
    """Labels interpolated linearly between the track's first and last human label (empty with
    fewer than two)."""
    humans = track.human_frames()
    if len(humans) < 2:
        return {}
    request = PropagationRequest((track.id,), "fill", humans[0], humans[-1], method="linear")
    return linear_labels(linear_anchors(track, request), linear_frames(track, request, frame_count))


def _has_box(track: Track, frame: int) -> bool:
    label = track.frames.get(frame)
    return label is not None and label.box is not None

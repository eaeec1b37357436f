"""Writing streamed labels straight into a Project (the CLI's path; the app uses the store).

Same rule as ``AnnotationStore.apply_propagated``: manual keyframes are never overwritten.
"""
from __future__ import annotations

from ..annotations.model import Project
from .request import PropagationStep


def apply_step(project: Project, step: PropagationStep) -> int:
    """Write the step's labels into the project's tracks; returns how many frames were written."""
    written = 0
    for track_id, label in step.labels.items():
        track = project.tracks[track_id]
        current = track.frames.get(step.frame)
        if current is not None and current.is_keyframe:
            continue
        track.frames[step.frame] = label
        written += 1
    return written

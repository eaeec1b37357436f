"""Writing streamed labels straight into a Project (the CLI's path; the app uses the store).

Same rule as ``AnnotationStore.apply_propagated``: human labels are never overwritten, except
imported ones when the run was asked to overwrite them. The engine already plans around
them; this is the last guard, where the labels land.
"""
from __future__ import annotations

from ..annotations.model import Project, propagation_may_replace
from .request import PropagationStep


def apply_step(project: Project, step: PropagationStep, overwrite: bool = False) -> int:
    """Write the step's labels into the project's tracks; returns how many frames were written."""
    written = 0
    for track_id, label in step.labels.items():
        track = project.tracks[track_id]
        if track.locked or not propagation_may_replace(track.frames.get(step.frame), overwrite):
            continue
        track.frames[step.frame] = label
        written += 1
    return written

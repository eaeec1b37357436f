"""Project model, edits with undo/redo, persistence and the autosave journal."""
from .model import Box, Flags, FrameLabel, MediaRef, Project, Provenance, Track

__all__ = ["Box", "Flags", "FrameLabel", "MediaRef", "Project", "Provenance", "Track"]

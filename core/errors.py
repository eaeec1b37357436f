"""Errors a user can cause, each carrying one clear sentence.

The command line prints ``str(error)`` on one line and exits non-zero; the GUI shows
it in a message box. Anything that is not a ``UserError`` is a bug and keeps its
traceback.
"""


class UserError(Exception):
    """A mistake in the input (file, box, option) that the user can fix."""


class MediaError(UserError):
    """A video or image folder cannot be opened or a frame cannot be decoded."""


class FormatError(UserError):
    """An annotation or dataset file is malformed or does not match its media."""


class ModelError(UserError):
    """Weights are missing, truncated, of another config or of another version."""


class BoxError(UserError):
    """A box is empty, not finite, or outside the frame."""


class Cancelled(Exception):
    """A long operation was cancelled by the user; what was done so far is kept."""

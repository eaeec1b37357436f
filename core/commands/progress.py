"""One self-overwriting progress line on stderr, shared by every long `siamcross` command.

Each command formats its own text; this only decides when to redraw (a few times a
second, always when forced), pads over a longer previous line, and ends the line so that
an error or the final report starts on a line of its own.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    """Redraws `text` with a carriage return at most every `interval_s` seconds."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 0.2) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self.began = time.monotonic()
        self._last = 0.0
        self._width = 0

    @property
    def shown(self) -> bool:
        """Whether a line is on screen (an error must then start on a new line)."""
        return self._width > 0

    def due(self, force: bool = False) -> bool:
        """Whether a redraw now would be shown (lets callers skip formatting the text)."""
        return force or time.monotonic() - self._last >= self.interval_s

    def show(self, text: str, force: bool = False) -> None:
        if not self.due(force):
            return
        self._last = time.monotonic()
        self._width = max(self._width, len(text))
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()

    def end(self) -> None:
        """Finish the line (no-op when nothing was shown)."""
        if self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0

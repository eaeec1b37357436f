"""Moving through the video more than a frame at a time: play / pause, keyframe jumps, the review queue."""
from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore

from core.review import ReviewWalk


class Navigation(QtCore.QObject):
    """Plays the controller's video at its frame rate, jumps between the selected track's
    keyframes and walks the review queue; status(text, ms) says why a frame was chosen."""

    def __init__(self, controller, transport, status: Callable[[str, int], None],
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.transport = transport
        self._status = status
        self.review = ReviewWalk()  # ] and [ walk the review queue from the last frame they showed
        self._play_timer = QtCore.QTimer(self)
        self._play_timer.timeout.connect(self._play_tick)
        transport.playToggled.connect(self.toggle_play)

    @property
    def playing(self) -> bool:
        return self._play_timer.isActive()

    def toggle_play(self) -> None:
        if self._play_timer.isActive():
            self._play_timer.stop()
        elif self.controller.frame_count:
            fps = self.controller.project.media.fps or 25.0
            self._play_timer.start(max(1, int(round(1000.0 / fps))))
        self.transport.set_playing(self._play_timer.isActive())

    def stop(self) -> None:
        self._play_timer.stop()

    def _play_tick(self) -> None:
        c = self.controller
        if c.frame >= c.frame_count - 1:
            self.toggle_play()
        else:
            c.step(1)

    def jump_keyframe(self, direction: int) -> None:
        """To the selected track's next (direction > 0) or previous keyframe, if it has one."""
        c = self.controller
        track = c.track(c.selected)
        if track is None:
            return
        target = track.next_keyframe(c.frame) if direction > 0 else track.previous_keyframe(c.frame)
        if target is not None:
            c.seek(target)

    def walk_review(self, step: int) -> None:
        """] / [: the next / previous frame of the review queue (core.review) of the selected track,
        or of every shown track when none is selected; the status bar says why it is suspicious."""
        c = self.controller
        if c.project is None:
            return
        ids = [c.selected] if c.selected in c.project.tracks else \
            [t.id for t in c.project.tracks.values() if not t.hidden]
        landed = self.review.step(c.project, ids, step)
        if isinstance(landed, str):
            self._status(landed, 5000)
            return
        c.seek(landed.item.frame)
        self._status(landed.message(), 15000)

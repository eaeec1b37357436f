"""] and [ walk the review queue in the app, and a run stopped by low scores says where and why."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.annotations.model import FrameLabel, Provenance
from core.tracking import IdentityTracker
from core.tracking.result import TrackResult
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import key, window_maker


@pytest.fixture
def make_window(qtbot):
    with window_maker(qtbot, AppSettings, size=(1100, 760), focus=True) as make:
        yield make


class FadingTracker(IdentityTracker):
    """Identity boxes scoring 0.9, then 0.1 from the `fade_at`-th tracked frame on."""

    def __init__(self, fade_at: int) -> None:
        super().__init__()
        self.fade_at = fade_at
        self.calls = 0

    def track_many(self, frame_bgr, targets):
        self.calls += 1
        score = 0.1 if self.calls >= self.fade_at else 0.9
        return [TrackResult(r.box_xywh, score) for r in super().track_many(frame_bgr, targets)]


def label_a_track(window, frames: int = 40) -> None:
    """A keyframe on frame 0, tracked frames after it; on frame 23 the best boxes around the peak disagree."""
    c = window.controller
    track_id = c.add_track()
    labels = {0: FrameLabel(box=(400.0, 200.0, 200.0, 150.0), provenance=Provenance.MANUAL)}
    for f in range(1, frames):
        labels[f] = FrameLabel(box=(400.0 + 2 * f, 200.0, 200.0, 150.0), provenance=Provenance.TRACKED,
                               score=0.85, distractor=0.1, box_spread=0.6 if f == 23 else 0.1)
    c.store.set_frames(track_id, labels)


def test_the_review_key_jumps_to_the_most_suspicious_frame_and_says_why(make_window, demo_video: Path):
    window = make_window(path=demo_video)
    label_a_track(window)
    key(window, "]")
    assert window.controller.frame == 23
    message = window.statusBar().currentMessage()
    assert "frame 24" in message and "the best boxes around the peak disagree (spread 0.60)" in message
    key(window, "]")
    assert window.controller.frame != 23
    key(window, "[")
    assert window.controller.frame == 23


def test_a_run_that_stops_on_low_scores_says_at_which_frame_and_why(make_window, demo_video: Path, qtbot):
    window = make_window(tracker=FadingTracker(fade_at=15), path=demo_video)
    c = window.controller
    c.store.set_frame(c.add_track(), 0, FrameLabel(box=(400.0, 200.0, 200.0, 150.0), provenance=Provenance.MANUAL))
    with qtbot.waitSignal(c.propagationFinished, timeout=30_000):
        key(window, "F")
    assert "Track 1 stopped at frame 18: score below 0.30 for 3 frames" in window.statusBar().currentMessage()
    assert max(c.project.tracks[1].frames) == 17

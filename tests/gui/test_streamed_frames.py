"""While a run streams in, the GUI shows the frames the worker already decoded, and the model
is loaded in the worker as soon as a video opens (issues 6/7: no second decode, no first-run stall)."""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.media import CountingSource

from core.annotations.model import Project
from core.media import open_media
from core.tracking import IdentityTracker
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import SlowIdentityTracker, window_maker

WAIT_MS = 30_000
BOX = (400.0, 200.0, 300.0, 250.0)


@pytest.fixture
def make_window(qtbot):
    with window_maker(qtbot, lambda: AppSettings(device="cpu"), size=(900, 600), focus=False) as make:
        yield make


def test_following_a_run_shows_the_workers_frames_without_decoding_them_again(make_window, demo_video: Path,
                                                                               qtbot) -> None:
    window = make_window(tracker=SlowIdentityTracker(delay=0.02))  # >= 1.2 s: about 12 batches followed
    counting = CountingSource(open_media(demo_video))
    c = window.controller
    c.session.install(Project(media=counting.to_media_ref()), counting)
    c.draw_box(BOX)
    # frame 0 and its read-ahead window were decoded on opening; wait for that to settle
    qtbot.waitUntil(lambda: len(counting.reads) >= 1 + c.session.cache.read_ahead, timeout=WAIT_MS)
    qtbot.wait(100)
    counting.reads.clear()
    shown: list[int] = []
    c.frameChanged.connect(shown.append)

    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS) as finished:
        assert c.propagate("forward", stop_frame=60)
    assert finished.args == [False]
    assert len(shown) >= 3 and c.frame == 60  # the view followed the run ...
    assert counting.reads == []               # ... and never decoded a frame to do it
    with open_media(demo_video) as reference:
        expected = cv2.cvtColor(reference.read(60), cv2.COLOR_BGR2RGB)
    assert np.array_equal(window.view.image.image, expected)  # the frame on screen is frame 60
    assert not c.current_frame_bgr().flags.writeable


def test_the_gui_still_decodes_frames_it_did_not_get_from_the_worker(make_window, demo_video: Path, qtbot) -> None:
    window = make_window(tracker=SlowIdentityTracker(delay=0.0))
    counting = CountingSource(open_media(demo_video))
    c = window.controller
    c.session.install(Project(media=counting.to_media_ref()), counting)
    c.draw_box(BOX)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        assert c.propagate("forward", stop_frame=30)
    counting.reads.clear()
    c.seek(100)  # never tracked: decoded by the GUI's own cache
    assert 100 in counting.reads
    with open_media(demo_video) as reference:
        expected = cv2.cvtColor(reference.read(100), cv2.COLOR_BGR2RGB)
    assert np.array_equal(window.view.image.image, expected)


def test_the_model_loads_in_the_worker_when_a_video_opens_not_at_the_first_run(make_window, demo_video: Path,
                                                                                 qtbot) -> None:
    loads: list[threading.Thread] = []

    def factory(model: str, device: str) -> IdentityTracker:
        loads.append(threading.current_thread())
        return IdentityTracker()

    window = make_window(tracker=factory, path=demo_video)
    qtbot.waitUntil(lambda: len(loads) == 1, timeout=WAIT_MS)  # no propagation asked for yet
    assert loads[0] is not threading.main_thread()
    c = window.controller
    c.draw_box(BOX)
    with qtbot.waitSignal(c.propagationFinished, timeout=WAIT_MS):
        assert c.propagate("forward", stop_frame=10)
    assert len(loads) == 1  # the run used the preloaded tracker
    assert sorted(c.project.tracks[1].frames) == list(range(11))


def test_a_changed_model_setting_is_loaded_at_once_too(make_window, demo_video: Path, qtbot) -> None:
    loads: list[tuple[str, str]] = []

    def factory(model: str, device: str) -> IdentityTracker:
        loads.append((model, device))
        return IdentityTracker()

    window = make_window(tracker=factory, path=demo_video)
    qtbot.waitUntil(lambda: loads == [("lite", "cpu")], timeout=WAIT_MS)
    window.apply_settings(AppSettings(model="r50", device="cpu"))
    qtbot.waitUntil(lambda: loads == [("lite", "cpu"), ("r50", "cpu")], timeout=WAIT_MS)

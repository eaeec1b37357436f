"""Soak: 4 tracks propagated through 10,000 frames in the app while the user scrubs and edits.

Driven through the real MainWindow / Controller / worker thread with pytest-qt. While the
worker runs, a seeded "user" scrubs to random frames, toggles flags and corrects boxes
behind the propagation front (a correction cancels the run and re-propagates its stretch,
exactly as in the app) and renames tracks; whenever the worker goes idle the forward run
is restarted from the front. At the end: no crash, every frame of every track labelled,
every edit still there as the user left it, the autosave journal replays to the same
project, the save reloads identically, and memory stayed within the frame cache's budget
plus what the labels themselves need.

Run with `make soak` (marked soak: it takes minutes, not seconds).
"""
from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from PySide6 import QtWidgets
from support.media import write_video

from core.annotations.io import load_project, project_to_dict
from core.annotations.journal import recover
from core.tracking import IdentityTracker
from siamcross_gui.main_window import MainWindow
from siamcross_gui.settings import AppSettings

pytestmark = pytest.mark.soak

FRAMES = 10_000
TRACKS = 4
SEED = 20261125
LABEL_BUDGET_BYTES = 400 * 1024 * 1024  # 40,000 labels, their undo history and journal buffers, generously
SOAK_TIMEOUT_S = 3000
MIN_EDITS, MIN_SCRUBS = 250, 400  # the user keeps working after the front reaches the end, until both are met


def rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class DriftingTracker(IdentityTracker):
    """Identity boxes nudged by a pixel now and then, so labels differ frame to frame."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def track_many(self, frame_bgr, targets):
        self.calls += 1
        results = super().track_many(frame_bgr, targets)
        shift = float(self.calls % 3 - 1)
        return [type(r)(box_xywh=(max(r.box_xywh[0] + shift, 0.0), *r.box_xywh[1:]), score=0.8) for r in results]


class Front:
    """The first frame some track has no label on (FRAMES when all are complete); labels are
    never removed in this soak, so each track's search resumes where it last stopped."""

    def __init__(self) -> None:
        self._hint: dict[int, int] = {}

    def __call__(self, c) -> int:
        fronts = []
        for track_id, track in c.project.tracks.items():
            f = self._hint.get(track_id, 0)
            while f < FRAMES and f in track.frames:
                f += 1
            self._hint[track_id] = f
            fronts.append(f)
        return min(fronts)


@pytest.fixture
def window(qtbot, monkeypatch):
    Box = QtWidgets.QMessageBox  # no modal question may block an unattended run
    monkeypatch.setattr(Box, "question", staticmethod(lambda *args, **kwargs: Box.StandardButton.Discard))
    window = MainWindow(AppSettings(device="cpu"), tracker_factory=lambda m, d: DriftingTracker(),
                        persist_settings=False)
    window.files.ask_recover = lambda recovery: False
    qtbot.addWidget(window)
    window.show()
    yield window
    window.controller.session.dirty = False  # closing must not ask "save first?" (a modal box nobody answers)
    window.controller.shutdown()  # join the worker thread even when the test failed


def test_soak_four_tracks_ten_thousand_frames_while_scrubbing_and_editing(qtbot, window, tmp_path: Path) -> None:
    video = write_video(tmp_path / "long.mp4", FRAMES, size=(160, 120))
    assert window.files.open_path(video), window.last_error
    c = window.controller
    for i in range(TRACKS):
        c.select(None)
        c.draw_box((5.0 + 35 * i, 30.0, 24.0, 24.0))
    assert sorted(c.project.tracks) == list(range(1, TRACKS + 1))

    rng = random.Random(SEED)
    expected: dict[tuple[int, int], object] = {}  # (track, frame) -> the label the user left there
    names: dict[int, str] = {}
    errors: list[str] = []
    c.errorOccurred.connect(errors.append)
    rss_start = rss_bytes()
    rss_peak = rss_start
    edits = scrubs = restarts = 0
    began = time.monotonic()
    front_of = Front()
    reported = 0

    while (front := front_of(c)) < FRAMES or c.run.worker.busy or edits < MIN_EDITS or scrubs < MIN_SCRUBS:
        assert time.monotonic() - began < SOAK_TIMEOUT_S, f"soak stalled at frame {front}"
        if not c.run.worker.busy and front < FRAMES:
            c.seek(front - 1)
            assert c.propagate("forward", all_tracks=True)
            restarts += 1
        qtbot.wait(rng.randint(2, 25))
        action = rng.random()
        behind = max(front - 2, 1)
        if action < 0.6:
            c.seek(rng.randrange(FRAMES))
            scrubs += 1
        elif action < 0.8 and front > 10:
            track_id, frame = rng.randint(1, TRACKS), rng.randrange(1, behind)
            c.select(track_id)
            c.seek(frame)
            if c.label_at(track_id) is not None and c.label_at(track_id).box is not None:
                before = c.label_at(track_id).flags.occluded
                c.toggle_flag("occluded")
                label = c.project.tracks[track_id].frames[frame]
                assert label.flags.occluded is not before and label.is_keyframe
                expected[(track_id, frame)] = label
                edits += 1
        elif action < 0.9 and front > 10:
            track_id, frame = rng.randint(1, TRACKS), rng.randrange(1, behind)
            c.select(track_id)
            c.seek(frame)
            box = (float(rng.randint(0, 120)), float(rng.randint(0, 80)), 24.0, 24.0)
            c.set_box(track_id, box)  # cancels the run, re-propagates this stretch: one undo step
            label = c.project.tracks[track_id].frames[frame]
            assert label.box == box and label.is_keyframe
            expected[(track_id, frame)] = label
            edits += 1
        else:
            track_id = rng.randint(1, TRACKS)
            names[track_id] = f"object-{rng.randrange(1000)}"
            c.update_track(track_id, label=names[track_id])
            edits += 1
        rss_peak = max(rss_peak, rss_bytes())
        if front >= reported:
            print(f"soak: front {front}, {time.monotonic() - began:.0f} s, {edits} edits, "
                  f"RSS {rss_bytes() / 2**20:.0f} MiB", flush=True)
            reported += 1000

    qtbot.waitUntil(lambda: not c.run.worker.busy, timeout=60_000)
    project = c.project
    assert errors == [], errors[:3]
    for track_id in project.tracks:
        assert len(project.tracks[track_id].frames) == FRAMES, f"track {track_id} has holes"
    for (track_id, frame), label in expected.items():  # no edit lost, none overwritten by propagation
        assert project.tracks[track_id].frames[frame] == label, (track_id, frame)
    for track_id, name in names.items():
        assert project.tracks[track_id].label == name
    assert edits >= MIN_EDITS and scrubs >= MIN_SCRUBS and restarts >= 1, (edits, scrubs, restarts)

    recovered = recover(c.session.journal.project_path)
    assert recovered is not None and project_to_dict(recovered) == project_to_dict(project)
    saved = c.save(tmp_path / "soak.json")
    assert project_to_dict(load_project(saved)) == project_to_dict(project)

    stats = c.session.cache.stats()
    assert stats.bytes_used <= stats.max_bytes
    growth = rss_peak - rss_start
    assert growth < stats.max_bytes + LABEL_BUDGET_BYTES, \
        f"memory grew {growth / 2**20:.0f} MiB (cache budget {stats.max_bytes / 2**20:.0f} MiB)"
    print(f"soak: {FRAMES} frames x {TRACKS} tracks, {edits} edits, {scrubs} scrubs, {restarts} runs, "
          f"{time.monotonic() - began:.0f} s, RSS +{growth / 2**20:.0f} MiB (peak {rss_peak / 2**20:.0f} MiB)")

"""Faults in the middle of work: the tracker raises, a frame will not decode, the user cancels
again and again, the disk fills up. Each ends with what was done kept, one clear sentence,
and an engine ready for the next command.

These run the real pipeline a session runs: frames decoded by core.media from files on
disk, core.propagation streaming steps, AnnotationStore.apply_propagated writing them with
the autosave journal attached, and the journal replayed after each fault.
"""
from __future__ import annotations

import builtins
import errno
import io
import random
from pathlib import Path

import pytest
from support.media import write_image_folder, write_video
from support.projects import project_on

from core.annotations.io import load_project, project_to_dict, save_project
from core.annotations.journal import Journal, recover
from core.annotations.model import FrameLabel, Provenance
from core.annotations.store import AnnotationStore
from core.cli import main
from core.errors import MediaError
from core.media import open_media
from core.propagation import CancelToken, PropagationRequest, propagate
from core.tracking import IdentityTracker

pytestmark = pytest.mark.reliability

FRAMES = 60


class FaultyTracker(IdentityTracker):
    """Identity boxes until its `fail_at`-th track_many call, which raises (a bug, a driver error)."""

    def __init__(self, fail_at: int | None) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.calls = 0

    def track_many(self, frame_bgr, targets):
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        results = super().track_many(frame_bgr, targets)
        return [type(r)(box_xywh=(r.box_xywh[0] + self.calls, *r.box_xywh[1:]), score=0.9) for r in results]


def _session(tmp_path: Path, media: Path, frame_count: int, tracks: int) -> AnnotationStore:
    """A saved project on real media, opened with its journal, as the app opens it."""
    path = tmp_path / "session.json"
    save_project(project_on(media, frame_count, tracks=tracks), path)
    return AnnotationStore(load_project(path), journal=Journal(path))


def _run(store: AnnotationStore, source, tracker, request: PropagationRequest, cancel: CancelToken | None = None,
         on_step=None) -> list[int]:
    """Apply every streamed step through the store, joined into one undo step (the app's path)."""
    frames, join = [], None
    for step in propagate(store.project, source, tracker, request, cancel):
        for track_id, label in step.labels.items():
            written = store.apply_propagated(track_id, {step.frame: label}, join=join)
            if written and join is None:
                join = store.last_edit_id
        frames.append(step.frame)
        if on_step is not None:
            on_step(step)
    return frames


def _assert_journal_matches(store: AnnotationStore) -> None:
    recovered = recover(store.journal.project_path)
    assert recovered is not None and project_to_dict(recovered) == project_to_dict(store.project)


def test_tracker_raising_mid_run_keeps_the_frames_done_and_the_next_run_works(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", FRAMES)
    store = _session(tmp_path, video, FRAMES, tracks=2)
    keyframes = {t: dict(store.project.tracks[t].frames) for t in store.project.tracks}
    tracker = FaultyTracker(fail_at=17)
    with open_media(video) as source:
        with pytest.raises(RuntimeError, match="illegal memory access"):
            _run(store, source, tracker, PropagationRequest((1, 2), "forward", 0))
        for track_id in (1, 2):  # frames 1..16 were tracked before the 17th call raised; nothing after
            frames = store.project.tracks[track_id].frames
            assert sorted(frames) == list(range(17))
            assert frames[0] == keyframes[track_id][0]
            start_x = keyframes[track_id][0].box[0]
            assert all(frames[f].provenance is Provenance.TRACKED and frames[f].box[0] == start_x + f
                       for f in range(1, 17))
        _assert_journal_matches(store)  # a crash right now would lose nothing either

        tracker.fail_at = None  # the same engine, source and tracker run the next command
        _run(store, source, tracker, PropagationRequest((1, 2), "forward", 16))
    assert all(sorted(store.project.tracks[t].frames) == list(range(FRAMES)) for t in (1, 2))
    assert all(store.project.tracks[t].frames[0] == keyframes[t][0] for t in (1, 2))
    _assert_journal_matches(store)
    assert store.undo() and store.undo()  # each run is one undo step; the keyframes remain
    assert {t: store.project.tracks[t].frames for t in (1, 2)} == keyframes


def test_a_frame_that_will_not_decode_stops_the_run_with_one_sentence_and_keeps_the_rest(tmp_path: Path) -> None:
    folder = write_image_folder(tmp_path / "frames", 40)
    (folder / "26.png").write_bytes(b"\x89PNG\r\n\x1a\n but the rest is gone")  # frame index 25
    store = _session(tmp_path, folder, 40, tracks=3)
    with open_media(folder) as source:
        with pytest.raises(MediaError) as raised:
            _run(store, source, IdentityTracker(), PropagationRequest((1, 2, 3), "forward", 0))
        message = str(raised.value)
        assert "26.png" in message and "\n" not in message
        assert all(sorted(store.project.tracks[t].frames) == list(range(25)) for t in (1, 2, 3))
        _assert_journal_matches(store)
        _run(store, source, IdentityTracker(), PropagationRequest((1, 2, 3), "backward", 24))  # still usable
    assert all(sorted(store.project.tracks[t].frames) == list(range(25)) for t in (1, 2, 3))


def test_cancel_at_random_moments_again_and_again_with_three_tracks(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", FRAMES)
    store = _session(tmp_path, video, FRAMES, tracks=3)
    store.set_frame(2, 35, FrameLabel((50.0, 20.0, 16.0, 16.0), Provenance.MANUAL))  # track 2 stops here
    manual = {(t, f): label for t, tr in store.project.tracks.items()
              for f, label in tr.frames.items() if label.is_keyframe}
    rng = random.Random(1125)
    tracker = IdentityTracker()
    ran: list[tuple[str, int]] = []
    with open_media(video) as source:
        for _ in range(14):
            direction = rng.choice(["forward", "backward", "fill"])
            labelled = sorted(set().union(*(store.project.tracks[t].frames for t in (1, 2, 3))))
            start = rng.choice(labelled) if direction != "fill" else rng.randrange(0, FRAMES)
            ids = tuple(t for t in (1, 2, 3) if direction == "fill" or _has_box(store, t, start))
            before = project_to_dict(store.project)
            cancel = CancelToken()
            cancel_after = rng.choice([0, 1, 2, rng.randrange(3, 40)])
            seen_after_cancel = []
            steps: list[int] = []

            def on_step(step, cancel=cancel, cancel_after=cancel_after, seen=seen_after_cancel, steps=steps):
                if cancel.cancelled:
                    seen.append(step.frame)
                if len(steps) >= cancel_after:
                    cancel.cancel()
                    cancel.cancel()  # a second press must be harmless
                steps.append(step.frame)

            if cancel_after == 0:
                cancel.cancel()
            _run(store, source, tracker, PropagationRequest(ids, direction, start), cancel, on_step)
            ran.append((direction, len(steps)))
            assert len(seen_after_cancel) <= 1, "cancel must stop within one frame"
            for (track_id, frame), label in manual.items():  # manual keyframes are never touched
                assert store.project.tracks[track_id].frames[frame] == label
            _assert_journal_matches(store)
            if project_to_dict(store.project) != before:
                assert store.undo()  # a cancelled run is still exactly one undo step...
                assert project_to_dict(store.project) == before
                assert store.redo()
        assert {d for d, _ in ran} == {"forward", "backward", "fill"} and sum(n > 0 for _, n in ran) >= 8, ran
        _run(store, source, tracker, PropagationRequest((1, 2, 3), "forward", 0))  # and a full run still works
    assert sorted(store.project.tracks[1].frames) == list(range(FRAMES))
    assert max(store.project.tracks[2].frames) >= 35 and store.project.tracks[2].frames[35].is_keyframe
    _assert_journal_matches(store)


def _has_box(store: AnnotationStore, track_id: int, frame: int) -> bool:
    label = store.project.tracks[track_id].frames.get(frame)
    return label is not None and label.box is not None


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"),
                                         (errno.EACCES, "not writable")])
@pytest.mark.parametrize("fmt", ["coco-vid", "got10k", "mot"])
def test_export_to_a_full_or_read_only_disk_is_one_line_and_the_project_is_intact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, code: int, words: str,
        fmt: str) -> None:
    project_path = tmp_path / "p.json"
    save_project(project_on(tmp_path / "clip.mp4", 10, tracks=2), project_path)
    original = project_path.read_bytes()
    out = tmp_path / "export"
    real_open = io.open

    def failing_open(file, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax") and str(out) in str(file):
            raise OSError(code, "simulated")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", failing_open)
    monkeypatch.setattr(builtins, "open", failing_open)
    assert main(["export", str(project_path), "--format", fmt, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("siamcross export: ") and words in err, err
    monkeypatch.undo()
    assert project_path.read_bytes() == original
    assert load_project(project_path).tracks[1].frames[0].is_keyframe


def test_propagate_over_a_video_damaged_in_the_middle_stops_there_and_keeps_the_frames_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """`siamcross propagate` meets a frame that will not decode: one line naming it, exit 2, the
    project file untouched, and every frame tracked before it in the journal (rerun resumes)."""
    from support.projects import save_real_project

    from core.annotations.journal import read_journal

    data = bytearray(write_video(tmp_path / "clip.mp4", 120, size=(160, 120)).read_bytes())
    middle = len(data) // 2
    data[middle: middle + 5000] = bytes(5000)  # wipe a stretch of the stream: frames from ~60 on are lost
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with open_media(damaged) as source:
        broken = source.damaged_frames[0]
        assert 10 < broken < source.info.frame_count - 1
    project_path = save_real_project(damaged, tmp_path / "p.json", tracks=2)
    original = project_path.read_bytes()
    monkeypatch.setattr("core.commands.propagate._tracker", lambda model, device: IdentityTracker())
    assert main(["propagate", str(project_path), "--all"]) == 2
    lines = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines() if line.strip()]
    assert lines[-1].startswith("siamcross propagate: ") and f"Frame {broken}" in lines[-1], lines
    assert "may change frames" in lines[0], lines  # what the run may change is said before it starts
    assert all("frames/s" in line and "siamcross" not in line for line in lines[1:-1]), lines  # then progress only
    assert project_path.read_bytes() == original
    recovery = read_journal(project_path)
    assert recovery is not None
    assert all(sorted(recovery.project.tracks[t].frames) == list(range(broken)) for t in (1, 2))

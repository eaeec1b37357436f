"""Autosave journal: replay after a crash (a real SIGKILL), torn lines, checkpoints on save."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.paths import PROJECT_ROOT

from core.annotations.io import load_project, project_to_dict, save_project
from core.annotations.journal import Journal, journal_path, read_journal, recover
from core.annotations.model import FrameLabel, MediaRef, Project, Provenance
from core.annotations.store import AnnotationStore, save_store

MEDIA = MediaRef("clip.mp4", "video", 1000, 640, 480, 25.0, "sha1:x")


def manual(x: float) -> FrameLabel:
    return FrameLabel((x, 1.0, 2.0, 3.0), Provenance.MANUAL)


def tracked(x: float) -> FrameLabel:
    return FrameLabel((x, 1.0, 2.0, 3.0), Provenance.TRACKED, 0.5)


def busy_store(path: Path, save_first: bool = True) -> AnnotationStore:
    if save_first:
        save_project(Project(media=MEDIA), path)
    store = AnnotationStore(load_project(path) if save_first else Project(media=MEDIA), journal=Journal(path))
    track = store.add_track("car")
    edit = store.set_frame(track.id, 0, manual(0))
    for frame in range(1, 20):
        store.apply_propagated(track.id, {frame: tracked(frame)}, join=edit)
    other = store.add_track("person")
    store.set_frame(other.id, 5, manual(5))
    store.split_track(track.id, 10)
    store.undo()
    store.update_track(other.id, hidden=True)
    return store


@pytest.mark.parametrize("save_first", [True, False])
def test_recover_replays_every_edit_including_undo(tmp_path: Path, save_first: bool) -> None:
    path = tmp_path / "project.json"
    store = busy_store(path, save_first)
    expected = project_to_dict(store.project)
    recovered = recover(path)
    assert recovered is not None and project_to_dict(recovered) == expected
    assert read_journal(path).edits == store.journal.lines_written


def test_no_journal_and_fresh_save_mean_nothing_to_recover(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    assert recover(path) is None
    store = busy_store(path)
    save_store(store, path)
    assert recover(path) is None, "saving checkpoints the journal"
    store.set_frame(1, 50, manual(50))
    recovered = recover(path)
    assert recovered is not None and recovered.tracks[1].frames[50] == manual(50)
    assert recovered.tracks[1].frames[3] == tracked(3)


def test_the_tracker_cues_of_a_label_survive_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    store = busy_store(path)
    cued = FrameLabel((7.0, 1.0, 2.0, 3.0), Provenance.TRACKED, 0.9, distractor=0.25, disagreement=0.5,
                      box_spread=0.375)
    store.apply_propagated(1, {30: cued})
    recovered = recover(path)
    assert recovered is not None and recovered.tracks[1].frames[30] == cued
    assert recovered.tracks[1].frames[30].box_spread == 0.375


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    store = busy_store(path)
    expected = project_to_dict(store.project)
    with open(journal_path(path), "a", encoding="ascii") as handle:
        handle.write('{"edit": "set_frame", "ops": [{"op": "frame", "track": 1, "fra')
    recovery = read_journal(path)
    assert recovery is not None and recovery.torn_tail
    assert project_to_dict(recovery.project) == expected


def test_journal_of_an_older_save_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    busy_store(path)
    save_project(Project(media=MEDIA, meta={"saved": "elsewhere"}), path)  # a save the journal did not see
    assert recover(path) is None


def test_recovered_project_gets_a_journal_that_recovers_again(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    busy_store(path)
    recovered = recover(path)
    store = AnnotationStore(recovered, journal=Journal(path))  # not equal to the file: snapshot header
    store.set_frame(2, 7, manual(7))
    again = recover(path)
    assert again is not None and again.tracks[2].frames[7] == manual(7) and again.tracks[1].frames[3] == tracked(3)


def test_save_as_moves_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    store = busy_store(path)
    save_store(store, tmp_path / "b.json")
    assert not journal_path(path).exists()
    store.set_frame(1, 99, manual(99))
    assert recover(tmp_path / "b.json").tracks[1].frames[99] == manual(99)


def test_journal_lines_are_one_json_object_per_edit(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    store = busy_store(path)
    lines = journal_path(path).read_text(encoding="ascii").splitlines()
    header = json.loads(lines[0])
    assert header["schema"] == "siamcross-journal" and "base_sha1" in header
    assert len(lines) - 1 == store.journal.lines_written
    assert all(json.loads(line)["ops"] for line in lines[1:])


CRASHING_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from core.annotations.io import save_project
    from core.annotations.journal import Journal
    from core.annotations.model import FrameLabel, MediaRef, Project, Provenance
    from core.annotations.store import AnnotationStore

    path = {path!r}
    save_project(Project(media=MediaRef("clip.mp4", "video", 10**6, 640, 480)), path)
    store = AnnotationStore(Project(media=MediaRef("clip.mp4", "video", 10**6, 640, 480)), journal=Journal(path))
    track = store.add_track("car")
    run = store.set_frame(track.id, 0, FrameLabel((0.0, 1.0, 2.0, 3.0), Provenance.MANUAL))
    frame = 0
    while True:  # propagate forever, one journal line per frame, until killed
        frame += 1
        label = FrameLabel((float(frame), 1.0, 2.0, 3.0), Provenance.TRACKED, 0.5)
        store.apply_propagated(track.id, {{frame: label}}, join=run)
        print(frame, flush=True)
    """
)


def test_sigkill_mid_propagation_loses_nothing_that_was_applied(tmp_path: Path) -> None:
    path = tmp_path / "crash project.json"
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_SCRIPT.format(root=str(PROJECT_ROOT), path=str(path)))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    last_reported = 0
    for line in process.stdout:
        last_reported = int(line)
        if last_reported >= 300:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL

    recovered = recover(path)
    assert recovered is not None
    frames = recovered.tracks[1].frames
    # every frame applied before the kill is there, in order, with its box: a contiguous prefix
    assert sorted(frames) == list(range(len(frames)))
    assert len(frames) - 1 >= last_reported
    expected = FrameLabel((float(last_reported), 1.0, 2.0, 3.0), Provenance.TRACKED, 0.5)
    assert frames[0].is_keyframe and frames[last_reported] == expected

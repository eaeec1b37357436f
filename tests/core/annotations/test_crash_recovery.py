"""The process dies (SIGKILL: no handler, no flush, no finally) and nothing is lost.

* a real `siamcross propagate` with the real lite model is killed mid-run: the autosave
  journal recovers every manual keyframe and every frame the command had reported done,
  the project file itself is untouched, and rerunning the command resumes from the journal;
* a process saving a large project over and over is killed at random moments: the file
  always loads, and is always one of the versions that was saved (never half of one).
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.media import write_video
from support.paths import PROJECT_ROOT, SIAMCROSS
from support.projects import save_real_project

from core.annotations.io import load_project
from core.annotations.journal import journal_path, read_journal, recover
from core.annotations.model import Provenance
from core.cli import main
from core.tracking import IdentityTracker

pytestmark = pytest.mark.reliability

KILL_AFTER_FRAMES = 6
WAIT_S = 240


def _journalled_frames(path: Path) -> dict[tuple[int, int], dict]:
    """(track, frame) -> label as the journal recorded it (complete lines only)."""
    raw = journal_path(path).read_bytes()
    done: dict[tuple[int, int], dict] = {}
    for line in raw.split(b"\n")[1:-1]:  # header first; the text after the last newline may be torn
        for op in json.loads(line)["ops"]:
            if op["op"] == "frame":
                done[(op["track"], op["frame"])] = op["label"]
    return done


def _wait_for_journal_lines(path: Path, lines: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT_S
    journal = journal_path(path)
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") > lines:
            return
        if process.poll() is not None:
            pytest.fail(f"siamcross propagate ended before it was killed: {process.communicate()}")
        time.sleep(0.05)
    pytest.fail("siamcross propagate wrote no journal lines in time")


@pytest.mark.slow
def test_sigkill_during_real_propagate_recovers_every_keyframe_and_done_frame(tmp_path: Path, monkeypatch,
                                                                                capsys) -> None:
    video = write_video(tmp_path / "clip.mp4", 400)
    project_path = save_real_project(video, tmp_path / "my project.json", tracks=2)
    original = project_path.read_bytes()
    keyframes = {tid: dict(t.frames) for tid, t in load_project(project_path).tracks.items()}

    process = subprocess.Popen([str(SIAMCROSS), "propagate", str(project_path), "--all", "--device", "cpu",
                                "--threshold", "0"], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    _wait_for_journal_lines(project_path, KILL_AFTER_FRAMES, process)
    os.kill(process.pid, signal.SIGKILL)
    _, err = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    reported = [int(d) for d in re.findall(rb"(\d+)/\d+ frames", err)]

    assert project_path.read_bytes() == original, "a killed run must not have half-written the project"
    recovery = read_journal(project_path)
    assert recovery is not None and recovery.edits >= KILL_AFTER_FRAMES
    recovered = recovery.project
    for track_id, frames in keyframes.items():  # every manual keyframe
        for frame, label in frames.items():
            assert recovered.tracks[track_id].frames[frame] == label
    done = _journalled_frames(project_path)
    assert len(done) >= KILL_AFTER_FRAMES
    for (track_id, frame), label in done.items():  # every completed frame, exactly as journalled
        got = recovered.tracks[track_id].frames[frame]
        assert got.provenance is Provenance.TRACKED and list(got.box) == label["box"] and got.score == label["score"]
    for track_id in keyframes:  # a contiguous run from the keyframe: no hole in what was kept
        assert sorted(recovered.tracks[track_id].frames) == list(range(len(recovered.tracks[track_id].frames)))
    if reported:  # whatever the progress line showed the user before the kill is kept
        assert all(len(recovered.tracks[t].frames) - 1 >= max(reported) for t in keyframes)

    # rerunning the command picks the journal up, finishes, saves, and clears the journal
    monkeypatch.setattr("core.commands.propagate._tracker", lambda model, device: IdentityTracker())
    assert main(["propagate", str(project_path), "--all", "--to", "20"]) == 0
    assert "recovered" in capsys.readouterr().err
    final = load_project(project_path)
    for track_id in keyframes:
        frames = final.tracks[track_id].frames
        assert set(recovered.tracks[track_id].frames) | set(range(20)) == set(frames)  # nothing dropped
        assert frames[0] == keyframes[track_id][0]
        assert all(frames[f].box == keyframes[track_id][0].box for f in range(1, 20))  # re-propagated by identity
    assert not journal_path(project_path).exists()
    assert recover(project_path) is None


SAVING_FOREVER = textwrap.dedent(
    """
    import sys
    from core.annotations.io import save_project
    from core.annotations.model import FrameLabel, MediaRef, Project, Provenance, Track

    path, start = sys.argv[1], int(sys.argv[2])
    project = Project(media=MediaRef("clip.mp4", "video", 100000, 1920, 1080, 25.0, "sha1:x"))
    for track_id in range(1, 5):
        project.tracks[track_id] = Track(track_id, "car", "#00ff00", frames={
            f: FrameLabel((f + 0.123456789, track_id * 1.5, 40.25, 30.75),
                          Provenance.MANUAL if f % 50 == 0 else Provenance.TRACKED,
                          None if f % 50 == 0 else 0.987654321) for f in range(3000)})
    generation = start
    print("ready", flush=True)
    while True:
        generation += 1
        project.meta["generation"] = str(generation)
        project.tracks[1].frames[1] = FrameLabel((float(generation), 1.0, 2.0, 3.0), Provenance.MANUAL)
        save_project(project, path)
    """
)


def test_sigkill_at_random_moments_during_save_always_leaves_a_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "big project.json"
    rng = random.Random(20261125)
    seen_generations: set[int] = set()
    start = 0
    for _ in range(8):
        process = subprocess.Popen([sys.executable, "-c", SAVING_FOREVER, str(path), str(start)], cwd=PROJECT_ROOT,
                                   stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))  # saves of ~1 MB take tens of ms: the kill lands anywhere in one
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
        if not path.exists():
            continue  # killed before the very first save finished: nothing to lose yet
        project = load_project(path)  # never half a file
        generation = int(project.meta["generation"])
        assert project.tracks[1].frames[1].box == (float(generation), 1.0, 2.0, 3.0)  # one consistent version
        assert all(len(t.frames) == 3000 for t in project.tracks.values())
        assert generation > start - 1
        seen_generations.add(generation)
        backup = path.with_name(path.name + ".bak")
        if backup.exists():
            assert int(load_project(backup).meta["generation"]) <= generation  # the backup is whole, never newer
        start = generation
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 8, leftovers  # a killed save may leave its temp file; never more than one per kill
    assert len(seen_generations) >= 3, "the process was not saving when it was killed"


def test_save_after_a_kill_between_the_two_renames_keeps_a_whole_backup(tmp_path: Path) -> None:
    """The state the random-kill test once reached: a save killed after `.bak` was linked to the
    current file but before the new file replaced it leaves the file and `.bak` as ONE inode,
    plus the link-temp name. Saving twice more must still leave a whole, older `.bak`."""
    from core.annotations.io import save_project
    from core.annotations.model import MediaRef, Project

    path = tmp_path / "p.json"
    save_project(Project(media=MediaRef("a.mp4", "video", 10, 8, 8), meta={"generation": "1"}), path)
    os.link(path, path.with_name(path.name + ".bak"))  # file and .bak: one inode
    os.link(path, path.with_name(f".{path.name}.bak.{os.getpid()}.tmp"))  # and the stale link-temp name
    for generation in (2, 3):
        save_project(Project(media=MediaRef("a.mp4", "video", 10, 8, 8), meta={"generation": str(generation)}), path)
    assert load_project(path).meta["generation"] == "3"
    assert load_project(path.with_name(path.name + ".bak")).meta["generation"] == "2"
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())

"""`siamcross propagate` end to end on a real video: load, decode, propagate, save, Ctrl-C."""
from __future__ import annotations

import pytest

from core.annotations.io import load_project, save_project
from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.cli import main
from core.media import open_media
from core.tracking import IdentityTracker

BOX = (300.0, 100.0, 60.0, 80.0)


@pytest.fixture
def project_file(videos_dir, tmp_path):
    video = videos_dir / "bikes.mp4"
    with open_media(video) as source:
        media = source.to_media_ref()
    project = Project(media=media, tracks={
        1: Track(id=1, frames={0: FrameLabel(BOX, Provenance.MANUAL), 12: FrameLabel(BOX, Provenance.MANUAL)}),
        2: Track(id=2, frames={2: FrameLabel((10.0, 10.0, 40.0, 40.0), Provenance.MANUAL)}),
    })
    path = tmp_path / "project.json"
    save_project(project, path)
    return path


def test_linear_propagation_needs_no_model(project_file, capsys):
    assert main(["propagate", str(project_file), "--track", "1", "--direction", "fill", "--method", "linear"]) == 0
    frames = load_project(project_file).tracks[1].frames
    assert all(frames[f].provenance is Provenance.INTERPOLATED for f in range(1, 12))
    assert frames[0].is_keyframe and frames[12].is_keyframe
    assert "Wrote" in capsys.readouterr().err


def test_tracker_propagation_decodes_the_video_and_saves(project_file, monkeypatch, capsys):
    monkeypatch.setattr("core.commands.propagate._tracker", lambda model, device: IdentityTracker())
    assert main(["propagate", str(project_file), "--all", "--to", "20"]) == 0
    project = load_project(project_file)
    assert sorted(project.tracks[1].frames) == list(range(0, 13))  # stops at its next keyframe
    assert sorted(project.tracks[2].frames) == list(range(2, 20))  # --to is 1-based: frame index 19
    assert project.tracks[2].frames[19].provenance is Provenance.TRACKED
    assert project.tracks[2].frames[19].score == 1.0
    assert "frames/s" in capsys.readouterr().err


def test_ctrl_c_keeps_the_frames_done(project_file, monkeypatch, capsys):
    class Interrupted(IdentityTracker):
        calls = 0

        def track_many(self, frame_bgr, targets):
            Interrupted.calls += 1
            if Interrupted.calls > 5:
                raise KeyboardInterrupt
            return super().track_many(frame_bgr, targets)

    monkeypatch.setattr("core.commands.propagate._tracker", lambda model, device: Interrupted())
    assert main(["propagate", str(project_file), "--track", "2"]) == 130
    frames = load_project(project_file).tracks[2].frames
    assert sorted(frames) == [2, 3, 4, 5, 6, 7]
    assert "cancelled" in capsys.readouterr().err


def test_mistakes_are_one_line(project_file, tmp_path, capsys):
    assert main(["propagate", str(tmp_path / "missing.json")]) == 2
    assert main(["propagate", str(project_file), "--track", "9", "--method", "linear"]) == 2
    assert main(["propagate", str(project_file), "--track", "2", "--from", "1", "--method", "linear"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("siamcross propagate: ") for line in err)
    assert "Track 9" in err[1] and "no box on frame 1" in err[2]

"""Human labels (manual keyframes and imported labels) stop every propagation; only an explicit
overwrite replaces imported ones (never keyframes), and the preview says so before anything runs."""
from __future__ import annotations

import pytest
from support.media import write_video
from support.propagation import IndexedSource, ScriptedTracker

from core.annotations.io import load_project, save_project
from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.annotations.store import AnnotationStore
from core.cli import main
from core.media import open_media
from core.propagation import (
    PropagationRequest,
    PropagationStep,
    apply_step,
    preview_changes,
    propagate,
    repropagation_request,
)
from core.tracking import IdentityTracker

COUNT = 40


def label(provenance: Provenance, x: float = 10.0) -> FrameLabel:
    return FrameLabel((x, 10.0, 8.0, 6.0), provenance)


def imported_project(*spans: range, count: int = COUNT) -> Project:
    """Track 1 with imported labels on the frames of spans (what `siamcross import` makes)."""
    track = Track(1, frames={f: label(Provenance.IMPORTED, 10.0 + f) for span in spans for f in span})
    return Project(tracks={1: track})


def moving(anchor, box, frame):
    x, y, w, h = box
    return (x + 100 + (frame - anchor), y, w, h), 0.9  # never equal to an imported box


def run(project: Project, request: PropagationRequest, count: int = COUNT) -> set[int]:
    """Propagate and write as the CLI does; returns the frames written."""
    written = set()
    for step in propagate(project, IndexedSource(count), ScriptedTracker(moving), request):
        if apply_step(project, step, request.overwrite):
            written.add(step.frame)
    return written


def human(project: Project) -> dict[int, FrameLabel]:
    return {f: label for f, label in project.tracks[1].frames.items() if label.is_human}


@pytest.mark.parametrize("request_args, written", [
    (dict(direction="forward", start_frame=5), set()),               # the next frame is imported
    (dict(direction="forward", start_frame=9), set(range(10, 20))),  # up to the next imported label
    (dict(direction="backward", start_frame=20), set(range(10, 20))),
    (dict(direction="backward", start_frame=25), set()),
    (dict(direction="fill", start_frame=0), set(range(10, 20)) | set(range(30, COUNT))),
    (dict(direction="fill", start_frame=0, method="linear"), set(range(10, 20)) | set(range(30, COUNT))),
    (dict(direction="forward", start_frame=9, method="guided"), set(range(10, 20))),
])
def test_every_propagation_stops_at_imported_labels(request_args, written):
    project = imported_project(range(0, 10), range(20, 30))
    before = human(project)
    assert run(project, PropagationRequest((1,), **request_args)) == written
    assert human(project) == before


def test_a_correction_on_imported_labels_retracks_nothing_past_the_next_human_label():
    project = imported_project(range(0, COUNT))
    before = human(project)
    project.tracks[1].frames[12] = label(Provenance.MANUAL, 50.0)  # the correction
    request = repropagation_request(project, 1, 12)
    assert (request.direction, request.stop_frame) == ("fill", 13)
    assert run(project, request) == set()
    assert ({f: label for f, label in human(project).items() if f != 12}
            == {f: label for f, label in before.items() if f != 12})

    project = imported_project(range(0, 10), range(20, 30))
    for f in range(10, 20):
        project.tracks[1].frames[f] = FrameLabel((0.0, 0.0, 5.0, 5.0), Provenance.TRACKED, 0.5)
    project.tracks[1].frames[12] = label(Provenance.MANUAL, 50.0)
    assert run(project, repropagation_request(project, 1, 12)) == set(range(13, 20))
    assert all(project.tracks[1].frames[f].provenance is Provenance.IMPORTED for f in range(20, 30))


def test_overwrite_replaces_imported_labels_but_never_keyframes():
    project = imported_project(range(0, COUNT))
    project.tracks[1].frames[30] = label(Provenance.MANUAL, 77.0)
    written = run(project, PropagationRequest((1,), "forward", 5, overwrite=True))
    assert written == set(range(6, 30))  # stops at the manual keyframe
    frames = project.tracks[1].frames
    assert all(frames[f].provenance is Provenance.TRACKED for f in range(6, 30))
    assert frames[30] == label(Provenance.MANUAL, 77.0)
    assert all(frames[f].provenance is Provenance.IMPORTED for f in (*range(0, 6), *range(31, COUNT)))


def test_the_last_guards_where_labels_land_keep_human_labels():
    project = imported_project(range(0, 3))
    project.tracks[1].frames[1] = label(Provenance.MANUAL)
    tracked = FrameLabel((1.0, 1.0, 2.0, 2.0), Provenance.TRACKED, 0.9)
    assert [apply_step(project, PropagationStep(f, {1: tracked})) for f in (0, 1, 2, 3)] == [0, 0, 0, 1]
    assert [apply_step(project, PropagationStep(f, {1: tracked}), overwrite=True) for f in (0, 1, 2)] == [1, 0, 1]

    store = AnnotationStore(imported_project(range(0, 3)))
    store.set_frame(1, 1, label(Provenance.MANUAL))
    assert store.apply_propagated(1, {f: tracked for f in range(4)}) == [3]
    assert store.apply_propagated(1, {f: tracked for f in range(4)}, overwrite=True) == [0, 2]
    assert store.project.tracks[1].frames[1].is_keyframe


def test_the_preview_says_what_changes_and_how_many_imported_labels_are_kept():
    project = imported_project(range(0, 30))
    blocked = preview_changes(project, PropagationRequest((1,), "forward", 9), COUNT)
    assert (blocked.frame_count, blocked.kept, blocked.replaced) == (0, 20, 0)
    assert blocked.changes_text() == "no frames"
    assert blocked.kept_text() == "20 imported labels kept (track 1 stops before its human label on frame 11)"
    fill = preview_changes(project, PropagationRequest((1,), "fill", 0), COUNT)
    assert fill.changes_text() == "frames 31-40 of track 1" and fill.kept == 0 and fill.kept_text() is None
    overwrite = preview_changes(project, PropagationRequest((1,), "forward", 9, overwrite=True), COUNT)
    assert (overwrite.frame_count, overwrite.replaced) == (30, 20)
    gaps = preview_changes(imported_project(range(0, 2), range(9, 11), range(12, 13)),
                           PropagationRequest((1,), "fill", 0), 14)
    assert gaps.changes_text() == "frames 3-9, 12 and 14 of track 1"


# --- the command line --------------------------------------------------------------------------
@pytest.fixture
def stub_tracker(monkeypatch):
    """IdentityTracker: same box, score 1, provenance tracked (so a replaced label is visible)."""
    monkeypatch.setattr("core.commands.propagate._tracker", lambda model, device: IdentityTracker())


def labels_of(path) -> dict[int, dict[int, FrameLabel]]:
    return {tid: dict(t.frames) for tid, t in load_project(path).tracks.items()}


def test_cli_propagate_over_imported_labels_changes_none_without_overwrite(tmp_path, stub_tracker, capsys):
    video = write_video(tmp_path / "clip.mp4", 24)
    with open_media(video) as source:
        project = Project(media=source.to_media_ref())
    project.tracks[1] = Track(1, frames={f: label(Provenance.IMPORTED, 10.0 + f) for f in range(24)})
    path = tmp_path / "p.json"
    save_project(project, path)
    before = labels_of(path)
    for argv in (["--from", "10"], ["--direction", "backward", "--from", "20"], ["--direction", "fill"], []):
        assert main(["propagate", str(path), *argv]) == 0
        assert labels_of(path) == before, argv
    err = capsys.readouterr().err
    assert "14 imported labels kept (track 1 stops before its human label on frame 11); pass --overwrite" in err
    assert "nothing to change" in err
    assert main(["propagate", str(path), "--from", "10", "--overwrite"]) == 0
    after = labels_of(path)[1]
    assert all(after[f] == before[1][f] for f in range(10))
    assert all(after[f].provenance is Provenance.TRACKED for f in range(10, 24))
    err = capsys.readouterr().err
    assert "may change frames 11-24 of track 1" in err and "Replaced 14 imported labels" in err


def test_cli_on_an_imported_otb_sequence_keeps_its_ground_truth(seqs_dir, tmp_path, stub_tracker, capsys):
    """The issue's commands: import Car4 as OTB, propagate from frame 200."""
    car4 = seqs_dir / "Car4"
    if not car4.is_dir():
        pytest.skip("Car4 is not in the shared sequences")
    path = tmp_path / "p.json"
    assert main(["import", str(car4), "--format", "otb", "--out", str(path)]) == 0
    before = labels_of(path)
    assert main(["propagate", str(path), "--from", "200"]) == 0
    assert main(["propagate", str(path), "--direction", "fill"]) == 0
    assert labels_of(path) == before
    err = capsys.readouterr().err
    count = len(before[1])
    assert f"{count - 200} imported labels kept (track 1 stops before its human label on frame 201)" in err

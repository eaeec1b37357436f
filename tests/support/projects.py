"""Projects for tests: one over given media with a keyframe per track, one saved over media
opened for real (fingerprint and all), and one that carries every field a format must keep."""
from __future__ import annotations

from pathlib import Path

from core.annotations.io import save_project
from core.annotations.model import Flags, FrameLabel, MediaRef, Project, Provenance, Track


def project_on(media_path: Path, frame_count: int, width: int = 96, height: int = 64, tracks: int = 1,
               fingerprint: str = "") -> Project:
    """A project over media_path with `tracks` tracks, each with a manual keyframe on frame 0."""
    media = MediaRef(str(media_path), "images" if media_path.is_dir() else "video", frame_count, width, height, 25.0,
                     fingerprint)
    project = Project(media=media)
    for track_id in range(1, tracks + 1):
        box = (4.0 + 10 * track_id, 8.0, 16.0, 16.0)
        project.tracks[track_id] = Track(track_id, "object", "#00ff00",
                                         frames={0: FrameLabel(box, Provenance.MANUAL)})
    project.next_track_id = tracks + 1
    return project


def save_real_project(media_path: Path, path: Path, tracks: int = 1) -> Path:
    """Save a project whose MediaRef comes from opening the media (fingerprint and all)."""
    from core.media import open_media

    with open_media(media_path) as source:
        ref = source.to_media_ref()
    project = project_on(media_path, ref.frame_count, ref.width, ref.height, tracks)
    project.media = ref
    save_project(project, path)
    return path


def rich_project(media: MediaRef | None = None, label: str = "airplane") -> Project:
    """Two tracks: keyframes, tracked frames with scores, interpolated frames, absent frames
    with and without a box, every flag, gaps, and boxes whose floats are awkward on purpose."""
    media = media or MediaRef("/data/clip.mp4", "video", 12, 640, 480, 25.0, "sha1:abc")
    one = Track(1, label, "#00ff00")
    one.frames = {
        0: FrameLabel((10.0, 20.0, 30.0, 40.0), Provenance.MANUAL),
        1: FrameLabel((10.1, 20.2, 30.3, 40.4), Provenance.TRACKED, 0.8731),
        2: FrameLabel((0.1 + 0.2, 1e-7, 29.999999999999996, 40.0), Provenance.TRACKED, 0.5),
        3: FrameLabel(None, Provenance.MANUAL, None, Flags(absent=True)),
        4: FrameLabel((-5.5, -0.25, 12.0, 13.0), Provenance.INTERPOLATED, None, Flags(cut_by_image=True)),
        5: FrameLabel((100.0, 100.0, 5.0, 6.0), Provenance.TRACKED, 0.1, Flags(absent=True, out_of_view=True)),
        6: FrameLabel((101.0, 99.0, 5.0, 6.0), Provenance.MANUAL, None, Flags(occluded=True, cover=3)),
        8: FrameLabel((639.5, 479.5, 0.5, 0.5), Provenance.IMPORTED),
    }
    two = Track(4, "car", "#0000ff", hidden=True)
    two.frames = {
        2: FrameLabel((1.0, 2.0, 3.0, 4.0), Provenance.MANUAL, None, Flags(cover=8)),
        3: FrameLabel((1.5, 2.5, 3.5, 4.5), Provenance.TRACKED, 0.999, Flags(cover=0)),
        11: FrameLabel(None, Provenance.TRACKED, 0.05, Flags(absent=True, out_of_view=True)),
    }
    return Project(media=media, tracks={1: one, 4: two}, classes=["object", label], next_track_id=7,
                   meta={"note": "round trip"})


def assert_same_project(actual: Project, expected: Project) -> None:
    assert sorted(actual.tracks) == sorted(expected.tracks)
    for track_id, track in expected.tracks.items():
        got = actual.tracks[track_id]
        assert (got.label, got.color, got.hidden) == (track.label, track.color, track.hidden)
        assert got.frames == track.frames, f"track {track_id}"
        assert got.keyframes() == track.keyframes()
    assert actual.media == expected.media
    assert actual.next_track_id == expected.next_track_id

"""Propagation decodes ahead in a background thread: same labels, each frame decoded once, backward in blocks."""
from __future__ import annotations

import numpy as np
import pytest
from support.media import CountingSource

from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.media import FrameCache, MediaInfo
from core.propagation import PropagationRequest, propagate
from core.tracking import IdentityTracker


class SeekCountingSource(CountingSource):
    """An in-memory video: pixels encode the index; counts reads and seeks (a read that is not the next frame)."""

    def __init__(self, frames: int = 60, width: int = 48, height: int = 32) -> None:
        super().__init__(frames=frames, width=width, height=height)
        self.info = MediaInfo("memory.mp4", "video", frames, width, height, 30.0, "sha1:test")
        self.seeks = 0
        self._next = 0

    def read(self, index: int) -> np.ndarray:
        frame = super().read(index)  # asserts that no two reads overlap
        self.seeks += index != self._next
        self._next = index + 1
        return frame


def project_with_keyframes(source: SeekCountingSource, *frames: int) -> Project:
    labels = {f: FrameLabel(box=(4.0 + f / 10, 4.0, 10.0, 8.0), provenance=Provenance.MANUAL) for f in frames}
    return Project(tracks={1: Track(id=1, frames=labels)})


def run(project: Project, source: SeekCountingSource, request: PropagationRequest, read_ahead: int) -> dict:
    labels: dict[int, FrameLabel] = {}
    for step in propagate(project, source, IdentityTracker(), request, read_ahead=read_ahead):
        for label in step.labels.values():  # one track: at most one label a step
            labels[step.frame] = label
    return labels


def test_forward_with_read_ahead_gives_the_same_labels_and_decodes_each_frame_once() -> None:
    request = PropagationRequest(track_ids=(1,), direction="forward", start_frame=0)
    plain_source, ahead_source = SeekCountingSource(), SeekCountingSource()
    plain = run(project_with_keyframes(plain_source, 0), plain_source, request, read_ahead=0)
    ahead = run(project_with_keyframes(ahead_source, 0), ahead_source, request, read_ahead=8)
    assert ahead == plain and len(ahead) == 59
    assert sorted(ahead_source.reads) == list(range(60)), "every frame decoded exactly once"
    assert ahead_source.seeks == 0


def test_fill_with_read_ahead_gives_the_same_labels_as_without() -> None:
    request = PropagationRequest(track_ids=(1,), direction="fill", start_frame=0)
    plain_source, ahead_source = SeekCountingSource(), SeekCountingSource()
    plain = run(project_with_keyframes(plain_source, 5, 50), plain_source, request, read_ahead=0)
    ahead = run(project_with_keyframes(ahead_source, 5, 50), ahead_source, request, read_ahead=8)
    assert ahead == plain and set(ahead) == set(range(60)) - {5, 50}


@pytest.mark.parametrize("read_ahead", [4, 8])
def test_backward_read_ahead_decodes_blocks_not_one_seek_per_frame(read_ahead: int) -> None:
    source = SeekCountingSource(frames=100)
    with FrameCache(source, max_bytes=(3 * read_ahead + 2) * source.info.frame_bytes, read_ahead=read_ahead) as cache:
        cache.set_direction(-1)
        for index in range(99, 39, -1):
            assert int(cache.get(index)[0, 0, 0]) == index
            assert cache.wait_idle()
    assert len(source.reads) == len(set(source.reads)), "no frame decoded twice"
    assert source.seeks <= 60 // read_ahead + 3  # about one seek per block (was one per frame)

"""A video-backed Sequence opens its video once and reads the same frames as a fresh reader."""
from __future__ import annotations

import gc
import multiprocessing
import pickle
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from support.media import sequential_digests, write_video

import core.media
from core.datasets import Sequence
from core.media import open_media

FRAMES = 40


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    write_video(path, FRAMES)
    return path


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every source open_media returns during the test."""
    sources = []

    def counting_open(path, **kwargs):
        source = open_media(path, **kwargs)
        sources.append(source)
        return source

    monkeypatch.setattr(core.media, "open_media", counting_open)
    return sources


def _sequence(clip: Path) -> Sequence:
    return Sequence(name="clip", boxes=np.tile([1.0, 2.0, 10.0, 10.0], (FRAMES, 1)), video=clip)


def _digest(frame: np.ndarray) -> str:
    import hashlib

    return hashlib.sha1(np.ascontiguousarray(frame).tobytes()).hexdigest()


def test_every_frame_in_random_order_matches_a_fresh_decode_and_the_video_is_opened_once(clip: Path,
                                                                                       opened: list) -> None:
    reference = sequential_digests(clip)
    sequence = _sequence(clip)
    order = np.random.default_rng(0).permutation(FRAMES)
    assert [_digest(sequence.read_frame(int(i))) for i in order] == [reference[i] for i in order]
    assert len(opened) == 1


def test_close_and_context_exit_release_the_video_and_a_later_read_reopens_it(clip: Path, opened: list) -> None:
    with _sequence(clip) as sequence:
        first = sequence.read_frame(3)
    assert opened[0]._capture is None  # released at exit
    np.testing.assert_array_equal(sequence.read_frame(3), first)
    assert len(opened) == 2
    sequence.close()
    assert opened[1]._capture is None


def test_a_dropped_sequence_releases_its_video(clip: Path, opened: list) -> None:
    sequence = _sequence(clip)
    sequence.read_frame(0)
    del sequence
    gc.collect()
    assert opened[0]._capture is None


def test_threads_reading_at_once_get_the_right_frames_from_one_open_video(clip: Path, opened: list) -> None:
    reference = sequential_digests(clip)
    sequence = _sequence(clip)
    wrong: list[int] = []

    def reader(seed: int) -> None:
        for i in np.random.default_rng(seed).integers(0, FRAMES, 30):
            if _digest(sequence.read_frame(int(i))) != reference[i]:
                wrong.append(int(i))

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [] and len(opened) == 1


def test_a_pickled_copy_reads_the_same_frames_with_its_own_decoder(clip: Path) -> None:
    sequence = _sequence(clip)
    frame = sequence.read_frame(7)
    copy = pickle.loads(pickle.dumps(sequence))
    assert copy._video is not sequence._video and copy._video.opens == 0
    np.testing.assert_array_equal(copy.read_frame(7), frame)


def _read_in_child(sequence: Sequence, index: int, queue) -> None:
    queue.put((_digest(sequence.read_frame(index)), sequence._video.opens))


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")
def test_a_forked_worker_opens_its_own_decoder_and_reads_the_right_frame(clip: Path) -> None:
    reference = sequential_digests(clip)
    sequence = _sequence(clip)
    sequence.read_frame(30)  # the parent's decoder sits at frame 31
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_child, args=(sequence, 5, queue))
    child.start()
    digest, opens = queue.get(timeout=60)
    child.join(timeout=60)
    assert digest == reference[5]
    assert opens == 2  # the parent's count (1) plus the child's own open
    assert _digest(sequence.read_frame(31)) == reference[31]  # the parent's decoder is untouched

"""FrameCache: bounded in bytes, read-ahead in the direction of travel, safe across threads."""
from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
import pytest
from support.media import CountingSource

from core.errors import MediaError
from core.media import FrameCache, open_media

FRAME_BYTES = 32 * 16 * 3


def test_cache_is_bounded_in_bytes_and_evicts_least_recently_used() -> None:
    source = CountingSource()
    with FrameCache(source, max_bytes=5 * FRAME_BYTES, read_ahead=0) as cache:
        for index in range(20):
            assert cache.get(index)[0, 0, 0] == index
            assert cache.stats().bytes_used <= 5 * FRAME_BYTES
        assert cache.stats().frames == 5
        assert all(i in cache for i in range(15, 20)) and 14 not in cache
        cache.get(15)  # touch: 15 becomes most recent, so 16 is evicted next
        cache.get(30)
        assert 15 in cache and 16 not in cache
        reads_before = len(source.reads)
        cache.get(17)
        assert len(source.reads) == reads_before, "a cached frame is not decoded again"


def test_a_frame_larger_than_the_cache_is_returned_but_not_kept() -> None:
    source = CountingSource(width=64, height=64)
    with FrameCache(source, max_bytes=1000, read_ahead=4) as cache:
        assert cache.read_ahead == 0
        assert cache.get(3).shape == (64, 64, 3)
        assert cache.stats().bytes_used == 0


def test_read_ahead_forward_then_backward() -> None:
    source = CountingSource(frames=100)
    with FrameCache(source, max_bytes=50 * FRAME_BYTES, read_ahead=6) as cache:
        cache.get(10)
        assert cache.wait_idle()
        assert all(i in cache for i in range(11, 17)) and 17 not in cache
        for index in range(11, 17):
            cache.get(index)
        cache.wait_idle()
        assert cache.stats().hits >= 6
        # moving backwards flips the read-ahead direction
        cache.get(60)
        cache.get(59)
        assert cache.wait_idle()
        assert all(i in cache for i in range(53, 59))


def test_set_direction_starts_backward_read_ahead_on_the_first_get() -> None:
    source = CountingSource(frames=40)
    with FrameCache(source, max_bytes=50 * FRAME_BYTES, read_ahead=4) as cache:
        cache.set_direction(-1)
        cache.get(20)
        assert cache.wait_idle()
        assert all(i in cache for i in range(16, 20)) and 21 not in cache


def test_read_ahead_never_exceeds_the_byte_bound() -> None:
    source = CountingSource(frames=200)
    with FrameCache(source, max_bytes=6 * FRAME_BYTES, read_ahead=50) as cache:
        assert cache.read_ahead == 4  # clamped: room for the shown and the requested frame
        for index in range(0, 200, 3):
            cache.get(index)
            assert cache.stats().bytes_used <= 6 * FRAME_BYTES
        cache.wait_idle()
        assert cache.stats().bytes_used <= 6 * FRAME_BYTES


def test_cached_frames_are_read_only() -> None:
    with FrameCache(CountingSource(), max_bytes=10 * FRAME_BYTES) as cache:
        frame = cache.get(1)
        with pytest.raises(ValueError):
            frame[0, 0, 0] = 9
        assert frame.copy().flags.writeable


def test_broken_frame_errors_reach_the_caller_not_the_read_ahead_thread() -> None:
    source = CountingSource(broken=(5,))
    with FrameCache(source, max_bytes=20 * FRAME_BYTES, read_ahead=8) as cache:
        cache.get(2)
        assert cache.wait_idle()
        assert 6 in cache and 5 not in cache
        with pytest.raises(MediaError, match="Frame 5"):
            cache.get(5)


def test_many_threads_get_exact_frames_from_one_video(videos_dir: Path) -> None:
    path = videos_dir / "bikes.mp4"
    with open_media(path) as reference_source:
        reference = {i: reference_source.read(i) for i in range(0, 60)}
    errors: list[str] = []
    with open_media(path) as source, FrameCache(source, max_bytes=20 * 640 * 272 * 3, read_ahead=4) as cache:

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            for step in range(25):
                # odd threads jump around, even threads play forward from different points
                index = rng.randrange(60) if seed % 2 else (seed * 13 + step) % 60
                if not np.array_equal(cache.get(index), reference[index]):
                    errors.append(f"frame {index}")

        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert cache.stats().bytes_used <= 20 * 640 * 272 * 3
    assert errors == []


def test_playback_through_the_cache_matches_the_source(videos_dir: Path) -> None:
    with open_media(videos_dir / "bikes.mp4") as source, open_media(videos_dir / "bikes.mp4") as plain:
        with FrameCache(source, max_bytes=8 * 640 * 272 * 3, read_ahead=4) as cache:
            for index in range(30):
                assert np.array_equal(cache.get(index), plain.read(index))
            assert cache.stats().read_ahead_loaded > 0


def test_closed_cache_refuses_reads_and_stops_its_thread() -> None:
    cache = FrameCache(CountingSource(), max_bytes=10 * FRAME_BYTES, read_ahead=2)
    cache.get(0)
    cache.close()
    assert cache.stats().frames == 0
    with pytest.raises(MediaError, match="closed"):
        cache.get(1)


@pytest.mark.soak
def test_long_playback_loops_keep_memory_bounded(videos_dir: Path) -> None:
    """Loop the 720p video 20 times forward and backward through one cache: bytes never exceed the bound."""
    bound = 24 * 1280 * 720 * 3
    with (open_media(videos_dir / "bigbuckbunny.mp4") as source,
          FrameCache(source, max_bytes=bound, read_ahead=8) as cache):
        count = source.info.frame_count
        for loop in range(20):
            order = range(count) if loop % 2 == 0 else range(count - 1, -1, -1)
            for index in order:
                assert cache.get(index).shape == (720, 1280, 3)
                assert cache.stats().bytes_used <= bound

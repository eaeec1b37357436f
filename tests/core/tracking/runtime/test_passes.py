"""Single-threaded network passes side by side (core.tracking.runtime.passes): the split of targets into
passes, the order of results, torch's thread count restored, and the same boxes as one pass."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from support.datasets import read_sequence

from core.tracking import SiamCrossTracker
from core.tracking.runtime.passes import PassRunner, is_small, split_evenly, torch_threads


@pytest.mark.parametrize("count", range(1, 40))
@pytest.mark.parametrize("max_batch, workers", [(4, 1), (4, 2), (4, 3), (2, 2), (None, 1)])
def test_split_covers_every_target_once_within_the_cap(count, max_batch, workers):
    ranges = split_evenly(count, max_batch, workers)
    assert [i for r in ranges for i in r] == list(range(count))
    sizes = [len(r) for r in ranges]
    assert max(sizes) - min(sizes) <= 1
    if max_batch:
        assert max(sizes) <= max_batch
    if count >= workers:
        assert len(ranges) >= workers  # every worker gets a pass


def test_split_examples():
    assert [len(r) for r in split_evenly(5, 4, 2)] == [3, 2]
    assert [len(r) for r in split_evenly(16, 4, 2)] == [4, 4, 4, 4]
    assert [len(r) for r in split_evenly(2, 4, 2)] == [1, 1]
    assert [len(r) for r in split_evenly(3, None, 1)] == [3]
    assert split_evenly(0, 4, 2) == []


def test_parallel_map_keeps_the_order_and_uses_other_threads():
    runner = PassRunner(parallel=True, workers=2)
    seen: dict[int, str] = {}

    def work(r: range) -> list[int]:
        seen[r.start] = threading.current_thread().name
        return list(r)

    ranges = split_evenly(9, 2, 2)
    try:
        assert runner.map(work, ranges) == [list(r) for r in ranges]
    finally:
        runner.close()
    main = threading.current_thread().name
    assert {seen[r.start] for r in ranges[0::2]} == {main}
    assert all(seen[r.start] != main for r in ranges[1::2])


def test_lanes_follow_the_callers_torch_threads():
    runner = PassRunner(parallel=True)
    with torch_threads(3), runner.step():
        assert runner.workers == 3
    with torch_threads(1), runner.step():
        assert runner.workers == 1


def test_a_failing_pass_fails_the_map_after_every_lane_finished():
    runner = PassRunner(parallel=True, workers=2)
    finished = []

    def work(r: range) -> int:
        if r.start == 0:
            raise ValueError("bad crop")
        finished.append(r.start)
        return r.start

    try:
        with pytest.raises(ValueError):
            runner.map(work, split_evenly(4, 1, 2))
        assert sorted(finished) == [1, 3]
    finally:
        runner.close()


def test_serial_runner_stays_on_the_calling_thread():
    runner = PassRunner(parallel=False, workers=4)
    assert runner.workers == 1
    names = runner.map(lambda r: threading.current_thread().name, split_evenly(8, 2, runner.workers))
    assert set(names) == {threading.current_thread().name}


def test_torch_threads_are_restored_even_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError):
        with torch_threads(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_lite_is_small_and_r50_is_not():
    from core.model import SiamCrossNet, lite_config
    from core.model.config import NAMED_CONFIGS

    assert is_small(SiamCrossNet(lite_config(), pretrained_backbone=False))
    assert not is_small(SiamCrossNet(NAMED_CONFIGS["r50"](), pretrained_backbone=False))


@pytest.fixture(scope="module")
def frames(seqs_dir):
    return read_sequence(seqs_dir, "Car4", 3)


def test_parallel_passes_give_the_boxes_of_serial_passes(frames):
    images, box = frames
    height, width = images[0].shape[:2]
    rng = np.random.default_rng(1)
    boxes = [box] + [(float(rng.uniform(0, width - 60)), float(rng.uniform(0, height - 50)), 60.0, 50.0)
                     for _ in range(8)]
    before = torch.get_num_threads()
    serial = SiamCrossTracker.from_pretrained("lite", device="cpu")
    serial._runner._passes = PassRunner(parallel=False, workers=1)
    parallel = SiamCrossTracker.from_pretrained("lite", device="cpu")
    parallel._runner._passes = PassRunner(parallel=True, workers=2)
    try:
        mine = [parallel.init_target(images[0], b) for b in boxes]
        theirs = [serial.init_target(images[0], b) for b in boxes]
        for image in images[1:]:
            for a, b in zip(mine, theirs):  # the same search windows every frame
                a.center_xy, a.size_wh = b.center_xy, b.size_wh
            got, want = parallel.track_many(image, mine), serial.track_many(image, theirs)
            for g, w in zip(got, want):
                np.testing.assert_allclose(g.box_xywh, w.box_xywh, atol=1e-3)
                np.testing.assert_allclose(g.maps.score, w.maps.score, atol=2e-5)
                assert g.score == pytest.approx(w.score, abs=2e-5)
    finally:
        parallel._runner._passes.close()
    assert torch.get_num_threads() == before

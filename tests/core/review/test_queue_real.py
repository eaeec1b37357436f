"""The review queue on real data: siamcross-lite forward runs over every sequence of
../shared/data/seqs (the queue's rule was chosen on train/), through the propagation engine as
the app runs them, all frames ranked together: the claim `python -m benchmarks.review_bench`
prints (README)."""
from __future__ import annotations

import numpy as np
import pytest

from core.datasets import load_sequences
from core.evaluation.review_queue import head_share, queue_ranking, review_rows, score_ranking, track_forward

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


@pytest.fixture(scope="module")
def runs(seqs_dir):
    from core.tracking import SiamCrossTracker

    tracker = SiamCrossTracker.from_pretrained("lite", device="cpu")
    sequences = load_sequences(seqs_dir, "otb")  # the loader the app and `siamcross eval` use
    assert len(sequences) >= 10
    return [track_forward(s, tracker) for s in sequences]


@pytest.fixture(scope="module")
def rows(runs):
    return review_rows(runs)


def test_every_tracked_frame_stores_the_box_spread(runs):
    spreads = [label.box_spread for run in runs for label in run.track.frames.values() if not label.is_human]
    assert spreads and all(s is not None and 0.0 <= s <= 1.0 for s in spreads)
    assert np.std(spreads) > 0.01  # a measurement, not a constant


def test_the_first_5_percent_of_the_queue_holds_half_of_the_wrong_frames(rows):
    assert rows.wrong.sum() >= 50
    queue = head_share(queue_ranking(rows), rows.wrong, rows.groups, rows.frames, 0.05)
    assert queue.held >= 0.5, queue
    # beside the raw score the 5% head is a near tie on these runs (a few frames either way);
    # the queue's margin shows at 10%, below


def test_the_first_10_percent_holds_more_wrong_frames_than_ranking_by_score(rows):
    queue = head_share(queue_ranking(rows), rows.wrong, rows.groups, rows.frames, 0.10)
    score = head_share(score_ranking(rows), rows.wrong, rows.groups, rows.frames, 0.10)
    assert queue.held > score.held, (queue, score)

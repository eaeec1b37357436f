"""The review queue on real data: siamcross-lite forward runs over two OTB sequences of
../shared/data/seqs (never used to fit the weights), through the propagation engine as the app
runs them. The whole folder is measured by ``python -m benchmarks.review_bench`` (README)."""
from __future__ import annotations

import pytest

from core.datasets.loader import read_otb
from core.evaluation.review_queue import head_share, queue_ranking, review_rows, score_ranking, track_forward
from core.review.weights import WEIGHTS

pytestmark = [
    pytest.mark.slow, pytest.mark.shared_data,
    # core/review/weights.py was fitted on runs of the EfficientNet-Lite0 lite; on the new lite's runs
    # the queue ranks wrong frames below the raw score (seqs/: 17% vs 37% of them in the first 5%;
    # refitted on train/ with the provisional weights: 40% vs 37% at 5%, 46% vs 63% at 10%). Refit
    # with the final lite weights and revisit the cues; strict, so this fails once the queue works again.
    pytest.mark.xfail(strict=True, reason="review weights not yet fitted for the new lite"),
]
SEQUENCES = ("David", "Jogging-1")  # one the tracker keeps, one it loses (and stops on)


@pytest.fixture(scope="module")
def rows(seqs_dir):
    from core.tracking import SiamCrossTracker

    tracker = SiamCrossTracker.from_pretrained("lite", device="cpu")
    sequences = [s for s in read_otb(seqs_dir) if s.name in SEQUENCES]
    assert len(sequences) == len(SEQUENCES)
    runs = [track_forward(s, tracker) for s in sequences]
    assert any(run.stops for run in runs)  # DragonBaby's pass stops on low scores and says so
    return review_rows(runs)


def test_the_first_5_percent_of_the_queue_holds_half_of_the_wrong_frames(rows):
    assert rows.wrong.sum() >= 10
    head = head_share(queue_ranking(rows, WEIGHTS), rows.wrong, rows.groups, rows.frames, 0.05)
    assert head.held >= 0.5, head
    assert head.precision >= 0.5, head  # ] lands on a wrong box more often than not


def test_the_first_10_percent_holds_more_wrong_frames_than_ranking_by_score(rows):
    queue = head_share(queue_ranking(rows, WEIGHTS), rows.wrong, rows.groups, rows.frames, 0.10)
    score = head_share(score_ranking(rows), rows.wrong, rows.groups, rows.frames, 0.10)
    assert queue.held > score.held, (queue, score)

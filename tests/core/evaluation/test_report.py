"""Report half of OPE on hand-made runs: summary rules, strict JSON, tables."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.evaluation.ope import SequenceResult
from core.evaluation.report import detail_table, report_dict, score_runs, side_by_side_table
from core.media.sequence import Sequence

GT = np.array([[0, 0, 10, 10]] * 4, float)


def _result(tracker: str, sequence: str, boxes: np.ndarray, seconds: float) -> SequenceResult:
    times = np.full(len(boxes), seconds)
    return SequenceResult(tracker, sequence, boxes, np.ones(len(boxes)), times)


def _runs():
    sequences = [Sequence(name="A", boxes=GT[:2]), Sequence(name="B", boxes=GT)]
    perfect = {"perfect": [_result("perfect", "A", GT[:2], 0.01), _result("perfect", "B", GT, 0.02)]}
    # "lost" keeps the init box on frame 0 (counted, as ExperimentOTB does) and misses the rest
    lost_b = np.vstack([GT[:1], GT[1:] + 100])
    lost = {"lost": [_result("lost", "A", GT[:2], 0.0), _result("lost", "B", lost_b, 0.1)]}
    return sequences, {**perfect, **lost}


def test_summary_row_and_fps_follow_the_toolkits():
    sequences, runs = _runs()
    perfect, lost = score_runs(runs, sequences)
    assert perfect.mean.success_auc == pytest.approx(20 / 21) and perfect.mean.ao == 1.0  # IoU 1 is not > 1
    assert perfect.fps == {"A": pytest.approx(100.0), "B": pytest.approx(50.0)}
    assert perfect.mean_fps == pytest.approx(75.0)  # mean of per-sequence fps
    assert lost.sequences["B"].ao == pytest.approx(0.25)
    assert lost.mean.ao == pytest.approx(3 / 6)  # pooled: frames A0 A1 B0 hit, B1-B3 miss
    assert lost.mean.success_auc == pytest.approx((1.0 + 0.25) / 2 * 20 / 21)  # per-sequence mean
    assert np.isnan(lost.fps["A"])  # no time measured -> no fps, not infinity


def test_json_is_strict_and_tables_name_every_row():
    sequences, runs = _runs()
    reports = score_runs(runs, sequences)
    text = json.dumps(report_dict(reports, ["KCF skipped"], {"max_frames": None}), allow_nan=False)
    data = json.loads(text)
    assert data["trackers"]["lost"]["sequences"]["A"]["fps"] is None
    assert data["notes"] == ["KCF skipped"] and "success_auc" in data["conventions"]
    table = detail_table(reports).splitlines()
    assert len(table) == 2 + 4 + 2  # header, rule, 2 sequences x 2 trackers, 2 summary rows
    markdown = side_by_side_table(reports, markdown=True).splitlines()
    assert markdown[0] == "| sequence | perfect | lost |"
    assert markdown[-2] == "| mean | 0.952 | 0.595 |"

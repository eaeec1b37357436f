"""Our OPE numbers equal the got10k toolkit's and shared/tools/ope.py's on real tracker output.

A real peer tracks 60 frames of two shared OTB sequences through ``run_ope``; the same
predictions then go through got10k's own report code (ExperimentOTB, ExperimentGOT10k) and
the outside yardstick ``ope.py``; every number must agree to 1e-6.
"""
from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from got10k.experiments.got10k import ExperimentGOT10k
from got10k.experiments.otb import ExperimentOTB

from core.evaluation.metrics import iou, mean_metrics, sequence_metrics
from core.evaluation.ope import load_eval_sequences, run_ope
from core.evaluation.peers import available_peers, make_peer
from core.evaluation.report import score_runs

SEQUENCES = ("Deer", "Man")
FRAMES = 60


@pytest.fixture(scope="module")
def real_run(seqs_dir):
    """(sequences, results) of NanoTrack v2 (MIL when its ONNX files are absent) on real frames."""
    kind = "nano-v2" if "nano-v2" in available_peers() else "mil"
    by_name = {s.name: s for s in load_eval_sequences(seqs_dir, "otb")}
    sequences = [by_name[name] for name in SEQUENCES]
    results = run_ope(lambda: make_peer(kind), sequences, max_frames=FRAMES, tracker_name=kind)
    truncated = {s.name: s for s in sequences}
    return truncated, results


class _Dataset:
    """What got10k's report() reads from a dataset: iteration, indexing by name and seq_names."""

    def __init__(self, items, names):
        self.items, self.seq_names = items, names

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, key):
        return self.items[self.seq_names.index(key) if isinstance(key, str) else key]

    def __len__(self):
        return len(self.items)


def _ground_truth(sequences, result):
    return sequences[result.sequence].boxes[: len(result.boxes)]


def test_the_run_really_tracked(real_run):
    _, results = real_run
    for result in results:
        assert len(result.boxes) == FRAMES and np.isfinite(result.boxes).all()
        assert not np.allclose(result.boxes[1:], result.boxes[0])  # boxes moved
        assert result.fps > 0


def test_success_and_precision_equal_got10k_experiment_otb(real_run, tmp_path):
    sequences, results = real_run
    experiment = object.__new__(ExperimentOTB)  # its __init__ would download OTB
    experiment.nbins_iou, experiment.nbins_ce = 21, 51
    experiment.result_dir, experiment.report_dir = str(tmp_path / "results"), str(tmp_path / "reports")
    experiment.dataset = _Dataset([(None, _ground_truth(sequences, r)) for r in results], [r.sequence for r in results])
    os.makedirs(tmp_path / "results" / "ours" / "times")
    for r in results:
        np.savetxt(tmp_path / "results" / "ours" / f"{r.sequence}.txt", r.boxes, fmt="%.17g", delimiter=",")
    performance = experiment.report(["ours"])["ours"]

    report = score_runs({"ours": results}, [sequences[r.sequence] for r in results])[0]
    for r in results:
        theirs = performance["seq_wise"][r.sequence]
        ours = report.sequences[r.sequence]
        np.testing.assert_allclose(ours.success_curve, theirs["success_curve"], atol=1e-6)
        np.testing.assert_allclose(ours.precision_curve, theirs["precision_curve"], atol=1e-6)
        assert ours.success_auc == pytest.approx(theirs["success_score"], abs=1e-6)
        assert ours.precision_20 == pytest.approx(theirs["precision_score"], abs=1e-6)
        assert ours.sr50 == pytest.approx(theirs["success_rate"], abs=1e-6)
    assert report.mean.success_auc == pytest.approx(performance["overall"]["success_score"], abs=1e-6)
    assert report.mean.precision_20 == pytest.approx(performance["overall"]["precision_score"], abs=1e-6)
    np.testing.assert_allclose(report.mean.success_curve, performance["overall"]["success_curve"], atol=1e-6)


def test_ao_and_sr_equal_got10k_experiment_got10k(real_run, tmp_path):
    """GOT-10k scores frames 1.. (not the init frame) inside the image bound; give ours the same frames."""
    sequences, results = real_run
    experiment = object.__new__(ExperimentGOT10k)  # its __init__ needs the GOT-10k folders
    experiment.subset, experiment.nbins_iou = "val", 101
    experiment.result_dir, experiment.report_dir = str(tmp_path / "results"), str(tmp_path / "reports")
    items = []
    for r in results:
        height, width = sequences[r.sequence].read_frame(0).shape[:2]
        meta = {"resolution": f"({width}, {height})", "cover": np.full(len(r.boxes), 8)}
        items.append((None, _ground_truth(sequences, r), meta))
        folder = tmp_path / "results" / "ours" / r.sequence
        folder.mkdir(parents=True)
        np.savetxt(folder / f"{r.sequence}_001.txt", r.boxes, fmt="%.17g", delimiter=",")
        np.savetxt(folder / f"{r.sequence}_time.txt", r.times[1:] + 1e-9, fmt="%.17g")
    experiment.dataset = _Dataset(items, [r.sequence for r in results])
    performance = experiment.report(["ours"])["ours"]

    per_sequence, pooled = [], []
    for r, (_, gt, meta) in zip(results, items):
        bound = ast.literal_eval(meta["resolution"])
        assert (r.boxes[:, 0] + r.boxes[:, 2] <= bound[0]).all()  # peers clip to the frame, so no bound effect
        metrics = sequence_metrics(r.boxes[1:], gt[1:])
        theirs = performance["seq_wise"][r.sequence]
        assert metrics.ao == pytest.approx(theirs["ao"], abs=1e-6)
        assert metrics.sr50 == pytest.approx(theirs["sr"], abs=1e-6)
        per_sequence.append(metrics)
        pooled.append(iou(r.boxes[1:], gt[1:]))
    summary = mean_metrics(per_sequence, np.concatenate(pooled))
    assert summary.ao == pytest.approx(performance["overall"]["ao"], abs=1e-6)
    assert summary.sr50 == pytest.approx(performance["overall"]["sr"], abs=1e-6)


def _shared_ope_module(shared_data: Path):
    path = shared_data.parent / "tools" / "ope.py"
    if not path.is_file():
        pytest.skip(f"shared tools not available: {path}")
    spec = importlib.util.spec_from_file_location("shared_ope", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scores_equal_shared_ope_tool_on_the_same_predictions(real_run, shared_data):
    shared_ope = _shared_ope_module(shared_data)
    sequences, results = real_run
    report = score_runs({"ours": results}, [sequences[r.sequence] for r in results])[0]
    for r in results:
        auc, p20, mean_iou = shared_ope.scores(r.boxes, _ground_truth(sequences, r))
        ours = report.sequences[r.sequence]
        assert ours.success_auc == pytest.approx(auc, abs=1e-6)
        assert ours.precision_20 == pytest.approx(p20, abs=1e-6)
        assert ours.ao == pytest.approx(mean_iou, abs=1e-6)


def test_our_otb_reading_equals_the_shared_tool(seqs_dir, shared_data):
    shared_ope = _shared_ope_module(shared_data)
    ours = {s.name: s for s in load_eval_sequences(seqs_dir, "otb")}
    for name in SEQUENCES:
        frames, gt = shared_ope.load_sequence(str(seqs_dir / name))
        np.testing.assert_array_equal(ours[name].boxes, gt)
        assert [str(p) for p in ours[name].frames] == frames

"""``siamcross eval`` end to end on real shared sequences, plus run_ope's cancel and partial results."""
from __future__ import annotations

import importlib.util
import json

import cv2
import numpy as np
import pytest

from core.cli import main
from core.errors import Cancelled
from core.evaluation.metrics import sequence_metrics
from core.evaluation.ope import load_eval_sequences, run_ope
from core.evaluation.peers import available_peers
from core.tracking import IdentityTracker


def _eval(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["eval", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_has_exact_identity_numbers_and_only_json_on_stdout(capsys, seqs_dir):
    code, out, err = _eval(capsys, seqs_dir, "--model", "identity", "--peers", "none",
                           "--only", "Deer,Man", "--max-frames", "25", "--json")
    assert code == 0
    report = json.loads(out)  # nothing but JSON on stdout
    assert "identity: Man 25/25" in err  # progress went to stderr
    assert report["settings"]["sequences"] == ["Deer", "Man"]
    identity = report["trackers"]["identity"]
    sequences = {s.name: s for s in load_eval_sequences(seqs_dir, "otb")}
    for name in ("Deer", "Man"):
        gt = sequences[name].boxes[:25]
        expected = sequence_metrics(np.repeat(gt[:1], 25, axis=0), gt)  # identity keeps the init box
        got = identity["sequences"][name]
        assert got["frames"] == 25
        for key in ("success_auc", "precision_20", "norm_precision", "ao", "sr50", "sr75"):
            assert got[key] == pytest.approx(getattr(expected, key), abs=1e-12), key
    mean_auc = np.mean([identity["sequences"][n]["success_auc"] for n in ("Deer", "Man")])
    assert identity["mean"]["success_auc"] == pytest.approx(mean_auc)
    assert len(identity["curves"]["success"]) == 21 and len(identity["curves"]["precision"]) == 51


def test_table_puts_trackers_side_by_side_and_writes_plots(capsys, seqs_dir, nanotrack_dir, tmp_path):
    if "nano-v2" not in available_peers():
        pytest.skip("NanoTrack v2 cannot run here")
    plots = tmp_path / "plots"
    code, out, err = _eval(capsys, seqs_dir, "--model", "identity", "--peers", "nano-v2,kcf",
                           "--only", "Man", "--max-frames", "20", "--plots", plots)
    assert code == 0
    lines = out.splitlines()
    assert any(line.startswith("Man") and "NanoTrack v2" in line for line in lines)
    assert any(line.startswith("mean") and "identity" in line for line in lines)
    header = next(line for line in lines
                  if line.startswith("sequence") and "identity" in line and "NanoTrack v2" in line)
    assert header  # the side-by-side table has one column per tracker
    if "kcf" not in available_peers():
        assert "KCF skipped" in err
    for name in ("success_plot.png", "precision_plot.png", "norm_precision_plot.png"):
        image = cv2.imread(str(plots / name))
        assert image is not None and image.shape[0] > 100 and image.std() > 10


@pytest.mark.parametrize("argv, message", [
    (["{missing}"], "not found"),
    (["{seqs}", "--only", "NoSuchSequence"], "NoSuchSequence"),
    (["{seqs}", "--peers", "siamrpn"], "Unknown peer"),
    (["{seqs}", "--max-frames", "1"], "--max-frames"),
    (["{seqs}", "--model", "none", "--peers", "none"], "Nothing to evaluate"),
])
def test_user_mistakes_are_one_line_and_exit_2(capsys, seqs_dir, tmp_path, argv, message):
    argv = [a.format(missing=tmp_path / "nope", seqs=seqs_dir) for a in argv]
    code, out, err = _eval(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_split_file_chooses_the_sequences(capsys, seqs_dir, tmp_path):
    split = tmp_path / "test_split.txt"
    split.write_text("# held out\nMan\n")
    code, out, _ = _eval(capsys, seqs_dir, "--model", "identity", "--peers", "none", "--split", split,
                         "--max-frames", "5", "--json")
    assert code == 0 and list(json.loads(out)["trackers"]["identity"]["sequences"]) == ["Man"]
    code, _, err = _eval(capsys, seqs_dir, "--model", "identity", "--split", split, "--only", "Deer")
    assert code == 2 and "not in the split file" in err


class _CancelAfter:
    """Becomes cancelled once `frames` progress reports have arrived."""

    def __init__(self, frames: int) -> None:
        self.frames, self.seen = frames, 0

    @property
    def cancelled(self) -> bool:
        return self.seen >= self.frames

    def __call__(self, progress) -> None:
        self.seen += 1


def test_cancel_stops_between_frames_and_keeps_finished_sequences(seqs_dir):
    sequences = [s for s in load_eval_sequences(seqs_dir, "otb") if s.name in ("Deer", "Man")]
    cancel = _CancelAfter(frames=12)
    with pytest.raises(Cancelled) as stopped:
        run_ope(IdentityTracker, sequences, max_frames=10, progress=cancel, cancel=cancel)
    partial = stopped.value.partial
    assert [r.sequence for r in partial] == [sequences[0].name] and len(partial[0].boxes) == 10
    assert cancel.seen == 12  # stopped right away, not at the end of the run


def test_live_numbers_agree_with_the_shared_ope_tool(capsys, seqs_dir, shared_data, nanotrack_dir):
    """Same tracker, same frames, two evaluators: `siamcross eval` and shared/tools/ope.py.

    NanoTrack is deterministic (MIL is not: two MIL runs of the same frames differ, so MIL is
    compared on identical predictions in test_evaluation_toolkit). On Man and Human3 the boxes stay
    inside the frame, so clipping them (TrackResult's promise, ope.py does not) changes nothing.
    """
    path = shared_data.parent / "tools" / "ope.py"
    if not path.is_file() or "nano-v2" not in available_peers():
        pytest.skip("shared tools or NanoTrack v2 not available")
    spec = importlib.util.spec_from_file_location("shared_ope", path)
    shared_ope = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shared_ope)
    code, out, _ = _eval(capsys, seqs_dir, "--model", "none", "--peers", "nano-v2", "--only", "Man,Human3",
                         "--max-frames", "40", "--json")
    assert code == 0
    ours = json.loads(out)["trackers"]["NanoTrack v2"]["sequences"]
    for name in ("Man", "Human3"):
        frames, gt = shared_ope.load_sequence(str(seqs_dir / name), 40)
        tracker = shared_ope.OpenCVTracker(f"Nano={nanotrack_dir / 'v2'}")
        pred, _ = shared_ope.run(tracker, frames, gt)
        auc, p20, mean_iou = shared_ope.scores(pred, gt)
        assert ours[name]["success_auc"] == pytest.approx(auc, abs=1e-6)
        assert ours[name]["precision_20"] == pytest.approx(p20, abs=1e-6)
        assert ours[name]["ao"] == pytest.approx(mean_iou, abs=1e-6)


def test_got10k_layout_leaves_absent_frames_out(capsys, seqs_dir, tmp_path):
    """A GOT-10k sequence (frames linked from Man) whose absence.label marks frames 5-9 absent."""
    seq_dir = tmp_path / "GOT-10k_Val_000001"
    seq_dir.mkdir()
    man = load_eval_sequences(seqs_dir, "otb")
    man = next(s for s in man if s.name == "Man")
    count = 20
    for index, frame in enumerate(man.frames[:count]):
        (seq_dir / f"{index + 1:08d}.jpg").symlink_to(frame)
    absent = np.zeros(count, int)
    absent[5:10] = 1
    # the absent rows keep real boxes, so only the absence flag can leave them out
    np.savetxt(seq_dir / "groundtruth.txt", man.boxes[:count], fmt="%.4f", delimiter=",")
    np.savetxt(seq_dir / "absence.label", absent, fmt="%d")
    np.savetxt(seq_dir / "cover.label", np.where(absent, 0, 8), fmt="%d")
    code, out, err = _eval(capsys, tmp_path, "--format", "got10k", "--model", "identity", "--peers", "none", "--json")
    assert code == 0, err
    got = json.loads(out)["trackers"]["identity"]["sequences"]["GOT-10k_Val_000001"]
    keep = absent == 0
    expected = sequence_metrics(np.repeat(man.boxes[:1], count, axis=0)[keep], man.boxes[:count][keep])
    assert got["frames"] == 15
    assert got["ao"] == pytest.approx(expected.ao, abs=1e-6)
    assert got["success_auc"] == pytest.approx(expected.success_auc, abs=1e-6)

"""``siamcross train``: a tiny real run through the CLI, resume, weights the tracker loads, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from support.paths import PROJECT_ROOT

from core.cli import main
from core.training.checkpoint import load_checkpoint


@pytest.fixture()
def tiny_config(tmp_path, train_dir, coco128_dir):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({
        "model": "lite", "seed": 1,
        "data": {"sources": [{"path": str(train_dir), "layout": "otb", "only": ["Gull1"]},
                             {"path": str(coco128_dir), "layout": "coco", "weight": 0.5}]},
        "optim": {"lr": 0.01, "warmup_epochs": 0},
        "schedule": {"epochs": 1, "batch_size": 2, "log_every": 1, "checkpoint_every": 100},
        "cache": {"enabled": True, "pairs": 4, "dir": str(tmp_path / "cache"), "batch_size": 4},
    }))
    return path


def test_train_writes_checkpoint_and_weights_then_resumes(tiny_config, tmp_path, capsys, seqs_dir):
    out = tmp_path / "run"
    assert main(["train", str(tiny_config), "--out", str(out), "--threads", "1"]) == 0
    err = capsys.readouterr().err
    assert "step 2/2" in err and "cls=" in err and "samples/s" in err
    checkpoint = load_checkpoint(out / "checkpoints" / "last.pt")
    assert checkpoint["position"]["step"] == 2 and checkpoint["config"]["cache"]["pairs"] == 4

    assert main(["train", str(tiny_config), "--out", str(out), "--threads", "1", "--set", "schedule.epochs=2",
                 "--resume", str(out / "checkpoints" / "last.pt")]) == 0
    assert "resumed at step 2" in capsys.readouterr().err
    assert load_checkpoint(out / "checkpoints" / "last.pt")["position"]["step"] == 4

    weights = torch.load(out / "siamcross-lite.pt", weights_only=True)
    assert weights["meta"]["steps"] == 4 and not weights["includes_backbone"]
    assert not any(key.startswith("backbone.") for key in weights["state_dict"])

    from core.datasets import load_sequences
    from core.tracking import SiamCrossTracker

    [man] = [s for s in load_sequences(seqs_dir, "otb") if s.name == "Man"]
    tracker = SiamCrossTracker.from_pretrained(str(out / "siamcross-lite.pt"), device="cpu")
    tracker.init(man.read_frame(0), tuple(man.boxes[0]))
    result = tracker.track(man.read_frame(1))
    assert np.isfinite(result.box_xywh).all() and 0.0 <= result.score <= 1.0


def test_bad_config_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "does not exist" in err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schedule": {"epochs": "many"}}))
    assert main(["train", str(bad)]) == 2
    assert "must be a number" in capsys.readouterr().err


def test_shipped_lite_weights_load_and_track_a_held_out_sequence(seqs_dir, recwarn):

    from core.datasets import load_sequences
    from core.evaluation.metrics import iou
    from core.tracking import SiamCrossTracker

    shipped = PROJECT_ROOT / "resources" / "models" / "siamcross-lite.pt"
    payload = torch.load(shipped, weights_only=True)
    assert shipped.stat().st_size < 30 * 2**20 and payload["config"]["name"] == "siamcross-lite"
    assert payload["meta"]["steps"] > 0
    [man] = [s for s in load_sequences(seqs_dir, "otb") if s.name == "Man"]  # held out from training
    tracker = SiamCrossTracker.from_pretrained("lite", device="cpu")
    assert not [w for w in recwarn if "untrained" in str(w.message)]
    tracker.init(man.read_frame(0), tuple(man.boxes[0]))
    overlaps = [float(iou(np.asarray([tracker.track(man.read_frame(i)).box_xywh]), man.boxes[i:i + 1])[0])
                for i in range(1, 16)]
    assert np.mean(overlaps) > 0.5, overlaps

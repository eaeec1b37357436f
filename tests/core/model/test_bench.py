"""`siamcross bench`: real measurements of the real models (no timing asserts)."""
from __future__ import annotations

import json

import pytest

from core.cli import main
from core.model import SiamCrossNet, lite_config
from core.model.profiling import ModelProfile, count_parameters, format_table

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_bench_json_reports_the_lite_model(capsys):
    assert main(["bench", "--json", "--configs", "lite", "--repeats", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    (row,) = report["models"]
    total, trainable = count_parameters(SiamCrossNet(lite_config(), pretrained_backbone=False))
    assert row["name"] == "siamcross-lite"
    assert (row["params_total"], row["params_trainable"]) == (total, trainable)
    # NanoTrack v2's backbone on a 255 search crop and the 16x16 heads: about 0.2 GFLOPs
    assert 0.1 < row["gflops"] < 1.0
    for stage in ("backbone_ms", "heads_ms", "frame_ms", "frame_cpu_ms", "template_ms"):
        assert row[stage] > 0
    assert 0 <= row["neck_ms"] < row["heads_ms"]  # lite has no neck (neck_reduce off): ~0 ms
    assert row["threads"] >= 1 and row["repeats"] == 1


def test_table_lists_each_model_and_bad_config_is_one_line(capsys):
    profile = ModelProfile(name="siamcross-lite", params_total=1_234_567, params_trainable=1_000_000, gflops=2.5,
                           backbone_ms=20.0, neck_ms=0.3, heads_ms=8.0, postprocess_ms=None, frame_ms=28.5,
                           frame_cpu_ms=50.1, template_ms=6.0, threads=2, repeats=5, device="cpu")
    lines = format_table([profile]).splitlines()
    assert lines[0].split() == ["model", "params", "trainable", "GFLOPs", "backbone", "neck", "heads", "post",
                                "frame", "frame-cpu", "template"]
    assert lines[1].split() == ["siamcross-lite", "1.23M", "1.00M", "2.50", "20.0", "0.30", "8.0", "-", "28.5", "50.1",
                                "6.0"]
    assert main(["bench", "--configs", "lite,vgg"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["siamcross bench: Unknown model config vgg; choose from lite, r50."]

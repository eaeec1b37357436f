"""`siamcross track` on a real video: one CSV row per frame; bad input is one line, exit 2."""
from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from support.paths import PROJECT_ROOT

from core.cli import main

ROOT = PROJECT_ROOT


def test_track_writes_one_row_per_frame(videos_dir, tmp_path):
    out = tmp_path / "boxes.csv"
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "track", str(videos_dir / "bikes.mp4"), "--box", "280,90,80,100",
         "--device", "cpu", "--max-frames", "30", "--start", "5", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["frame", "x", "y", "w", "h", "score"]
    assert [int(r[0]) for r in rows[1:]] == list(range(5, 35))
    assert rows[1][1:] == ["280.00", "90.00", "80.00", "100.00", "1.0000"]
    for row in rows[1:]:
        x, y, w, h, score = (float(v) for v in row[1:])
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= 640.01 and y + h <= 272.01
        assert 0.0 <= score <= 1.0
    assert "model" in done.stderr and "end-to-end" in done.stderr and "fps" in done.stderr


@pytest.mark.parametrize("box, words", [("1,2,3", "four numbers"), ("a,b,c,d", "four numbers"),
                                        ("10,10,0,5", "width and height"), ("5000,10,20,20", "outside")])
def test_bad_box_is_one_line_and_exit_2(videos_dir, capsys, box, words):
    code = main(["track", str(videos_dir / "bikes.mp4"), "--box", box, "--max-frames", "2"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and words in err and "\n" not in err and err.startswith("siamcross track:")


def test_bad_video_is_one_line_and_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    for path in (broken, tmp_path / "missing.mp4"):
        code = main(["track", str(path), "--box", "1,2,30,40"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and "\n" not in err and str(path.name) in err


def test_start_beyond_the_end_is_one_line(videos_dir, capsys):
    code = main(["track", str(videos_dir / "bikes.mp4"), "--box", "1,2,30,40", "--start", "100000"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "cannot start at frame 100000" in err


@pytest.mark.parametrize("option, words", [(["--model", "missing-weights.pt"], "not found"),
                                           (["--device", "gpu7"], "not a device")])
def test_bad_model_or_device_is_one_line(videos_dir, tmp_path, capsys, option, words):
    model_args = [str(tmp_path / option[1])] if option[0] == "--model" else [option[1]]
    code = main(["track", str(videos_dir / "bikes.mp4"), "--box", "1,2,30,40", option[0], *model_args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and words in err and "\n" not in err

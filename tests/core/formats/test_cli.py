"""`siamcross import` and `siamcross export` end to end, through the real dispatcher."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.projects import assert_same_project, rich_project

from core.cli import main
from core.formats import import_project
from core.formats.project_json import load, save


def test_import_then_export_otb_sequence_as_coco_vid_keeps_every_box(seqs_dir: Path, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture) -> None:
    project_file = tmp_path / "man.json"
    assert main(["import", str(seqs_dir / "Man"), "--format", "otb", "--out", str(project_file)]) == 0
    project = load(project_file)
    assert project.media.frame_count == 134 and len(project.tracks[1].frames) == 134
    assert main(["export", str(project_file), "--format", "coco-vid", "--out", str(tmp_path / "vid")]) == 0
    data = json.loads((tmp_path / "vid" / "annotations.json").read_text())
    assert len(data["annotations"]) == 134
    first = (seqs_dir / "Man" / "groundtruth_rect.txt").read_text().splitlines()[0].split(",")
    x, y, w, h = (float(v) for v in first[:4])
    assert data["annotations"][0]["bbox"] == [x - 1, y - 1, w, h]
    assert "Exported 1 tracks as coco-vid" in capsys.readouterr().err


def test_export_with_images_shows_progress_and_reimports_exactly(seqs_dir: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    project = import_project(seqs_dir / "Man", "otb")
    save(project, tmp_path / "p.json")
    out = str(tmp_path / "otb")
    assert main(["export", str(tmp_path / "p.json"), "--format", "otb", "--out", out, "--images"]) == 0
    assert "\rwriting frames [" in capsys.readouterr().err
    assert len(list((tmp_path / "otb" / "Man" / "img").glob("*.jpg"))) == 134
    assert main(["import", str(tmp_path / "otb"), "--format", "otb", "--out", str(tmp_path / "back.json")]) == 0
    assert_same_project(load(tmp_path / "back.json"), project)


@pytest.mark.parametrize("fmt", ["mot", "lasot"])
def test_cli_round_trip_of_a_rich_project(fmt: str, tmp_path: Path) -> None:
    project = rich_project()
    save(project, tmp_path / "p.json")
    assert main(["export", str(tmp_path / "p.json"), "--format", fmt, "--out", str(tmp_path / fmt)]) == 0
    assert main(["import", str(tmp_path / fmt), "--format", fmt, "--out", str(tmp_path / "back.json")]) == 0
    assert_same_project(load(tmp_path / "back.json"), project)


def test_malformed_input_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    seq = tmp_path / "Bad"
    seq.mkdir()
    (seq / "groundtruth_rect.txt").write_text("1,2,3,4\n1,2,x,4\n")
    result = subprocess.run([sys.executable, "-m", "core.cli", "import", str(seq), "--format", "otb",
                             "--out", str(tmp_path / "p.json")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "groundtruth_rect.txt line 2: 'x' is not a number." in result.stderr
    assert not (tmp_path / "p.json").exists()


def test_import_detects_the_format_when_not_given(tmp_path: Path) -> None:
    from core.formats import export_project

    project = rich_project()
    export_project(project, "got10k", tmp_path / "got")
    assert main(["import", str(tmp_path / "got"), "--out", str(tmp_path / "p.json")]) == 0
    assert_same_project(load(tmp_path / "p.json"), project)

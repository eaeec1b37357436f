"""Dataset readers on the real shared OTB sequences and COCO128, and on layouts written here."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.datasets import Sequence, detect_layout, load_sequences
from core.errors import FormatError


def test_otb_reader_reads_every_shared_sequence_with_0_based_boxes(seqs_dir: Path) -> None:
    sequences = load_sequences(seqs_dir)
    assert [s.name for s in sequences] == sorted(p.name for p in seqs_dir.iterdir() if p.is_dir())
    car4 = next(s for s in sequences if s.name == "Car4")
    first_line = (seqs_dir / "Car4" / "groundtruth_rect.txt").read_text().splitlines()[0]
    x, y, w, h = (float(v) for v in first_line.split(","))
    assert tuple(car4.boxes[0]) == (x - 1, y - 1, w, h)
    for seq in sequences:
        assert len(seq.frames) == len(seq) > 0
        assert seq.frames[0].name == "0001.jpg"
    assert car4.read_frame(0).shape[2] == 3


def test_otb_reader_keeps_the_common_prefix_when_rows_and_frames_differ(seqs_dir: Path, tmp_path: Path) -> None:
    seq_dir = tmp_path / "Short"
    (seq_dir / "img").mkdir(parents=True)
    for i in range(1, 6):
        (seq_dir / "img" / f"{i:04d}.jpg").symlink_to(seqs_dir / "Car4" / "img" / f"{i:04d}.jpg")
    (seq_dir / "groundtruth_rect.txt").write_text("1\t2\t3\t4\n5 6 7 8\n9,10,11,12\n")
    (seq,) = load_sequences(seq_dir, "otb")
    assert len(seq) == 3 and len(seq.frames) == 3
    assert seq.boxes.tolist() == [[0, 1, 3, 4], [4, 5, 7, 8], [8, 9, 11, 12]]


def test_detect_layout_names_each_layout(tmp_path: Path, seqs_dir: Path, coco128_dir: Path) -> None:
    assert detect_layout(seqs_dir) == "otb"
    assert detect_layout(coco128_dir) == "coco"
    (tmp_path / "got" / "val" / "a").mkdir(parents=True)
    (tmp_path / "got" / "val" / "list.txt").write_text("a\n")
    assert detect_layout(tmp_path / "got") == "got10k"
    (tmp_path / "las" / "cat" / "cat-1").mkdir(parents=True)
    (tmp_path / "las" / "cat" / "cat-1" / "groundtruth.txt").write_text("1,1,2,2\n")
    (tmp_path / "las" / "cat" / "cat-1" / "full_occlusion.txt").write_text("0\n")
    assert detect_layout(tmp_path / "las") == "lasot"
    (tmp_path / "mot" / "S1" / "gt").mkdir(parents=True)
    (tmp_path / "mot" / "S1" / "gt" / "gt.txt").write_text("1,1,1,1,2,2,1,1,1\n")
    assert detect_layout(tmp_path / "mot") == "mot"
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError):
        detect_layout(tmp_path / "empty")


def test_coco_reader_gives_one_frame_sequences_without_crowd_or_tiny_boxes(coco128_dir: Path) -> None:
    sequences = load_sequences(coco128_dir)
    assert 800 < len(sequences) <= 929
    for seq in sequences[:50]:
        assert len(seq) == 1 and seq.frames[0].is_file()
        assert (seq.boxes[0, 2:] >= 4).all()
        assert seq.meta["static_image"] == "true"
    first = sequences[0]
    image = first.read_frame(0)
    x, y, w, h = first.boxes[0]
    assert x + w <= image.shape[1] + 1 and y + h <= image.shape[0] + 1


def test_mot_reader_gives_one_sequence_per_track_and_skips_ignore_rows(tmp_path: Path) -> None:
    seq_dir = tmp_path / "MOT-01"
    (seq_dir / "gt").mkdir(parents=True)
    (seq_dir / "seqinfo.ini").write_text("[Sequence]\nname=MOT-01\nimDir=img1\nframeRate=30\nseqLength=4\n"
                                         "imWidth=640\nimHeight=480\nimExt=.jpg\n")
    (seq_dir / "gt" / "gt.txt").write_text("1,1,11,21,5,6,1,1,1\n3,1,12,22,5,6,1,1,0.25\n2,2,1,1,3,3,0,1,1\n"
                                           "4,3,1.5,1.5,3,3,1,1,1\n")
    sequences = load_sequences(tmp_path)
    assert [s.name for s in sequences] == ["MOT-01-1", "MOT-01-3"]
    one = sequences[0]
    assert len(one) == 4
    assert one.boxes[0].tolist() == [10, 20, 5, 6]
    assert one.absent.tolist() == [False, True, False, True]
    assert one.occluded.tolist() == [False, False, True, False]
    assert sequences[1].boxes[3].tolist() == [0.5, 0.5, 3, 3]


def test_unknown_layout_and_missing_folder_are_format_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="Unknown dataset layout"):
        load_sequences(tmp_path, "vot")
    with pytest.raises(FormatError, match="no such"):
        load_sequences(tmp_path / "missing")


def test_sequence_absent_rows_are_nan_never_positives(tmp_path: Path) -> None:
    seq_dir = tmp_path / "Gap"
    seq_dir.mkdir()
    (seq_dir / "groundtruth_rect.txt").write_text("1,1,5,5\n0,0,0,0\nNaN,NaN,NaN,NaN\n")
    (seq,) = load_sequences(seq_dir, "otb")
    assert isinstance(seq, Sequence)
    assert seq.absent.tolist() == [False, True, True]
    assert np.isnan(seq.boxes[1:]).all()


def test_project_reader_uses_manual_imported_and_tracked_frames_only(seqs_dir: Path, tmp_path: Path) -> None:
    from core.annotations.model import Flags, FrameLabel, Provenance
    from core.formats import import_project
    from core.formats.project_json import save

    project = import_project(seqs_dir / "Man", "otb")
    frames = project.tracks[1].frames
    frames[1] = frames[1].with_(provenance=Provenance.INTERPOLATED)
    frames[2] = FrameLabel(None, Provenance.MANUAL, None, Flags(absent=True))
    frames[3] = frames[3].with_(provenance=Provenance.TRACKED, flags=Flags(occluded=True, cover=4))
    save(project, tmp_path / "man.json")
    assert detect_layout(tmp_path / "man.json") == "project"
    (seq,) = load_sequences(tmp_path / "man.json")
    assert len(seq) == 134 and len(seq.frames) == 134
    assert tuple(seq.boxes[0]) == frames[0].box
    assert np.isnan(seq.boxes[1]).all() and seq.absent[1]  # interpolated: not ground truth
    assert seq.absent[2] and not seq.absent[3] and seq.cover[3] == 4 and seq.occluded[3]
    assert seq.meta["label"] == "object"


@pytest.mark.parametrize("fmt", ["got10k", "lasot", "otb", "mot"])
def test_dataset_readers_read_our_exports(fmt: str, tmp_path: Path) -> None:
    from support.projects import rich_project

    from core.formats import export_project

    project = rich_project()
    export_project(project, fmt, tmp_path)
    sequences = {s.meta.get("track_id", s.name): s for s in load_sequences(tmp_path)}
    assert len(sequences) == 2
    one = next(s for s in sequences.values() if s.name.endswith("1"))
    assert tuple(one.boxes[1]) == project.tracks[1].frames[1].box
    assert one.absent[3] and one.absent[7]  # absent label and unlabelled frame
    assert not one.absent[0]


def test_got10k_root_reads_train_and_val_and_test_only_when_named(tmp_path: Path) -> None:
    for split, name, rows in (("train", "T1", 3), ("val", "V1", 2), ("test", "X1", 1)):
        seq = tmp_path / split / name
        seq.mkdir(parents=True)
        (seq / "groundtruth.txt").write_text("1,2,3,4\n" * rows)
        (tmp_path / split / "list.txt").write_text(f"{name}\n")
    assert [(s.name, len(s)) for s in load_sequences(tmp_path)] == [("T1", 3), ("V1", 2)]
    assert [s.name for s in load_sequences(tmp_path / "test", "got10k")] == ["X1"]
    assert load_sequences(tmp_path)[0].boxes[0].tolist() == [1, 2, 3, 4]  # GOT-10k boxes are 0-based

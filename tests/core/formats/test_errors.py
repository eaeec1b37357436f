"""Malformed files give one FormatError sentence naming file and line; names never escape."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.projects import rich_project

from core.annotations.model import FrameLabel, MediaRef, Project, Provenance, Track
from core.errors import FormatError
from core.formats import export_project, import_project
from core.formats.safe_paths import inside, safe_name


def _otb(tmp_path: Path, text: str) -> Path:
    seq = tmp_path / "Seq"
    seq.mkdir(exist_ok=True)
    (seq / "groundtruth_rect.txt").write_text(text)
    return seq


@pytest.mark.parametrize(("text", "message"), [
    ("1,2,3,4\n1,2,3\n", r"groundtruth_rect.txt line 2: expected 4 numbers"),
    ("1,2,3,4\n1,2,abc,4\n", r"line 2: 'abc' is not a number"),
    ("1,2,-3,4\n", r"line 1: box width and height must not be negative"),
    ("1,2,3,4\n\n1,2,3,4\n", r"line 2: expected 4 numbers"),
    ("1,2,inf,4\n", r"line 1: 'inf' is not a finite number"),
])
def test_malformed_otb_rows_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message) as error:
        import_project(_otb(tmp_path, text), "otb")
    assert "\n" not in str(error.value)


def test_more_rows_than_media_frames_is_refused(tmp_path: Path, seqs_dir: Path) -> None:
    seq = _otb(tmp_path, "1,1,5,5\n" * 600)  # Car4 has 500 frames
    with pytest.raises(FormatError, match="labels reach frame 600 but the media has 500 frames"):
        import_project(seq, "otb", media=seqs_dir / "Car4" / "img")


def test_got10k_label_files_must_match_rows_and_range(tmp_path: Path) -> None:
    seq = tmp_path / "val" / "S1"
    seq.mkdir(parents=True)
    (tmp_path / "val" / "list.txt").write_text("S1\n")
    (seq / "groundtruth.txt").write_text("1,1,5,5\n2,2,5,5\n")
    (seq / "absence.label").write_text("0\n")
    with pytest.raises(FormatError, match=r"absence.label: 1 labels for 2 ground-truth rows"):
        import_project(tmp_path / "val", "got10k")
    (seq / "absence.label").write_text("0\n0\n")
    (seq / "cover.label").write_text("8\n9\n")
    with pytest.raises(FormatError, match=r"cover.label line 2: 9 is outside 0-8"):
        import_project(seq, "got10k")
    (seq / "cover.label").write_text("8\n8\n")
    (seq / "meta_info.ini").write_text("no section here\n")
    with pytest.raises(FormatError, match=r"meta_info.ini line 1: not a valid INI file"):
        import_project(seq, "got10k")


def test_got10k_list_cannot_point_outside_its_split(tmp_path: Path) -> None:
    (tmp_path / "val").mkdir()
    (tmp_path / "val" / "list.txt").write_text("../../etc\n")
    with pytest.raises(FormatError, match="sequence '../../etc' has no folder"):
        import_project(tmp_path / "val", "got10k")


def test_lasot_attribute_line_must_have_one_value_per_frame(tmp_path: Path) -> None:
    seq = tmp_path / "cat" / "cat-1"
    seq.mkdir(parents=True)
    (seq / "groundtruth.txt").write_text("1,1,5,5\n1,1,5,5\n")
    (seq / "full_occlusion.txt").write_text("0,0,0\n")
    with pytest.raises(FormatError, match=r"full_occlusion.txt: 3 values for 2 ground-truth rows"):
        import_project(seq, "lasot")
    (seq / "full_occlusion.txt").write_text("0,2\n")
    with pytest.raises(FormatError, match=r"full_occlusion.txt value 2: 2 is outside 0-1"):
        import_project(seq, "lasot")


@pytest.mark.parametrize(("rows", "message"), [
    ("1,1,1,1,5,5,1,1,1\n1,1,2,2,5,5,1,1,1\n", r"gt.txt line 2: duplicate row for frame 1 and id 1"),
    ("0,1,1,1,5,5,1,1,1\n", r"line 1: frame numbers start at 1"),
    ("1,1,1,1\n", r"line 1: expected 9 values"),
    ("1,x,1,1,5,5,1,1,1\n", r"line 1: 'x' is not a number"),
    ("1,1.5,1,1,5,5,1,1,1\n", r"line 1: '1.5' is not a whole number"),
    ("9,1,1,1,5,5,1,1,1\n", r"frame 9 is past seqLength 4"),
])
def test_malformed_mot_rows(tmp_path: Path, rows: str, message: str) -> None:
    seq = tmp_path / "S"
    (seq / "gt").mkdir(parents=True)
    (seq / "gt" / "gt.txt").write_text(rows)
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=S\nimDir=img1\nseqLength=4\n")
    with pytest.raises(FormatError, match=message):
        import_project(seq, "mot")


def _coco(tmp_path: Path, **changes: object) -> Path:
    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}],
            "categories": [{"id": 1, "name": "thing"}]}
    data.update(changes)
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("changes", "message"), [
    ({"annotations": [{"id": 1, "image_id": 1, "bbox": [1, 1, 2, 2]},
                      {"id": 1, "image_id": 1, "bbox": [1, 1, 2, 2]}]}, r"annotations\[1\]: duplicate annotation id 1"),
    ({"annotations": [{"id": 1, "image_id": 7, "bbox": [1, 1, 2, 2]}]}, r"image_id 7 is not in 'images'"),
    ({"annotations": [{"id": 1, "image_id": 1, "bbox": [1, 1, -2, 2]}]}, "must not be negative"),
    ({"annotations": [{"id": 1, "image_id": 1, "bbox": [1, "a", 2, 2]}]}, "four finite numbers"),
    ({"annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [1, 1, 2, 2]}]}, "category_id 5"),
    ({"images": "nope"}, "'images' must be a list of objects"),
])
def test_malformed_coco(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        import_project(_coco(tmp_path, **changes), "coco")


def test_coco_that_is_not_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"images": [\n  {"id": 1,,}\n]}')
    with pytest.raises(FormatError, match=r"bad.json line 2: not valid JSON"):
        import_project(path, "coco")


def test_foreign_coco_image_set_makes_one_track_per_annotation(coco128_dir: Path) -> None:
    project = import_project(coco128_dir / "annotations" / "instances_train2017.json", "coco",
                             media=coco128_dir / "images" / "train2017")
    assert len(project.tracks) == 929
    assert all(len(t.frames) == 1 for t in project.tracks.values())
    track = project.tracks[1]
    assert track.label == "bowl"
    assert track.frames == {0: FrameLabel((1.08, 187.69, 611.59, 285.84), Provenance.IMPORTED)}
    assert project.media.frame_count == 128


def test_unsafe_names_stay_inside_the_export_folder(tmp_path: Path) -> None:
    project = rich_project(media=MediaRef("/x/../../etc/passwd", "video", 12, 64, 48), label="../../../evil")
    project.tracks[4].label = "/abs/olute"
    out = tmp_path / "out"
    for fmt in ("lasot", "otb", "got10k", "mot"):
        export_project(project, fmt, out / fmt)
    written = [p.resolve() for p in tmp_path.rglob("*")]
    assert all(out.resolve() in p.parents for p in written if p != out.resolve())
    assert sorted(p.name for p in (out / "lasot").iterdir()) == [".siamcross_export", "abs_olute", "evil",
                                                                 "siamcross_meta.json"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("../..", "sequence"), ("/etc/passwd", "etc_passwd"), ("a\\b", "a_b"), ("", "sequence"),
    ("CON", "sequence_CON"), ("..hidden", "hidden"), ("ok-name_1.2", "ok-name_1.2"),
])
def test_safe_name(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_inside_refuses_escapes_including_symlinks(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    with pytest.raises(FormatError, match="outside the export folder"):
        inside(tmp_path / "out", "..", "x")
    with pytest.raises(FormatError, match="outside the export folder"):
        inside(tmp_path / "out", "link", "x")
    assert inside(tmp_path / "out", "a", "b") == (tmp_path / "out" / "a" / "b").resolve()


def test_folder_with_several_foreign_sequences_asks_for_one(tmp_path: Path) -> None:
    _otb(tmp_path, "1,1,5,5\n")
    (tmp_path / "Other").mkdir()
    (tmp_path / "Other" / "groundtruth_rect.txt").write_text("1,1,5,5\n")
    with pytest.raises(FormatError, match="holds 2 otb sequences; import one sequence folder"):
        import_project(tmp_path, "otb")


def test_unknown_format_and_missing_source(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="Unknown format 'vot'"):
        import_project(tmp_path, "vot")
    with pytest.raises(FormatError, match="no such file or folder"):
        import_project(tmp_path / "missing", "otb")
    with pytest.raises(FormatError, match="Unknown format"):
        export_project(Project(tracks={1: Track(1)}), "vot", tmp_path)


@pytest.mark.parametrize("fmt", ["coco", "coco-vid", "got10k", "lasot", "otb", "mot", "project"])
def test_validator_accepts_every_fresh_export(fmt: str, tmp_path: Path) -> None:
    from core.formats import validate_export

    export_project(rich_project(), fmt, tmp_path)
    validate_export(tmp_path, fmt)


def test_validator_catches_files_that_disagree(seqs_dir: Path, tmp_path: Path) -> None:
    from core.formats import validate_export

    project = import_project(seqs_dir / "Man", "otb")
    export_project(project, "got10k", tmp_path / "got", images=True)
    (tmp_path / "got" / "train" / "Man" / "00000134.jpg").unlink()
    with pytest.raises(FormatError, match="133 images for 134 rows"):
        validate_export(tmp_path / "got", "got10k")
    export_project(project, "lasot", tmp_path / "lasot")
    (tmp_path / "lasot" / "object" / "object-1" / "out_of_view.txt").write_text("0,1\n")
    with pytest.raises(FormatError, match="out_of_view.txt: 2 values for 134 ground-truth rows"):
        validate_export(tmp_path / "lasot", "lasot")
    export_project(project, "mot", tmp_path / "mot")
    ini = tmp_path / "mot" / "Man" / "seqinfo.ini"
    ini.write_text(ini.read_text().replace("imExt=.jpg\n", ""))
    with pytest.raises(FormatError, match="missing the imExt key"):
        validate_export(tmp_path / "mot", "mot")


def test_multi_target_otb_folder_imports_one_track_per_ground_truth_file(tmp_path: Path) -> None:
    seq = tmp_path / "Jogging"
    seq.mkdir()
    (seq / "groundtruth_rect.1.txt").write_text("11,21,5,6\n12,22,5,6\n")
    (seq / "groundtruth_rect.2.txt").write_text("31,41,7,8\n0,0,0,0\n")
    project = import_project(seq, "otb")
    assert sorted(project.tracks) == [1, 2]
    assert project.tracks[1].frames[1].box == (11.0, 21.0, 5.0, 6.0)
    assert project.tracks[2].frames[1].box is None and project.tracks[2].frames[1].flags.absent


def test_foreign_coco_vid_makes_tracks_by_instance_id(tmp_path: Path) -> None:
    data = {"videos": [{"id": 3, "name": "v"}],
            "images": [{"id": 10 + i, "file_name": f"v/{i}.jpg", "video_id": 3, "frame_id": i, "width": 9,
                        "height": 9} for i in range(3)],
            "annotations": [{"id": 1, "image_id": 10, "category_id": 2, "bbox": [1, 1, 2, 2], "instance_id": 7},
                            {"id": 2, "image_id": 12, "category_id": 2, "bbox": [2, 2, 2, 2], "instance_id": 7},
                            {"id": 3, "image_id": 11, "category_id": 1, "bbox": [5, 5, 1, 1], "instance_id": 9}],
            "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "car"}]}
    (tmp_path / "vid.json").write_text(json.dumps(data))
    project = import_project(tmp_path / "vid.json", "coco-vid")
    assert sorted(project.tracks) == [7, 9]
    assert project.tracks[7].label == "car" and sorted(project.tracks[7].frames) == [0, 2]
    assert project.tracks[9].frames[1] == FrameLabel((5.0, 5.0, 1.0, 1.0), Provenance.IMPORTED)
    data["annotations"][1]["image_id"] = 10
    (tmp_path / "vid.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match="instance 7 has two boxes on frame 0"):
        import_project(tmp_path / "vid.json", "coco-vid")


def test_images_come_from_an_open_frame_source_and_progress_can_cancel(seqs_dir: Path, tmp_path: Path) -> None:
    from core.errors import Cancelled
    from core.media import open_media

    project = import_project(seqs_dir / "Man", "otb")
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if done == 5:
            raise Cancelled()

    with open_media(seqs_dir / "Man" / "img") as source:
        with pytest.raises(Cancelled):
            export_project(project, "coco", tmp_path, source, images=True, progress=progress)
        assert source.read(0).shape == (193, 241, 3)  # the caller's source is left open
    assert calls[-1] == (5, 134)
    assert len(list((tmp_path / "frames").glob("*.jpg"))) == 5

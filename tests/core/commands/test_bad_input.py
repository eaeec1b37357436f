"""Bad input through the real `siamcross` command line: one clear line, exit 2, nothing touched.

Each case is something a user really does (a half-copied video, a box typed wrong, a
malformed label file, a weights file that is not one). For every case the run must exit
with 2, print exactly one line on stderr that starts with `siamcross <command>: ` (no
traceback, no FFmpeg chatter), and leave every file it was given byte for byte as it
was: an existing project given as --out to a failed import, the project of a failed
propagate or export. All cases run in one subprocess (see test_reliability_support); the
unit tests of each module check the exact wording, these check what reaches the terminal.
"""
from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from support.cli import CliResult, assert_one_line_error, run_cli_batch
from support.media import damaged_copies, write_image_folder, write_video
from support.models import PickleBomb
from support.paths import DEMO_VIDEO, tree_digest
from support.projects import save_real_project

from core.annotations.io import project_from_bytes, project_to_dict

pytestmark = pytest.mark.reliability


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    phrases: tuple[str, ...] = ()
    protects: tuple[Path, ...] = field(default=())

    @property
    def command(self) -> str:
        return self.argv[0]


@dataclass(frozen=True)
class Workspace:
    root: Path
    cases: dict[str, Case]
    results: dict[str, CliResult]
    before: dict[str, dict[str, str]]
    after: dict[str, dict[str, str]]
    markers: tuple[Path, ...]


def _weights_files(root: Path, marker: Path) -> dict[str, Path]:
    from core.model.config import lite_config

    config = lite_config().to_dict()
    root.mkdir(parents=True, exist_ok=True)
    files = {name: root / f"{name}.pt" for name in ("bomb", "truncated", "wrong_version", "plain_state")}
    torch.save({"format_version": 1, "config": config, "state_dict": {}, "meta": PickleBomb(marker)}, files["bomb"])
    torch.save({"format_version": 1, "config": config, "state_dict": {"w": torch.zeros(64, 64)}, "meta": {}},
               files["truncated"])
    files["truncated"].write_bytes(files["truncated"].read_bytes()[:700])
    torch.save({"format_version": 99, "config": config, "state_dict": {}, "meta": {}}, files["wrong_version"])
    torch.save({"conv.weight": torch.zeros(3)}, files["plain_state"])
    return files


def _foreign_labels(root: Path, frames_folder: Path) -> dict[str, Path]:
    """Malformed label files of every importable format."""
    paths: dict[str, Path] = {}

    def otb(name: str, rows: str) -> Path:
        seq = root / "otb" / name
        seq.mkdir(parents=True)
        (seq / "groundtruth_rect.txt").write_text(rows)
        return seq

    paths["otb_columns"] = otb("Columns", "1,2,30,40\n1,2,30\n")
    paths["otb_text"] = otb("Text", "1,2,30,40\n1,2,x,40\n")
    paths["otb_too_many_rows"] = otb("TooMany", "1,2,30,40\n" * 20)  # the media has 12 frames

    got = root / "got10k" / "val"
    (got / "S1").mkdir(parents=True)
    (got / "list.txt").write_text("S1\n")
    (got / "S1" / "groundtruth.txt").write_text("1,1,5,5\n2,2,5,5\n3,3,5,5\n")
    (got / "S1" / "absence.label").write_text("0\n0\n")
    paths["got10k_label_count"] = got

    lasot = root / "lasot" / "cat" / "cat-1"
    lasot.mkdir(parents=True)
    (lasot / "groundtruth.txt").write_text("1,1,5,5\n1,1,5,5\n")
    (lasot / "full_occlusion.txt").write_text("0,0,0\n")
    paths["lasot_attribute_count"] = lasot

    mot = root / "mot" / "SEQ-01"
    (mot / "gt").mkdir(parents=True)
    (mot / "seqinfo.ini").write_text("[Sequence]\nname=SEQ-01\nseqLength=4\nimWidth=96\nimHeight=64\n")
    (mot / "gt" / "gt.txt").write_text("1,1,1,1,5,5,1,1,1\n1,1,2,2,5,5,1,1,1\n")
    paths["mot_duplicate_id"] = mot

    coco = root / "coco"
    coco.mkdir()
    document = {"images": [{"id": 1, "file_name": "1.png", "width": 96, "height": 64}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]},
                                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}],
                "categories": [{"id": 1, "name": "object"}]}
    (coco / "duplicate_ids.json").write_text(json.dumps(document))
    paths["coco_duplicate_id"] = coco / "duplicate_ids.json"
    (coco / "not_json.json").write_text('{"images": [\n{"id": 1,,}\n')
    paths["coco_not_json"] = coco / "not_json.json"
    document = {**document, "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, "a", 2, 2]}]}
    (coco / "text_box.json").write_text(json.dumps(document))
    paths["coco_text_in_box"] = coco / "text_box.json"
    paths["frames_folder"] = frames_folder
    return paths


def _projects(root: Path, good_video: Path, other_video: Path, truncated: Path, bomb_bytes: bytes) -> dict[str, Path]:
    """A good project, and projects that point at missing, broken or swapped media, or are not projects."""
    good = save_real_project(good_video, root / "good project.json", tracks=2)
    data = json.loads(good.read_text())

    def variant(name: str, change) -> Path:
        copy = json.loads(json.dumps(data))
        change(copy)
        path = root / f"{name}.json"
        path.write_text(json.dumps(copy))
        return path

    return {
        "good": good,
        "missing_media": variant("missing_media", lambda d: d["media"].update(path=str(root / "gone.mp4"))),
        "broken_media": variant("broken_media", lambda d: d["media"].update(path=str(truncated))),
        "swapped_media": variant("swapped_media", lambda d: d["media"].update(path=str(other_video))),
        "frame_count": variant("frame_count", lambda d: d["media"].update(frame_count=500, fingerprint="")),
        "newer": variant("newer", lambda d: d.update(version=99)),
        "zero_box": variant("zero_box", lambda d: d["tracks"][0]["frames"][0].update(box=[1, 2, 0, 5])),
        "no_keyframe": variant("no_keyframe", lambda d: d["tracks"][1].update(frames=[])),
        "pickle": _write(root / "pickled project.json", bomb_bytes),
    }


def _write(path: Path, payload: bytes) -> Path:
    path.write_bytes(payload)
    return path


def _build_cases(root: Path, marker: Path) -> list[Case]:
    bad = damaged_copies(DEMO_VIDEO, root / "bad videos")
    zero = write_video(root / "zero frames.mp4", 0)
    good = write_video(root / "good.mp4", 40)
    other = write_video(root / "other.mp4", 40, size=(96, 64), fps=30.0)
    non_ascii = root / "vidéo 日本 test" / "clip broken.mp4"
    non_ascii.parent.mkdir()
    non_ascii.write_bytes(bad["truncated"].read_bytes())
    broken_folder = write_image_folder(root / "broken frame folder", 12)
    (broken_folder / "3.png").write_bytes(b"\x89PNG but not really")
    mixed = write_image_folder(root / "mixed sizes", 4)
    cv2.imwrite(str(mixed / "3.png"), np.zeros((100, 50, 3), np.uint8))
    not_images = root / "no images"
    not_images.mkdir()
    (not_images / "notes.txt").write_text("frame list")
    (not_images / "clip.json").write_text("{}")
    frames = write_image_folder(root / "frames", 12)
    weights = _weights_files(root / "weights", marker)
    bomb_bytes = pickle.dumps(PickleBomb(marker))
    (root / "projects").mkdir()
    projects = _projects(root / "projects", good, other, bad["truncated"], bomb_bytes)
    labels = _foreign_labels(root / "labels", frames)
    existing = projects["good"]
    a_file = root / "good.mp4"
    box = ("--box", "10,8,30,20")

    cases = [
        # videos
        *[Case(f"track-{name}", ("track", str(path), *box), (path.name,)) for name, path in bad.items()],
        Case("track-zero-frames", ("track", str(zero), *box), (zero.name,)),
        Case("track-non-ascii-path", ("track", str(non_ascii), *box), ("vidéo 日本 test/clip broken.mp4",)),
        Case("track-missing", ("track", str(root / "missing.mp4"), *box), ("missing.mp4", "not exist")),
        Case("track-start-past-end", ("track", str(good), *box, "--start", "40"), ("40",)),
        # image folders
        Case("track-broken-image", ("track", str(broken_folder), *box, "--start", "2"), ("3.png",)),
        Case("track-mixed-sizes", ("track", str(mixed), *box, "--start", "2"), ("3.png", "size")),
        Case("track-no-images", ("track", str(not_images), *box), ("no image",)),
        # boxes
        Case("box-nan", ("track", str(good), "--box", "nan,8,30,20"), ("finite",)),
        Case("box-infinite", ("track", str(good), "--box", "10,8,inf,20"), ("finite",)),
        Case("box-zero-width", ("track", str(good), "--box", "10,8,0,20"), ("width and height",)),
        Case("box-negative-height", ("track", str(good), "--box", "10,8,30,-20"), ("width and height",)),
        Case("box-outside-frame", ("track", str(good), "--box", "500,300,30,20"), ("outside",)),
        Case("box-three-numbers", ("track", str(good), "--box", "10,8,30"), ("four numbers",)),
        Case("box-text", ("track", str(good), "--box", "ten,8,30,20"), ("four numbers",)),
        # weights
        Case("track-model-missing", ("track", str(good), *box, "--model", str(root / "none.pt")), ("none.pt",)),
        Case("track-model-pickle-bomb", ("track", str(good), *box, "--model", str(weights["bomb"])), ("bomb.pt",)),
        Case("track-model-truncated", ("track", str(good), *box, "--model", str(weights["truncated"])),
             ("truncated.pt",)),
        Case("track-model-wrong-version", ("track", str(good), *box, "--model", str(weights["wrong_version"])),
             ("wrong_version.pt", "format 99")),
        Case("track-model-plain-state-dict", ("track", str(good), *box, "--model", str(weights["plain_state"])),
             ("plain_state.pt",)),
        Case("track-model-is-a-project", ("track", str(good), *box, "--model", str(existing)), (existing.name,)),
        # imports: an existing project given as --out must survive every failed import
        *[Case(f"import-{name}", ("import", str(labels[name]), "--format", fmt, "--out", str(existing)),
               phrases, (existing,))
          for name, fmt, phrases in [
              ("otb_columns", "otb", ("line 2",)), ("otb_text", "otb", ("'x' is not a number",)),
              ("got10k_label_count", "got10k", ("absence.label",)),
              ("lasot_attribute_count", "lasot", ("full_occlusion.txt",)),
              ("mot_duplicate_id", "mot", ("duplicate",)), ("coco_duplicate_id", "coco", ("duplicate",)),
              ("coco_not_json", "coco", ("not_json.json",)), ("coco_text_in_box", "coco", ("four finite numbers",)),
          ]],
        Case("import-more-rows-than-frames", ("import", str(labels["otb_too_many_rows"]), "--format", "otb",
                                              "--media", str(frames), "--out", str(existing)), ("12 frames",),
             (existing,)),
        Case("import-missing-source", ("import", str(root / "nothing here"), "--out", str(existing)),
             ("nothing here",), (existing,)),
        Case("import-unknown-layout", ("import", str(not_images), "--out", str(existing)), (), (existing,)),
        # exports
        Case("export-pickle-as-project", ("export", str(projects["pickle"]), "--format", "otb", "--out",
                                          str(root / "export-a")), ("not valid JSON",), (projects["pickle"],)),
        Case("export-newer-version", ("export", str(projects["newer"]), "--format", "mot", "--out",
                                      str(root / "export-b")), ("newer",), (projects["newer"],)),
        Case("export-zero-box", ("export", str(projects["zero_box"]), "--format", "coco", "--out",
                                 str(root / "export-c")), ("positive width",), (projects["zero_box"],)),
        Case("export-into-a-file", ("export", str(existing), "--format", "got10k", "--out",
                                    str(a_file / "export")), ("not a folder",), (existing, a_file)),
        Case("export-missing-project", ("export", str(root / "nope.json"), "--format", "otb", "--out",
                                        str(root / "export-d")), ("nope.json",)),
        # propagate: the project file is byte-identical after every failure
        Case("propagate-missing-media", ("propagate", str(projects["missing_media"]), "--method", "linear"),
             ("gone.mp4",), (projects["missing_media"],)),
        Case("propagate-broken-media", ("propagate", str(projects["broken_media"]), "--method", "linear"),
             ("truncated.mp4",), (projects["broken_media"],)),
        Case("propagate-swapped-media", ("propagate", str(projects["swapped_media"]), "--method", "linear"),
             ("other.mp4", "changed"), (projects["swapped_media"],)),
        Case("propagate-frame-count-mismatch", ("propagate", str(projects["frame_count"]), "--method", "linear"),
             ("500",), (projects["frame_count"],)),
        Case("propagate-unknown-track", ("propagate", str(existing), "--track", "9"), ("Track 9",), (existing,)),
        Case("propagate-no-keyframe", ("propagate", str(projects["no_keyframe"]), "--track", "2"),
             ("keyframe",), (projects["no_keyframe"],)),
        Case("propagate-from-past-end", ("propagate", str(existing), "--from", "400", "--method", "linear"), (),
             (existing,)),
        Case("propagate-pickle-as-project", ("propagate", str(projects["pickle"])), ("not valid JSON",),
             (projects["pickle"],)),
        Case("propagate-newer-project", ("propagate", str(projects["newer"])), ("newer",), (projects["newer"],)),
        Case("propagate-model-pickle-bomb", ("propagate", str(existing), "--model", str(weights["bomb"]),
                                             "--device", "cpu"), ("bomb.pt",), (existing, weights["bomb"])),
        Case("propagate-model-truncated", ("propagate", str(existing), "--model", str(weights["truncated"]),
                                           "--device", "cpu"), ("truncated.pt",), (existing,)),
        Case("propagate-model-wrong-version", ("propagate", str(existing), "--model", str(weights["wrong_version"]),
                                               "--device", "cpu"), ("format 99",), (existing,)),
        Case("propagate-model-missing", ("propagate", str(existing), "--model", str(root / "none.pt"),
                                         "--device", "cpu"), ("none.pt",), (existing,)),
        Case("propagate-out-inside-a-file", ("propagate", str(existing), "--method", "linear", "--out",
                                             str(a_file / "p.json")), (), (existing, a_file)),
        # eval
        Case("eval-no-dataset", ("eval", str(not_images)), ("no images",)),
        Case("eval-malformed-sequence", ("eval", str(labels["otb_columns"].parent), "--format", "otb"), ("line 2",)),
    ]
    assert len({c.id for c in cases}) == len(cases)
    return cases


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("bad input")
    marker = root / "CODE-RAN.txt"
    cases = _build_cases(root / "files", marker)
    before = {c.id: {str(p): _digest(p) for p in c.protects} for c in cases}
    tree_before = tree_digest(root / "files")
    results = run_cli_batch([list(c.argv) for c in cases], root / "runs")
    after = {c.id: {str(p): _digest(p) for p in c.protects} for c in cases}
    before["<tree>"], after["<tree>"] = tree_before, tree_digest(root / "files")
    return Workspace(root, {c.id: c for c in cases}, dict(zip((c.id for c in cases), results)), before, after,
                     (marker,))


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha1(path.read_bytes()).hexdigest() if path.is_file() else "<not a file>"


CASE_ID_LIST = [
    "track-truncated", "track-header_only", "track-unsupported_codec", "track-empty", "track-text",
    "track-zero-frames", "track-non-ascii-path", "track-missing", "track-start-past-end",
    "track-broken-image", "track-mixed-sizes", "track-no-images",
    "box-nan", "box-infinite", "box-zero-width", "box-negative-height", "box-outside-frame", "box-three-numbers",
    "box-text",
    "track-model-missing", "track-model-pickle-bomb", "track-model-truncated", "track-model-wrong-version",
    "track-model-plain-state-dict", "track-model-is-a-project",
    "import-otb_columns", "import-otb_text", "import-got10k_label_count", "import-lasot_attribute_count",
    "import-mot_duplicate_id", "import-coco_duplicate_id", "import-coco_not_json", "import-coco_text_in_box",
    "import-more-rows-than-frames", "import-missing-source", "import-unknown-layout",
    "export-pickle-as-project", "export-newer-version", "export-zero-box", "export-into-a-file",
    "export-missing-project",
    "propagate-missing-media", "propagate-broken-media", "propagate-swapped-media", "propagate-frame-count-mismatch",
    "propagate-unknown-track", "propagate-no-keyframe", "propagate-from-past-end", "propagate-pickle-as-project",
    "propagate-newer-project", "propagate-model-pickle-bomb", "propagate-model-truncated",
    "propagate-model-wrong-version", "propagate-model-missing", "propagate-out-inside-a-file",
    "eval-no-dataset", "eval-malformed-sequence",
]


@pytest.mark.parametrize("case_id", CASE_ID_LIST)
def test_bad_input_is_one_line_exit_2_and_touches_nothing(workspace: Workspace, case_id: str) -> None:
    case = workspace.cases[case_id]
    result = workspace.results[case_id]
    assert_one_line_error(result, case.command, *case.phrases)
    assert workspace.after[case_id] == workspace.before[case_id], "a file the command was given has changed"


def test_every_case_listed_is_run(workspace: Workspace) -> None:
    assert sorted(workspace.cases) == sorted(CASE_ID_LIST)


def test_no_failed_command_left_files_behind_or_changed_any(workspace: Workspace) -> None:
    """No partial export folder, no temp file, no journal, no half-written project anywhere."""
    assert workspace.after["<tree>"] == workspace.before["<tree>"]


def test_no_weights_or_project_file_ever_ran_code(workspace: Workspace) -> None:
    assert not any(marker.exists() for marker in workspace.markers)


def test_the_pickle_bomb_is_live_so_the_refusal_means_something(tmp_path: Path) -> None:
    """Control: the same bomb DOES run code when unpickled the unsafe way."""
    marker = tmp_path / "control.txt"
    path = tmp_path / "bomb.pt"
    torch.save({"format_version": 1, "meta": PickleBomb(marker)}, path)
    torch.load(path, weights_only=False)
    assert marker.read_text() == "code ran"
    pickled = tmp_path / "project.json"
    pickled.write_bytes(pickle.dumps(PickleBomb(tmp_path / "control2.txt")))
    pickle.loads(pickled.read_bytes())
    assert (tmp_path / "control2.txt").exists()


def test_the_good_project_really_is_good(workspace: Workspace) -> None:
    """Control: the project every failing case was given loads, so the failures are the cases' own."""
    project = project_from_bytes((workspace.root / "files" / "projects" / "good project.json").read_bytes())
    assert sorted(project.tracks) == [1, 2] and project.media.frame_count == 40
    assert project_to_dict(project)["tracks"][0]["frames"][0]["provenance"] == "manual"

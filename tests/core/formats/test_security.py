"""Opening or exporting someone else's file can neither run code nor write outside the chosen folder.

A project or label file is data from a stranger. Crafted names ("../../x", absolute
paths, backslashes, a symlink planted in the export folder) go through the real CLI
(`siamcross import` then `siamcross export`, every format) and every file written must
lie inside the export folder, with nothing anywhere else created or changed. Code
execution through weights and project files is covered in test_reliability_cli (pickle
bombs refused, marker never written).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import CliResult, assert_one_line_error, run_cli_batch
from support.paths import tree_digest

from core.formats import FORMATS

pytestmark = pytest.mark.reliability

EXPORT_FORMATS = [name for name in FORMATS if name != "project"]
EVIL = ["../../../escaped", "/tmp/absolute-escape", "..\\..\\windows-escape", "..", ".", "", "a/../../b",
        "CON", "nul.txt", "名前/../../x"]


def _crafted_project(media_path: str) -> dict:
    """A hand-written project file (as an attacker would write it) with hostile names everywhere."""
    tracks = []
    for i, name in enumerate(EVIL, start=1):
        tracks.append({"id": i, "label": name, "color": "#00ff00", "hidden": False,
                       "frames": [{"frame": 0, "box": [1.0, 2.0, 3.0, 4.0], "provenance": "manual"},
                                  {"frame": 1, "box": [1.5, 2.0, 3.0, 4.0], "provenance": "tracked", "score": 0.5}]})
    return {"schema": "siamcross-project", "version": 1,
            "media": {"path": media_path, "kind": "video", "frame_count": 5, "width": 64, "height": 48, "fps": 25.0,
                      "fingerprint": ""},
            "classes": EVIL, "next_track_id": len(EVIL) + 1, "meta": {"name": "../../../meta-escape",
                                                                       "sequence": "/etc/passwd"},
            "tracks": tracks}


def _foreign_files_with_hostile_names(root: Path) -> dict[str, tuple[Path, str]]:
    """Label files of other tools whose sequence/video/file names try to climb out."""
    root.mkdir(parents=True, exist_ok=True)
    coco_vid = root / "coco-vid.json"
    coco_vid.write_text(json.dumps({
        "videos": [{"id": 1, "name": "../../../video-escape"}],
        "images": [{"id": i + 1, "video_id": 1, "frame_id": i, "file_name": f"../../../../img-escape/{i}.jpg",
                    "width": 64, "height": 48} for i in range(3)],
        "annotations": [{"id": i + 1, "image_id": i + 1, "instance_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}
                        for i in range(3)],
        "categories": [{"id": 1, "name": "../../category-escape"}]}))
    mot = root / "mot" / "SEQ"
    (mot / "gt").mkdir(parents=True)
    (mot / "seqinfo.ini").write_text("[Sequence]\nname=../../../../mot-escape\nseqLength=3\nimWidth=64\n"
                                     "imHeight=48\nimDir=../../../../imdir-escape\n")
    (mot / "gt" / "gt.txt").write_text("1,1,1,2,3,4,1,1,1\n2,1,1,2,3,4,1,1,1\n")
    got = root / "got10k" / "val"
    (got / "S1").mkdir(parents=True)
    (got / "list.txt").write_text("S1\n")
    (got / "S1" / "groundtruth.txt").write_text("1,1,5,5\n2,2,5,5\n")
    (got / "S1" / "meta_info.ini").write_text("[METAINFO]\nobject_class: ../../../../class-escape\n")
    return {"coco-vid": (coco_vid, "coco-vid"), "mot": (root / "mot", "mot"), "got10k": (got, "got10k")}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    sandbox = tmp_path_factory.mktemp("sandbox")
    # deep enough that "../../../x" from any export folder still lands inside the sandbox we watch
    root = sandbox / "a" / "b" / "c" / "d"
    root.mkdir(parents=True)
    crafted = root / "crafted.json"
    crafted.write_text(json.dumps(_crafted_project("/x/../../../etc/passwd")))
    foreign = _foreign_files_with_hostile_names(root / "foreign")
    planted = root / "planted-link-target"
    planted.mkdir()
    (planted / "keep.txt").write_text("must stay alone")

    argvs, outs = [], {}
    for fmt in EXPORT_FORMATS:
        outs[f"crafted-{fmt}"] = root / "out" / f"crafted-{fmt}"
        argvs.append(["export", str(crafted), "--format", fmt, "--out", str(outs[f"crafted-{fmt}"])])
    for name, (src, fmt) in foreign.items():
        imported = root / "imported" / f"{name}.json"
        imported.parent.mkdir(exist_ok=True)
        argvs.append(["import", str(src), "--format", fmt, "--out", str(imported)])
        for out_fmt in EXPORT_FORMATS:
            outs[f"{name}-{out_fmt}"] = root / "out" / f"{name}-{out_fmt}"
            argvs.append(["export", str(imported), "--format", out_fmt, "--out", str(outs[f"{name}-{out_fmt}"])])
    # symlinks planted where the exporters put the crafted project's sequence folders
    # (MOT: <media stem>; OTB with several tracks: <media stem>-<n>)
    traps = {}
    for fmt, link_name in (("mot", "passwd"), ("otb", "passwd-1")):
        trap = root / "out" / f"trap-{fmt}"
        trap.mkdir(parents=True)
        (trap / link_name).symlink_to(planted, target_is_directory=True)
        argvs.append(["export", str(crafted), "--format", fmt, "--out", str(trap)])
        traps[fmt] = len(argvs) - 1

    before = tree_digest(sandbox)
    results = run_cli_batch(argvs, sandbox.parent / f"{sandbox.name}-runs")
    after = tree_digest(sandbox)
    return {"root": root, "sandbox": sandbox, "outs": outs, "traps": traps, "planted": planted,
            "argvs": argvs, "results": results, "before": before, "after": after}


def test_every_export_of_hostile_names_succeeds_or_fails_in_one_line(exported) -> None:
    for argv, result in zip(exported["argvs"], exported["results"]):
        assert "Traceback" not in result.stderr, (argv, result.stderr)
        if result.code != 0:
            assert_one_line_error(result, argv[0])


def test_imports_of_hostile_foreign_files_worked_so_the_exports_were_really_tried(exported) -> None:
    imports = [r for a, r in zip(exported["argvs"], exported["results"]) if a[0] == "import"]
    assert imports and all(r.code == 0 for r in imports), [r.stderr for r in imports]
    crafted = [r for a, r in zip(exported["argvs"], exported["results"]) if a[0] == "export" and "crafted" in a[1]]
    assert sum(r.code == 0 for r in crafted) >= len(EXPORT_FORMATS), [r.stderr for r in crafted]


def test_nothing_is_written_outside_the_export_folders(exported) -> None:
    root, sandbox = exported["root"], exported["sandbox"]
    out_root = (root / "out").resolve()
    created = {path for path in exported["after"] if path not in exported["before"]}
    changed = {path for path in exported["before"] if exported["after"].get(path) != exported["before"][path]}
    outside = sorted(p for p in created | changed
                     if out_root not in (sandbox / p).resolve().parents and (sandbox / p).resolve() != out_root
                     and not p.startswith(str(Path("a/b/c/d/imported"))))
    assert outside == [], f"written outside the export folders: {outside}"
    assert not any("escape" in Path(p).name and out_root not in (sandbox / p).resolve().parents
                   for p in exported["after"])


def test_each_export_wrote_only_inside_its_own_folder(exported) -> None:
    for key, out in exported["outs"].items():
        if not out.exists():
            continue
        for path in out.rglob("*"):
            resolved = path.resolve()
            assert out.resolve() in resolved.parents, f"{key}: {path} resolves to {resolved}"
            assert ".." not in path.relative_to(out).parts


def test_a_symlink_planted_in_the_export_folder_is_not_followed(exported) -> None:
    assert sorted(p.name for p in exported["planted"].iterdir()) == ["keep.txt"]
    assert (exported["planted"] / "keep.txt").read_text() == "must stay alone"
    for index in exported["traps"].values():
        trap_result: CliResult = exported["results"][index]
        assert_one_line_error(trap_result, "export", "outside the export folder")

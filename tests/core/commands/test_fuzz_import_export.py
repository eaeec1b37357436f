"""Fuzzing the command line itself: whatever a label or project file holds, `siamcross import` and
`siamcross export` either succeed or print one line and exit 2 (never a traceback), and a failed
import never touches the project it was told to write.

The parsers have their own fuzz tests (test_formats_fuzz); this drives the whole command
(dispatcher, format detection, reader, media checks, atomic save) in-process, which is
the same code the console script runs, so hypothesis can try hundreds of files quickly.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.projects import project_on

from core.annotations.io import save_project
from core.cli import main

pytestmark = [pytest.mark.reliability, pytest.mark.fuzz]

FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

number = st.one_of(st.integers(-5, 2000).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.sampled_from(["", "x", "1e999", "-0", " 3 ", "0x1f", "1,5"]))
row = st.lists(number, min_size=0, max_size=10).map(lambda cells: ",".join(cells))
rows = st.lists(row, max_size=8).map("\n".join)
noise = st.one_of(rows, st.text(max_size=120), st.binary(max_size=120).map(lambda b: b.decode("latin-1")))


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse
            code = stop.code if isinstance(stop.code, int) else 1
    return code, err.getvalue()


def _assert_clean(code: int, err: str, command: str) -> None:
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"siamcross {command}: "), err


def _write_sequence(root: Path, fmt: str, text: str, extra: str) -> Path:
    """A sequence folder of fmt whose main label file holds `text` (and a side file `extra`)."""
    if fmt == "otb":
        seq = root / "Seq"
        seq.mkdir()
        (seq / "groundtruth_rect.txt").write_text(text, encoding="utf-8", errors="surrogateescape")
        return seq
    if fmt == "got10k":
        seq = root / "val" / "S1"
        seq.mkdir(parents=True)
        (root / "val" / "list.txt").write_text("S1\n")
        (seq / "groundtruth.txt").write_text(text, encoding="utf-8", errors="surrogateescape")
        (seq / "absence.label").write_text(extra, encoding="utf-8", errors="surrogateescape")
        return root / "val"
    if fmt == "lasot":
        seq = root / "cat" / "cat-1"
        seq.mkdir(parents=True)
        (seq / "groundtruth.txt").write_text(text, encoding="utf-8", errors="surrogateescape")
        (seq / "full_occlusion.txt").write_text(extra, encoding="utf-8", errors="surrogateescape")
        return seq
    seq = root / "MOT-01"
    (seq / "gt").mkdir(parents=True)
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=MOT-01\nseqLength=6\nimWidth=64\nimHeight=48\n")
    (seq / "gt" / "gt.txt").write_text(text, encoding="utf-8", errors="surrogateescape")
    return seq


@FUZZ
@given(fmt=st.sampled_from(["otb", "got10k", "lasot", "mot"]), text=noise, extra=noise)
def test_import_of_any_label_text_is_clean_and_leaves_the_old_project(fmt: str, text: str, extra: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        existing = root / "existing.json"
        save_project(project_on(root / "clip.mp4", 10), existing)
        original = existing.read_bytes()
        code, err = _run(["import", str(_write_sequence(root, fmt, text, extra)), "--format", fmt,
                          "--out", str(existing)])
        _assert_clean(code, err, "import")
        if code != 0:
            assert existing.read_bytes() == original


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-10, 10), st.text(max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(
        st.sampled_from(["box", "frame", "provenance", "score", "absent", "cover", "id", "label", "color",
                         "frames", "path", "kind", "frame_count", "width", "height"]), inner, max_size=4)),
    max_leaves=12)


@FUZZ
@given(media=st.one_of(st.none(), json_value), track=json_value, fmt=st.sampled_from(["coco-vid", "got10k", "mot"]))
def test_export_of_any_project_content_is_clean(media, track, fmt: str) -> None:
    document = {"schema": "siamcross-project", "version": 1, "media": media,
                "tracks": [track] if isinstance(track, dict) else track}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / "fuzzed.json"
        path.write_text(json.dumps(document))
        code, err = _run(["export", str(path), "--format", fmt, "--out", str(root / "out")])
        _assert_clean(code, err, "export")
        assert path.read_text() == json.dumps(document)

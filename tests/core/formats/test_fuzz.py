"""Random bytes and random rows never make a parser raise anything but FormatError: the text and
COCO parsers the importers use, import_project itself, and load_project, which opens project
files for the app (siamcross_gui.session), the journal and every command."""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.annotations.io import SCHEMA, load_project
from core.errors import FormatError
from core.formats import mot
from core.formats.coco_schema import parse_coco
from core.formats.project_json import frames_from_dict, project_fields, track_from_header
from core.formats.text import parse_box_rows, parse_ini, parse_label_column

pytestmark = [pytest.mark.reliability, pytest.mark.fuzz]
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)), deadline=None)
token = st.one_of(st.sampled_from(["1", "0", "-1", "2.5", "nan", "NaN", "inf", "1e999", "1e-999", "x", "", "1_0",
                                   "sNaN", "9" * 40, "0x10", "+3", "-0"]), st.text(max_size=6))
separator = st.sampled_from([",", "\t", " ", ";", ", ", "\r\n"])
rows_text = st.lists(st.lists(token, max_size=11), max_size=6).flatmap(
    lambda rows: separator.map(lambda sep: "\n".join(sep.join(r) for r in rows)))
any_text = st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1")), rows_text)


def _only_format_errors(parse, text) -> None:
    try:
        parse(text)
    except FormatError as error:
        assert str(error) and "\n" not in str(error)


@FUZZ
@given(any_text, st.booleans())
def test_box_rows(text: str, one_based: bool) -> None:
    _only_format_errors(lambda t: parse_box_rows(t, "gt.txt", one_based=one_based), text)


@FUZZ
@given(any_text, st.booleans())
def test_label_columns(text: str, one_line: bool) -> None:
    _only_format_errors(lambda t: parse_label_column(t, "a.label", low=0, high=8, one_line=one_line), text)


@FUZZ
@given(st.one_of(any_text, st.lists(st.sampled_from(["[METAINFO]", "[Sequence]", "a: b", "k=v", "=", ":", "[",
                                                       " indented", "a: b: c", "%(x)s"]), max_size=6).map("\n".join)))
def test_ini(text: str) -> None:
    _only_format_errors(lambda t: parse_ini(t, "meta_info.ini", "METAINFO"), text)


@FUZZ
@given(any_text)
def test_mot_rows(text: str) -> None:
    _only_format_errors(lambda t: mot.parse_rows(t, "gt.txt"), text)


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(
        st.sampled_from(["id", "image_id", "bbox", "images", "annotations", "categories", "videos", "frame_id",
                         "video_id", "instance_id", "attributes", "file_name", "category_id", "siamcross", "meta",
                         "classes", "tracks", "frames", "box", "flags", "cover", "provenance", "score", "media",
                         "absent_labels", "track_id", "frame", "schema"]),
        inner, max_size=5)),
    max_leaves=25)


@FUZZ
@given(st.one_of(any_text, json_value.map(json.dumps)))
def test_coco_json(text: str) -> None:
    _only_format_errors(lambda t: parse_coco(t, "instances.json"), text)


@FUZZ
@given(json_value)
def test_coco_records_with_structure(value) -> None:
    document = {"images": [{"id": 1, "file_name": "a.jpg"}],
                "annotations": [value] if isinstance(value, dict) else value, "categories": []}
    _only_format_errors(lambda t: parse_coco(t, "instances.json"), json.dumps(document))


def _load_project_file(tmp_path_factory, payload: bytes):
    path = tmp_path_factory.mktemp("project") / "p.json"
    path.write_bytes(payload)
    return load_project(path)


@FUZZ
@given(json_value)
def test_project_file_tracks(tmp_path_factory, value) -> None:
    header = {"schema": SCHEMA, "version": 1}
    document = {**header, "tracks": [value]} if isinstance(value, dict) else value
    _only_format_errors(lambda d: _load_project_file(tmp_path_factory, json.dumps(d).encode()), document)


@FUZZ
@given(json_value)
def test_export_extras(value) -> None:
    """What the COCO extras and the sidecar carry: project fields, track headers, frames."""
    _only_format_errors(lambda v: project_fields(v, "x"), value)
    _only_format_errors(lambda v: track_from_header(v, "x"), value)
    _only_format_errors(lambda v: frames_from_dict(v, "x"), value)


@FUZZ
@given(json_value)
def test_project_file_top_level(tmp_path_factory, value) -> None:
    _only_format_errors(lambda v: _load_project_file(tmp_path_factory, json.dumps(v).encode()), value)


@FUZZ
@given(st.one_of(st.binary(max_size=300), any_text.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_project_file_bytes(tmp_path_factory, payload: bytes) -> None:
    _only_format_errors(lambda b: _load_project_file(tmp_path_factory, b), payload)


@FUZZ
@given(json_value, st.sampled_from(["coco", "coco-vid"]))
def test_coco_import_with_random_siamcross_block(tmp_path_factory, value, fmt: str) -> None:
    from core.formats import import_project

    document = {"images": [{"id": 1, "file_name": "a.jpg", "frame_id": 0, "video_id": 1}],
                "annotations": [{"id": 1, "image_id": 1, "bbox": [1, 2, 3, 4], "instance_id": 1,
                                 "attributes": value if isinstance(value, dict) else {"flags": value}}],
                "siamcross": {"schema": "siamcross-coco", **(value if isinstance(value, dict) else {"tracks": value})}}
    path = tmp_path_factory.mktemp("coco") / "a.json"
    path.write_text(json.dumps(document))
    _only_format_errors(lambda p: import_project(p, fmt), path)


@FUZZ
@given(json_value)
def test_sidecar_with_random_content(tmp_path_factory, value) -> None:
    from core.formats import import_project

    root = tmp_path_factory.mktemp("otb")
    (root / "S").mkdir()
    (root / "S" / "groundtruth_rect.txt").write_text("1,1,5,5\n")
    sidecar = {"format": "otb", **(value if isinstance(value, dict) else {"sequences": {"S": value}})}
    (root / "siamcross_meta.json").write_text(json.dumps(sidecar))
    _only_format_errors(lambda p: import_project(p, "otb"), root)

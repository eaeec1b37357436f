"""siamcross_meta.json: what OTB, GOT-10k, LaSOT and MOT files cannot say.

Those formats carry boxes and (some) flags but no track ids, classes, colours,
provenance or scores. The exporter writes this sidecar next to the standard files,
keyed by each sequence's folder relative to the export root, holding every label as
written. The importer trusts a sidecar label only where the standard files still say
exactly what that label encodes to; a frame edited by a foreign tool becomes an
``imported`` label with the file's values. Foreign folders without a sidecar import as
``imported`` everywhere. Foreign tools ignore the file.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..annotations.model import Project, Track
from ..errors import FormatError
from .project_json import (
    frames_from_dict,
    label_to_dict,
    media_to_dict,
    project_fields,
    track_from_header,
    track_header,
)
from .text import read_text

SIDECAR = "siamcross_meta.json"
SCHEMA = "siamcross-sidecar"


def sidecar_dict(fmt: str, project: Project, sequences: dict[str, list[Track]]) -> dict[str, Any]:
    return {
        "schema": SCHEMA, "version": 1, "format": fmt,
        "project": {"media": media_to_dict(project.media), "classes": list(project.classes),
                    "next_track_id": project.next_track_id, "meta": dict(project.meta)},
        "sequences": {rel: [{**track_header(t),
                             "frames": {str(i): label_to_dict(f) for i, f in sorted(t.frames.items())}}
                            for t in tracks] for rel, tracks in sequences.items()},
    }


def write_sidecar(out_dir: Path, fmt: str, project: Project, sequences: dict[str, list[Track]]) -> None:
    text = json.dumps(sidecar_dict(fmt, project, sequences), indent=1)
    (Path(out_dir) / SIDECAR).write_text(text, encoding="utf-8")


def find_sidecar(src: Path, fmt: str, levels: int = 3) -> Path | None:
    """The sidecar of src's export: in src or up to `levels` folders above it, for this format."""
    folder = Path(src).resolve()
    for _ in range(levels + 1):
        candidate = folder / SIDECAR
        if candidate.is_file():
            try:
                data = json.loads(read_text(candidate))
            except (json.JSONDecodeError, RecursionError, FormatError):
                raise FormatError(f"{candidate}: not valid JSON.") from None
            return candidate if isinstance(data, dict) and data.get("format") == fmt else None
        if folder.parent == folder:
            break
        folder = folder.parent
    return None


class Sidecar:
    """A parsed sidecar: project fields and, per sequence folder, the tracks written there."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = path.parent
        data = json.loads(read_text(path))
        source = str(path)
        project = data.get("project")
        sequences = data.get("sequences")
        if not isinstance(project, dict) or not isinstance(sequences, dict):
            raise FormatError(f"{source}: not a SiamCross sidecar (needs 'project' and 'sequences').")
        self.media, self.classes, self.next_track_id, self.meta = project_fields(project, source)
        self.sequences: dict[str, list[Track]] = {}
        for rel, tracks in sequences.items():
            if not isinstance(tracks, list):
                raise FormatError(f"{source}: sequence '{str(rel)[:40]}' must list its tracks.")
            parsed = []
            for n, record in enumerate(tracks):
                track = track_from_header(record, f"{source} {rel} track {n}")
                track.frames = frames_from_dict(record.get("frames", {}), f"{source} {rel} track {n}")
                parsed.append(track)
            self.sequences[str(rel)] = parsed

    def tracks_for(self, seq_dir: Path) -> list[Track] | None:
        try:
            rel = Path(seq_dir).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None
        return self.sequences.get(rel)

    def new_project(self) -> Project:
        return Project(media=self.media, classes=list(self.classes), next_track_id=self.next_track_id,
                       meta=dict(self.meta))

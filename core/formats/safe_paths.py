"""Names that come from imported files must never let a writer escape its export folder.

A sequence or class name read from a foreign file ("../../etc", "/abs", "a\\b", "")
becomes one harmless path component; every output path is then checked to lie inside
the chosen export folder before anything is written.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import FormatError

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_name(text: str, fallback: str = "sequence", max_length: int = 100) -> str:
    """One path component made only of letters, digits, '.', '_', '+', '-'; never '.', '..' or empty."""
    name = _UNSAFE.sub("_", str(text)).strip("._")[:max_length].strip("._")
    if not name or name.lower().split(".")[0] in _RESERVED:
        name = f"{fallback}_{name}" if name else fallback
    return name


def unique_names(names: list[str]) -> list[str]:
    """Make sanitised names distinct (case-insensitive, for case-folding file systems)."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, n = name, 2
        while candidate.lower() in seen:
            candidate, n = f"{name}_{n}", n + 1
        seen.add(candidate.lower())
        result.append(candidate)
    return result


def inside(root: Path, *parts: str) -> Path:
    """root/parts..., refusing any result that resolves outside root (links included)."""
    base = Path(root).resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise FormatError(f"Refusing to write outside the export folder: {'/'.join(parts)}.")
    return target

"""Where things are: the repository, the bundled demo video, the installed console script;
and file-tree snapshots for "nothing was touched" checks."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TESTS_ROOT = PROJECT_ROOT / "tests"
DEMO_VIDEO = PROJECT_ROOT / "resources" / "demo" / "bigbuckbunny.mp4"
SIAMCROSS = Path(sys.executable).with_name("siamcross")


def tree_digest(root: Path) -> dict[str, str]:
    """relative path -> sha1 of every file under root (folders as 'dir'), for before/after compares."""
    digest = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        digest[rel] = "dir" if path.is_dir() else hashlib.sha1(path.read_bytes()).hexdigest()
    return digest

"""Shared fixtures: offscreen Qt, the shared real data (skipped cleanly when absent)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.paths import DEMO_VIDEO, PROJECT_ROOT

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see core/__init__.py

SHARED_DATA = Path(os.environ.get("SIAMCROSS_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))
SHARED_PEERS = SHARED_DATA.parent / "peers"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (tests that need real sequences skip when it is absent)."""
    return _require(SHARED_DATA)


@pytest.fixture(scope="session")
def seqs_dir(shared_data: Path) -> Path:
    return _require(shared_data / "seqs")


@pytest.fixture(scope="session")
def train_dir(shared_data: Path) -> Path:
    return _require(shared_data / "train")


@pytest.fixture(scope="session")
def videos_dir(shared_data: Path) -> Path:
    return _require(shared_data / "videos")


@pytest.fixture(scope="session")
def coco128_dir(shared_data: Path) -> Path:
    return _require(shared_data / "formats" / "coco" / "coco128")


@pytest.fixture(scope="session")
def nanotrack_dir() -> Path:
    return _require(SHARED_PEERS / "nanotrack")


@pytest.fixture(scope="session")
def demo_video() -> Path:
    """The bundled demo video (ships in resources/, always present)."""
    assert DEMO_VIDEO.exists(), "resources/demo/bigbuckbunny.mp4 is part of the repository"
    return DEMO_VIDEO


@pytest.fixture
def one_torch_thread():
    """Small CPU tensors: one thread is as fast and, on a shared 2-core machine, avoids
    OpenMP barrier stalls that make backward passes 10-20x slower under contention."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    """Settings, recent files and autosave journals of every test go to its own temporary
    folder, never the user's."""
    monkeypatch.setenv("SIAMCROSS_CONFIG_DIR", str(tmp_path / "config"))

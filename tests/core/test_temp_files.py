"""Temp files that killed saves leave are removed on the next save or open, and only those."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.paths import PROJECT_ROOT

from core.annotations.io import load_project, save_project
from core.annotations.model import MediaRef, Project
from core.errors import FormatError
from core.temp_files import STALE_AFTER_S, clean_stale_temps, temp_path

ROOT = PROJECT_ROOT


def _killed_while_saving(code: str) -> int:
    """Run code in a child that SIGKILLs itself at the rename of its atomic write; its pid."""
    script = textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        os.replace = die
        Path.replace = die
    """) + textwrap.dedent(code)
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    _, err = child.communicate(timeout=120)
    assert child.returncode == -9, err
    return child.pid


def _project(generation: str) -> Project:
    return Project(media=MediaRef("a.mp4", "video", 10, 8, 8), meta={"generation": generation})


def test_a_killed_project_save_leaves_a_temp_file_that_the_next_open_removes(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    pid = _killed_while_saving(f"""
        from core.annotations.io import save_project
        from core.annotations.model import MediaRef, Project
        save_project(Project(media=MediaRef("a.mp4", "video", 10, 8, 8)), Path({str(path)!r}))
    """)
    leftover = tmp_path / f".p.json.{pid}.tmp"
    assert leftover.is_file() and not path.exists()  # the kill really left the temp file
    user_file = tmp_path / "notes.tmp"
    other_target = tmp_path / f".q.json.{pid}.tmp"
    user_file.write_text("mine")
    other_target.write_text("another file's temp")
    with pytest.raises(FormatError, match="does not exist"):
        load_project(path)  # nothing was saved, but opening cleans up
    assert not leftover.exists()
    assert user_file.read_text() == "mine" and other_target.exists()


def test_a_killed_backup_link_temp_is_removed_by_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = child.pid
    stale = tmp_path / f".p.json.bak.{dead}.tmp"
    stale.write_text("half")
    save_project(_project("1"), path)
    assert not stale.exists()
    assert load_project(path).meta["generation"] == "1"


def test_a_temp_file_of_a_live_writer_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        held = tmp_path / f".p.json.{writer.pid}.tmp"
        held.write_text("being written")
        save_project(_project("1"), path)
        assert held.read_text() == "being written"
    finally:
        writer.kill()
        writer.wait()
    assert clean_stale_temps(path, once=False) == [held]  # its writer is gone now


def test_an_hour_old_temp_file_is_stale_even_if_its_pid_is_reused(tmp_path: Path) -> None:
    path = tmp_path / "w.pt"
    old = tmp_path / f".w.pt.{os.getpid()}.tmp"  # our own pid: "alive"
    old.write_text("x")
    young = tmp_path / "w.pt.tmp"  # the name before pids, still young: maybe a running old version
    young.write_text("x")
    assert clean_stale_temps(path, legacy_names=["w.pt.tmp"], once=False) == []
    past = time.time() - STALE_AFTER_S - 60
    os.utime(old, (past, past))
    os.utime(young, (past, past))
    assert sorted(clean_stale_temps(path, legacy_names=["w.pt.tmp"], once=False)) == sorted([old, young])


def test_a_killed_weights_save_is_cleaned_by_the_next_save(tmp_path: Path) -> None:
    import torch

    from core.model.weights import save_torch_atomically

    path = tmp_path / "ckpt.pt"
    pid = _killed_while_saving(f"""
        import torch
        from core.model.weights import save_torch_atomically
        save_torch_atomically({{"x": torch.zeros(3)}}, Path({str(path)!r}))
    """)
    leftover = tmp_path / f".ckpt.pt.{pid}.tmp"
    assert leftover.is_file() and not path.exists()
    save_torch_atomically({"x": torch.ones(3)}, path)
    assert not leftover.exists()
    assert torch.load(path, weights_only=True)["x"].tolist() == [1.0, 1.0, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_temp_path_names_the_pid_so_writers_never_share_one() -> None:
    assert temp_path(Path("/x/p.json")).name == f".p.json.{os.getpid()}.tmp"
    assert temp_path(Path("/x/p.json"), ".bak").name == f".p.json.bak.{os.getpid()}.tmp"

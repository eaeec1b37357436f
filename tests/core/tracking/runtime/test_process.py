"""Process settings for CPU inference: set before torch loads, never over a user's choice."""
from __future__ import annotations

import ctypes
import os
import platform
import subprocess
import sys

import pytest
from support.paths import PROJECT_ROOT

from core.tracking.runtime import keep_freed_memory, process

ROOT = PROJECT_ROOT
PROBE = ("import core.tracking, os, sys; "
         "assert 'torch' not in sys.modules, 'core.tracking must not import torch eagerly'; "
         "print(os.environ['OMP_WAIT_POLICY'])")


def run_probe(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | env
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_core_tracking_makes_idle_threads_sleep_before_torch_loads():
    assert run_probe() == "PASSIVE"


def test_a_users_openmp_policy_is_kept():
    assert run_probe(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"


@pytest.fixture
def mallopt_calls(monkeypatch) -> list[tuple[int, int]]:
    """Every mallopt(param, value) keep_freed_memory makes, passed on to the real libc, in a process
    state where it has not run yet and the user set no MALLOC_* threshold."""
    calls: list[tuple[int, int]] = []
    real_cdll = ctypes.CDLL

    class RecordingLibc:
        def __init__(self, name: str) -> None:
            self._libc = real_cdll(name)

        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return self._libc.mallopt(param, value)

    monkeypatch.setattr(process, "_malloc_tuned", False)
    monkeypatch.setattr(process.ctypes, "CDLL", RecordingLibc)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    return calls


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc-only")
def test_malloc_thresholds_are_raised_once_on_glibc(mallopt_calls):
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True
    # glibc's M_MMAP_THRESHOLD (-3) to 64 MiB and M_TRIM_THRESHOLD (-1) to 128 MiB, each set once
    assert mallopt_calls == [(-3, 64 << 20), (-1, 128 << 20)]


@pytest.mark.parametrize("variable", ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"])
def test_a_users_malloc_threshold_is_kept(mallopt_calls, monkeypatch, variable):
    monkeypatch.setenv(variable, "131072")
    assert keep_freed_memory() is False
    assert mallopt_calls == []

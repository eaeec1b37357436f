"""Process settings for CPU inference: set before torch loads, never over a user's choice."""
from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
from support.paths import PROJECT_ROOT

from core.tracking.runtime import keep_freed_memory

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


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc-only")
def test_malloc_thresholds_are_raised_once_on_glibc():
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        assert keep_freed_memory() is False
    else:
        assert keep_freed_memory() is True and keep_freed_memory() is True

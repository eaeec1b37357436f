"""How a small network's passes use the CPU's cores: one thread per pass, passes side by side.

Why: a small net's pass at a batch of a few targets is hundreds of small ops, most of them the
heads' on small maps. Split across OpenMP threads, each op pays a wake-up of the sleeping
workers (OMP_WAIT_POLICY=PASSIVE, which the app needs, core.tracking.runtime.process), which
costs more than the op gains from a second core. One thread per pass removes that overhead;
several targets then use the other cores by running their passes at the same time (torch
releases the GIL), and one target leaves the other core to the video decoder and the GUI. A
large network (R50) does gain from splitting each op, so it keeps the usual intra-op threads.
benchmarks/propagation_bench.py measures it (its report names the pass lanes).

Process-wide: torch's thread count is global, so it is set to 1 for the duration of a
tracking step and restored afterwards.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

import torch
from torch import nn

T = TypeVar("T")

SMALL_NET_PARAMETERS = 5_000_000
"""Nets below this many parameters run one thread per pass (lite is far below it, r50 far above)."""


def is_small(net: nn.Module) -> bool:
    """True for a net whose passes are too small to split across threads (see the module doc)."""
    return sum(p.numel() for p in net.parameters()) < SMALL_NET_PARAMETERS


def split_evenly(count: int, max_batch: int | None, workers: int = 1) -> list[range]:
    """Index ranges of ``count`` targets: at most max_batch each (None: no cap), a multiple of
    ``workers`` ranges where there are that many targets, sizes differing by at most one
    (5 targets in passes of 4 on 2 workers: 3 + 2, not 4 + 1)."""
    if count <= 0:
        return []
    chunks = math.ceil(count / max_batch) if max_batch else 1
    if workers > 1:
        chunks = min(count, math.ceil(chunks / workers) * workers)
    base, extra = divmod(count, chunks)
    ranges, start = [], 0
    for i in range(chunks):
        size = base + (1 if i < extra else 0)
        ranges.append(range(start, start + size))
        start += size
    return ranges


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's intra-op thread count set to ``count`` inside the block, restored after."""
    before = torch.get_num_threads()
    if before == count:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class PassRunner:
    """Runs a tracker's network passes: side by side on single-threaded lanes for a small net
    on a CPU (``parallel``), else one after another with torch's own threads.

    Lanes: ``workers``, or by default as many as torch had threads when the step began (so a
    caller's ``torch.set_num_threads`` still bounds the cores a tracker uses).
    """

    def __init__(self, parallel: bool, workers: int | None = None) -> None:
        self.parallel = bool(parallel)
        self._fixed_workers = None if workers is None else max(1, int(workers))
        self._outer_threads = torch.get_num_threads()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        """Lanes the next map uses (1 when not parallel)."""
        if not self.parallel:
            return 1
        return self._fixed_workers or max(1, self._outer_threads)

    @contextmanager
    def step(self) -> Iterator[None]:
        """Wrap one tracking step (crops, passes, decision): single-threaded passes where parallel."""
        if not self.parallel:
            yield
            return
        self._outer_threads = torch.get_num_threads()
        with torch_threads(1):
            yield

    def map(self, fn: Callable[[range], T], ranges: Sequence[range]) -> list[T]:
        """fn over every range, results in order. Parallel: range i runs on lane i % lanes,
        lane 0 being the calling thread, so equal ranges spread evenly over the cores."""
        lanes = min(self.workers, len(ranges))
        if lanes <= 1:
            return [fn(r) for r in ranges]
        pool = self._executor(lanes - 1)
        futures = [pool.submit(self._lane, fn, ranges[lane::lanes]) for lane in range(1, lanes)]
        try:
            first = [fn(r) for r in ranges[0::lanes]]
        finally:
            wait(futures)  # no lane outlives the step, even when this one failed
        results: list[list[T]] = [first] + [f.result() for f in futures]
        return [results[i % lanes][i // lanes] for i in range(len(ranges))]

    @staticmethod
    def _lane(fn: Callable[[range], T], ranges: Sequence[range]) -> list[T]:
        torch.set_num_threads(1)  # this worker's own OpenMP setting (oneDNN reads it per thread)
        with torch.inference_mode():
            return [fn(r) for r in ranges]

    def _executor(self, size: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is not None and self._pool_size < size:
                self._pool.shutdown(wait=True)
                self._pool = None
            if self._pool is None:
                self._pool = ThreadPoolExecutor(size, thread_name_prefix="siamcross-pass")
                self._pool_size = size
            return self._pool

    def close(self) -> None:
        """Stop the worker threads (a later map starts new ones)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

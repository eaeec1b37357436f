"""`make bench`: run every benchmark and write benchmarks/REPORT.md.

Each benchmark is its own module that prints a report; this runner only records the
machine, the versions and the exact command beside each output, so every number in the
report can be reproduced. Speed is never asserted in tests.
"""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "REPORT.md"

SEQS = "../shared/data/seqs"
VAL_SPLIT = "benchmarks/train_configs/val_split.txt"


@dataclass(frozen=True)
class Benchmark:
    """One section of the report: a module that prints its own report, run with these arguments."""

    key: str
    title: str
    module: str
    args: tuple[str, ...] = ()


def effort(tracker: str, threshold: str) -> Benchmark:
    """Forward and fill corrections of three jittered annotators (siamcross simulate --seeds 3)."""
    name = "siamcross-lite" if tracker == "siamcross" else "NanoTrack v2"
    return Benchmark(f"effort-{tracker}-{threshold}",
                     f"Annotation effort on seqs/, {name}, IoU {threshold}, 3 jittered annotators", "core.cli",
                     ("simulate", SEQS, "--tracker", tracker, "--strategies", "forward,fill",
                      "--threshold", threshold, "--seeds", "3"))


BENCHMARKS: list[Benchmark] = [
    Benchmark("model", "Model: parameters, GFLOPs, per-stage ms", "benchmarks.model_bench", ("--repeats", "20")),
    Benchmark("track", "Tracking: fps, 1/4/16 targets in one batched pass", "benchmarks.track_bench",
              ("--frames", "60")),
    Benchmark("media", "Media: open, sequential/random reads, cache, save/load", "benchmarks.media_bench"),
    Benchmark("propagation", "End to end: propagation over a real 720p video beside the model alone, 1/4/16 tracks",
              "benchmarks.propagation_bench"),
    Benchmark("memory", "Memory: resident memory while propagating through a 10,000-frame 720p video",
              "benchmarks.propagation_bench", ("--long", "10000")),
    Benchmark("peers", "Speed beside OpenCV's trackers (MIL, NanoTrack) on the same 720p frames",
              "benchmarks.peer_speed"),
    Benchmark("gui", "GUI: event-loop delay while propagating, first frame, scrubbing", "benchmarks.gui_latency"),
    Benchmark("validation", "Validation split (never trained on): success AUC and precision beside the peers",
              "core.cli", ("eval", SEQS, "--split", VAL_SPLIT, "--peers", "nano-v2,mil", "--markdown")),
    effort("siamcross", "0.5"),
    effort("nano-v2", "0.5"),
    effort("siamcross", "0.7"),
    effort("nano-v2", "0.7"),
    Benchmark("refit", "Learning from a correction: one target's refit from 6 keyframe views, one core",
              "benchmarks.refit_bench"),
    Benchmark("box-refit", "Could a target learn its box from its keyframes? A regression refit probe (train/)",
              "benchmarks.box_refit_probe"),
    Benchmark("fusion", "Annotation effort: fill's fusion rules beside forward-only (train/)",
              "benchmarks.simulate_bench", ("--quick",)),
    Benchmark("accuracy", "Accuracy: ours beside OpenCV's trackers on the shared sequences",
              "benchmarks.accuracy_bench"),
]


def versions() -> str:
    lines = [f"- python {platform.python_version()} on {platform.platform()}",
             f"- CPU cores: {os.cpu_count()}"]
    for name in ("torch", "torchvision", "cv2", "numpy", "PySide6", "pyqtgraph"):  # all dependencies
        module = __import__(name)
        lines.append(f"- {name} {getattr(module, '__version__', '?')}")
    import torch

    lines.append(f"- torch threads {torch.get_num_threads()}, CUDA available: {torch.cuda.is_available()}")
    return "\n".join(lines)


def run_one(module: str, args: list[str]) -> tuple[str, float, int]:
    start = time.perf_counter()
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    output = done.stdout.strip() or "(no output)"
    if done.returncode != 0:
        output += "\n\nstderr (last lines):\n" + "\n".join(done.stderr.strip().splitlines()[-15:])
    return output, time.perf_counter() - start, done.returncode


def kept_sections(text: str) -> dict[str, str]:
    """The sections of an earlier report by title, so a partial run keeps the others. Only the
    benchmarks' own titles start a section: a benchmark's output has "## " headings of its own."""
    starts = sorted((at, bench.title) for bench in BENCHMARKS
                    if (at := text.find(f"\n## {bench.title}\n")) >= 0)
    ends = [at for at, _ in starts[1:]] + [len(text)]
    return {title: text[at + 1:end].rstrip("\n") + "\n" for (at, title), end in zip(starts, ends)}


def main() -> int:
    """Run every benchmark, or only those named by key (`python -m benchmarks.run_all peers gui`):
    then the other sections of the existing report are kept as they were."""
    only = set(sys.argv[1:])
    unknown = only - {b.key for b in BENCHMARKS}
    if unknown:
        print(f"unknown benchmark {sorted(unknown)[0]!r}; choose from {', '.join(b.key for b in BENCHMARKS)}",
              file=sys.stderr)
        return 2
    earlier = kept_sections(REPORT.read_text(encoding="utf-8")) if only and REPORT.exists() else {}
    sections = ["# Benchmark report\n\nWritten by `make bench`; each section says when it ran.\n",
                "## Machine and versions\n", versions(), ""]
    failures = 0
    for bench in BENCHMARKS:
        if only and bench.key not in only:
            if bench.title in earlier:
                sections.append(earlier[bench.title])
            continue
        print(f"running {bench.key} ...", file=sys.stderr, flush=True)
        stamp = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"
        output, seconds, code = run_one(bench.module, list(bench.args))
        failures += code != 0
        sections += [f"## {bench.title}\n",
                     f"Command: `python -m {bench.module} {' '.join(bench.args)}` ({stamp}, {seconds:.0f} s, "
                     f"exit {code})\n",
                     "```", output, "```", ""]
    REPORT.write_text("\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {REPORT.relative_to(ROOT)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

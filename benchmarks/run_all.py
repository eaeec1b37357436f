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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "REPORT.md"

# (title, module, arguments); each module prints its own report on stdout.
BENCHMARKS: list[tuple[str, str, list[str]]] = [
    ("Model: parameters, GFLOPs, per-stage ms", "benchmarks.model_bench", ["--repeats", "20"]),
    ("Tracking: fps, 1/4/16 targets in one batched pass", "benchmarks.track_bench", ["--frames", "60"]),
    ("Media: open, sequential/random reads, cache, save/load", "benchmarks.media_bench", []),
    ("End to end: propagation over a real 720p video beside the model alone, 1/4/16 tracks",
     "benchmarks.propagation_bench", []),
    ("Memory: resident memory while propagating through a 10,000-frame 720p video", "benchmarks.propagation_bench",
     ["--long", "10000"]),
    ("Speed beside OpenCV's trackers (MIL, NanoTrack) on the same 720p frames", "benchmarks.peer_speed", []),
    ("GUI: event-loop delay while propagating, first frame, scrubbing", "benchmarks.gui_latency", []),
    ("Annotation effort: corrections per 100 frames by strategy", "benchmarks.simulate_bench", ["--quick"]),
    ("Accuracy: ours beside OpenCV's trackers on the shared sequences", "benchmarks.accuracy_bench", []),
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


def main() -> int:
    only = set(sys.argv[1:])
    sections = [f"# Benchmark report\n\nWritten by `make bench` ({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC).\n",
                "## Machine and versions\n", versions(), ""]
    failures = 0
    for title, module, args in BENCHMARKS:
        if only and module.rsplit(".", 1)[-1] not in only:
            continue
        if not (ROOT / (module.replace(".", "/") + ".py")).exists():
            sections += [f"## {title}\n", f"`{module}` is not written yet.\n"]
            continue
        print(f"running {module} ...", file=sys.stderr, flush=True)
        output, seconds, code = run_one(module, args)
        failures += code != 0
        sections += [f"## {title}\n", f"Command: `python -m {module} {' '.join(args)}` ({seconds:.0f} s, exit {code})\n",
                     "```", output, "```", ""]
    REPORT.write_text("\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {REPORT.relative_to(ROOT)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""What learning from a correction costs: one refit of a target from its keyframes, on one core.

    python -m benchmarks.refit_bench [--sequence Human3] [--views 6] [--repeats 7]

The views are keyframes 20 frames apart of a real sequence, the newest with a wrongly held box
(40 px to the side of the truth) as after a correction; each repeat initialises the target again
and refits it (``SiamCrossTracker.adapt_target``). The first repeat pays one-off warm-up and is
not in the median.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from core.datasets import load_sequences
from core.tracking import SiamCrossTracker
from core.tracking.adaptation import Evidence

SEQS = Path(__file__).resolve().parents[2] / "shared" / "data" / "seqs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SEQS)
    parser.add_argument("--sequence", default="Human3")
    parser.add_argument("--views", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    found = [s for s in load_sequences(args.data, "otb") if s.name == args.sequence]
    if not found:
        print(f"no sequence {args.sequence} in {args.data}", file=sys.stderr)
        return 2
    sequence = found[0]
    frames = [i for i in range(0, 20 * args.views, 20) if i < len(sequence)]
    images = {i: sequence.read_frame(i) for i in frames}
    boxes = {i: (float(sequence.boxes[i][0]), float(sequence.boxes[i][1]),
                 float(sequence.boxes[i][2]), float(sequence.boxes[i][3])) for i in frames}
    newest = frames[-1]
    x, y, w, h = boxes[newest]
    wrong = (x + 40.0, y, w, h)
    evidence = [Evidence(images[i], boxes[i], (wrong,) if i == newest else ()) for i in reversed(frames)]
    tracker = SiamCrossTracker.from_pretrained("lite", device="cpu")
    seconds = []
    for _ in range(args.repeats):
        state = tracker.init_target(images[newest], boxes[newest])
        start = time.perf_counter()
        tracker.adapt_target(state, evidence)
        seconds.append(time.perf_counter() - start)
    runs = ", ".join(f"{1000 * s:.0f}" for s in seconds)
    print(f"refit of one target from {len(evidence)} views of {sequence.name} on one thread: "
          f"median {1000 * statistics.median(seconds[1:]):.0f} ms (each run, ms: {runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

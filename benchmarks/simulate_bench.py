"""Annotation effort of fill-between-keyframes under different fusion settings, beside forward-only.

Tune on one set of sequences (``--data ../shared/data/train``), report on another
(``../shared/data/seqs``): the fusion rule, when the annotator draws the last frame, the
pass stop threshold and the agreement IoU are chosen on train/ and only then measured on
seqs/. Tracker passes are shared between variants of one sequence (they are deterministic),
so the sweep costs little more than one run; compute seconds are therefore not reported here
(``siamcross simulate`` times each strategy alone).

    python -m benchmarks.simulate_bench --data ../shared/data/train --tracker nano-v2
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from core.commands.simulate import make_tracker
from core.evaluation.ope import load_eval_sequences
from core.evaluation.simulator import simulate_sequence, truncate
from core.evaluation.simulator_report import SimulatorConfig
from core.propagation.sources import SequenceSource

ROOT = Path(__file__).resolve().parents[1]


def variants(full: bool) -> dict[str, SimulatorConfig]:
    base = SimulatorConfig(strategies=("fill",))
    out = {"forward": SimulatorConfig(strategies=("forward",))}
    for rule in ("agreement", "score", "nearest"):
        out[f"fill {rule}"] = replace(base, fusion=rule)
    out["fill oracle (bound for any rule)"] = replace(base, fusion="oracle")
    for anchor in ("first-error", "upfront", "none"):
        out[f"fill agreement anchor={anchor}"] = replace(base, fill_anchor=anchor)
    if full:
        for threshold in (0.2, 0.4):
            out[f"fill agreement stop<{threshold}"] = replace(base, pass_score_threshold=threshold)
        for agree in (0.3, 0.5, 0.7):
            out[f"fill agreement agree_iou={agree}"] = replace(base, agree_iou=agree)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "train")
    parser.add_argument("--tracker", default="nano-v2")
    parser.add_argument("--model", default="lite")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threshold", type=float, default=0.5, help="IoU bar of the annotator")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="fusion rules and anchors only")
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    args = parser.parse_args(argv)

    tracker, name = make_tracker(args.tracker, args.model, args.device)
    configs = {k: replace(c, iou_threshold=args.threshold) for k, c in variants(not args.quick).items()}
    totals: dict[str, dict[str, float]] = {k: {"corrections": 0, "frames": 0, "fusion_misses": 0} for k in configs}
    began = time.monotonic()
    sequences = [truncate(s, args.max_frames) for s in load_eval_sequences(args.data)]
    for number, sequence in enumerate(sequences, start=1):
        source = SequenceSource(sequence)
        memo: dict = {}
        row = []
        for key, config in configs.items():
            result = next(iter(simulate_sequence(sequence, tracker, config, source, memo).results.values()))
            totals[key]["corrections"] += result.corrections
            totals[key]["frames"] += result.frames
            totals[key]["fusion_misses"] += result.fusion_misses or 0
            row.append(result.corrections)
        print(f"[{number}/{len(sequences)} {time.monotonic() - began:6.0f} s] {sequence.name}: {row}",
              file=sys.stderr)
    print(f"Annotation effort on {args.data.name}/ ({len(sequences)} sequences), tracker {name}, "
          f"IoU >= {args.threshold}")
    print("| variant | corrections / 100 frames | corrections | fusion misses |\n|---|---|---|---|")
    for key, t in totals.items():
        per100 = 100.0 * t["corrections"] / max(t["frames"], 1)
        t["corrections_per_100_frames"] = round(per100, 3)
        print(f"| {key} | {per100:.2f} | {t['corrections']} | {t['fusion_misses'] if 'fill' in key else ''} |")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"tracker": name, "data": str(args.data), "variants": totals}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

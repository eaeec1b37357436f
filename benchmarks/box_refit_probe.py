"""Could a target learn its box from its keyframes? A probe of a per-target regression refit.

    python -m benchmarks.box_refit_probe [--data ../shared/data/train] [--prior 10] [--every 15]

Why: nearly every correction the effort simulator counts is a box on the target that is not
tight enough (``siamcross simulate`` prints the kinds), which a classifier refit cannot fix. This
probe asks whether the last regression layer, refitted per target on its keyframes' views (ridge
regression of log l, r, t, b on the reg tower's features, pulled towards the trained layer by
``--prior``), boxes the frames between keyframes better than the trained layer.

Per sequence: keyframes every ``--every`` frames; from each keyframe, the template of that
keyframe and the refit on the views of the (up to) 6 keyframes up to it; then every third frame
until the next keyframe is searched in a window near the truth (shifted by up to 15% of the box,
resized by up to 10%, as a tracker's state would be), and the box at the cell the tracker's
decision picks is scored against the truth with the trained and the refitted layer.
Prints mean IoU and the share of boxes under IoU 0.7 and 0.5 for both. The eager network runs
on one thread (no traces: the probe reads the reg tower's output with a hook).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from core.datasets import load_sequences
from core.model import TemplateEncoding, load_model
from core.model.geometry import ellipse_mask
from core.model.pixelwise import MobileOAINHeads
from core.propagation.boxes import iou_xywh
from core.tracking.crops import crop_many
from core.tracking.search import SearchGeometry

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "train"
VIEWS = 6


@dataclass
class Scores:
    """IoU of each probed box with the trained and the refitted regression layer."""

    trained: list[float] = field(default_factory=list)
    refitted: list[float] = field(default_factory=list)

    def line(self, name: str) -> str:
        a, b = np.array(self.trained), np.array(self.refitted)
        share = lambda v, bar: float(np.mean(v < bar))  # noqa: E731
        return (f"{name:<14}{len(a):>6}   trained {a.mean():.4f}  <0.7 {share(a, 0.7):.3f}  <0.5 {share(a, 0.5):.3f}"
                f"   refitted {b.mean():.4f}  <0.7 {share(b, 0.7):.3f}  <0.5 {share(b, 0.5):.3f}")


class Probe:
    """The lite network, its geometry and the reg tower's output of the last pass."""

    def __init__(self, prior: float) -> None:
        self.net = load_model("lite")
        heads = self.net.heads
        if not isinstance(heads, MobileOAINHeads):
            raise SystemExit("the probe needs the lite model's pixel-wise heads")
        self.heads = heads
        self.geometry = SearchGeometry.of(self.net)
        self.prior = prior
        self.tower: Tensor | None = None
        heads.reg_tower.register_forward_hook(lambda _m, _i, out: setattr(self, "tower", out))
        weight = heads.reg_raw.weight.detach()[:, :, 0, 0].double()
        bias = heads.reg_raw.bias.detach().double() if heads.reg_raw.bias is not None else torch.zeros(4)
        self.trained = torch.cat([weight, bias[:, None]], 1).T  # [C + 1, 4]
        self.cells = torch.as_tensor(self.geometry.cells, dtype=torch.float32)

    @staticmethod
    def _input(crop: np.ndarray) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(crop[None])).permute(0, 3, 1, 2).float()

    def template(self, frame: np.ndarray, box: np.ndarray) -> TemplateEncoding:
        x, y, w, h = (float(v) for v in box)
        window = self.geometry.template_window((x + w / 2, y + h / 2), (w, h))
        crop = crop_many(frame, [window])[0]
        with torch.no_grad():
            return self.net.encode_template(self._input(crop),
                                            torch.tensor(window.box_to_crop_xyxy((x, y, w, h)))[None].float())

    def search(self, template: TemplateEncoding, frame: np.ndarray, centre: tuple[float, float],
               size: tuple[float, float], truth: np.ndarray) -> tuple[np.ndarray, Tensor, np.ndarray, float]:
        """-> stacked maps [1, 7, H, W], the reg tower's output [C, H, W], the truth (x1, y1, x2, y2
        crop px) and the crop's scale (crop px per frame px)."""
        window = self.geometry.search_window(centre, size)
        crop = crop_many(frame, [window])[0]
        with torch.no_grad():
            out = self.net.decode(template, self.net.encode_search(self._input(crop)))
        assert self.tower is not None
        x, y, w, h = (float(v) for v in truth)
        return (out.stacked_maps(self.geometry.omega).numpy(), self.tower[0].double(),
                np.asarray(window.box_to_crop_xyxy((x, y, w, h))), window.out_size / window.side)

    def refit(self, views: list[tuple[Tensor, np.ndarray]]) -> Tensor:
        """Ridge regression of log distances at the views' positive cells, towards the trained layer."""
        xs, ys = self.cells[0, :, 0], self.cells[:, 0, 1]
        features, targets = [], []
        for tower, truth in views:
            inner = ellipse_mask(torch.tensor(truth, dtype=torch.float32)[None], xs, ys, scale=0.25)[0] > 0
            centres = self.cells[inner].double()
            distances = torch.stack([centres[:, 0] - truth[0], truth[2] - centres[:, 0],
                                     centres[:, 1] - truth[1], truth[3] - centres[:, 1]], 1)
            inside = (distances > 1).all(1)
            features.append(tower.permute(1, 2, 0)[inner][inside])
            targets.append(torch.log(distances[inside]))
        x = torch.cat(features)
        x = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
        y = torch.cat(targets)
        gram = x.T @ x / len(x) + self.prior * torch.eye(x.shape[1], dtype=x.dtype)
        return torch.linalg.solve(gram, x.T @ y / len(x) + self.prior * self.trained)


def probe_sequence(probe: Probe, sequence, every: int, rng: np.random.Generator) -> Scores:
    boxes = np.asarray(sequence.boxes, dtype=np.float64)
    absent = np.asarray(sequence.absent, dtype=bool)
    keys = [k for k in range(0, len(boxes), every) if not absent[k] and boxes[k, 2] > 2 and boxes[k, 3] > 2]
    frames: dict[int, np.ndarray] = {}
    read = lambda i: frames.setdefault(i, sequence.read_frame(i))  # noqa: E731
    scores = Scores()
    for index, anchor in enumerate(keys[1:], 1):
        template = probe.template(read(anchor), boxes[anchor])
        views = []
        for key in keys[max(0, index - VIEWS + 1):index + 1]:
            x, y, w, h = boxes[key]
            _, tower, truth, _ = probe.search(template, read(key), (x + w / 2, y + h / 2), (w, h), boxes[key])
            views.append((tower, truth))
        theta = probe.refit(views)
        for frame in range(anchor + 1, min(anchor + every, len(boxes)), 3):
            if absent[frame] or boxes[frame, 2] < 2 or boxes[frame, 3] < 2:
                continue
            x, y, w, h = boxes[frame]
            dx, dy = rng.uniform(-0.15, 0.15, 2) * (w, h)
            scale = float(np.exp(rng.uniform(-0.1, 0.1)))
            maps, tower, truth, crop_scale = probe.search(template, read(frame), (x + w / 2 + dx, y + h / 2 + dy),
                                                          (w * scale, h * scale), boxes[frame])
            decision = probe.geometry.decide(maps, np.array([[w * scale, h * scale]]) * crop_scale)
            row, col = decision.index[0]
            raw = tower[:, row, col] @ theta[:-1] + theta[-1]
            refitted = torch.exp(raw.clamp(max=probe.heads.log_max)).numpy()
            cx, cy = probe.geometry.cells[row, col]
            truth_xywh = (truth[0], truth[1], truth[2] - truth[0], truth[3] - truth[1])
            for reg, out in ((maps[0, 3:7, row, col], scores.trained), (refitted, scores.refitted)):
                left, right, top, bottom = reg
                out.append(iou_xywh((cx - left, cy - top, left + right, top + bottom), truth_xywh))
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TRAIN)
    parser.add_argument("--prior", type=float, default=10.0, help="ridge weight towards the trained layer")
    parser.add_argument("--every", type=int, default=15, help="keyframe interval")
    parser.add_argument("--only", default=None, help="comma-separated sequence names")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if not args.data.is_dir():
        print(f"no data folder {args.data}", file=sys.stderr)
        return 2
    names = set(args.only.split(",")) if args.only else None
    probe = Probe(args.prior)
    rng = np.random.default_rng(0)
    total = Scores()
    print(f"{'sequence':<14}{'boxes':>6}   (keyframes every {args.every} frames, prior {args.prior})")
    for sequence in load_sequences(args.data):
        if names is not None and sequence.name not in names:
            continue
        scores = probe_sequence(probe, sequence, args.every, rng)
        if scores.trained:
            print(scores.line(sequence.name), flush=True)
            total.trained += scores.trained
            total.refitted += scores.refitted
    if total.trained:
        print(total.line("all"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

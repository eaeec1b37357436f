"""What the annotation-effort simulator is asked and what it answers (core.evaluation.simulator).

``SimulatorConfig`` says how the simulated annotator judges and which strategies run;
``SimulationReport`` holds each strategy's corrections per sequence, its totals and its JSON
shape; ``seed_spread`` summarises several jittered annotators.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

STRATEGIES = ("interpolation", "forward", "fill")
FILL_ANCHORS = ("first-error", "second-error", "upfront", "none")
ORACLE_FUSION = "oracle"
"""A simulator-only fusion that knows the truth: each frame takes a pass that is right there
when either is. No rule can do better with the same two passes, so fill with it bounds what
any fusion could gain over forward-only with a given tracker."""
ANCHOR_AFTER_ERRORS: dict[str, int | None] = {"upfront": 0, "first-error": 1, "second-error": 2, "none": None}
"""When the "fill" annotator also draws the last frame: up front, at the first or second error, never."""
CORRECTION_KINDS = ("lost", "drifted", "loose", "presence", "anchor")
"""What the tool showed where the simulated person corrected it (``Truth.kind``): a box off the
target (IoU < 0.1: the tracker followed something else), a box half off it (IoU < 0.3), a box
on the target that is not tight enough (IoU from 0.3 to the bar), a wrong presence (no box on
a visible target, or a box on an absent one), or nothing wrong: the last frame fill's person
draws once as an anchor. Learning what the target looks like can only fix the first kinds;
the loose box is the regression's error."""
LOST_IOU, DRIFTED_IOU = 0.1, 0.3
DEFAULT_INTERVALS = (5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 0)
"""Keyframe intervals tried by "interpolation"; 0 means the first box only (held)."""


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated annotator judges and which strategies run.

    pass_score_threshold / patience: fill passes stop after `patience` frames below the
    threshold (0.0 never stops; forward-only never stops, like the tools it stands for).
    agree_iou: fill's agreement IoU; None takes the tracker's own, as the engine does.
    """

    iou_threshold: float = 0.5
    strategies: tuple[str, ...] = STRATEGIES
    intervals: tuple[int, ...] = DEFAULT_INTERVALS
    fusion: str = "agreement"
    agree_iou: float | None = None
    fill_anchor: str = "second-error"
    pass_score_threshold: float = 0.0
    patience: int = 3
    max_frames: int | None = None
    jitter: float = 0.0
    seed: int = 0
    adapt: bool = False


DEFAULT_JITTER = 0.02
"""How far a simulated person's drawn box strays with ``--seeds``: position and size each move by
up to this share of the box's size. People never draw the same box twice, and single
correction counts move by about a tenth with changes this small, so models are compared by
the mean and the spread over several such annotators."""


@dataclass(frozen=True)
class StrategyResult:
    """One strategy on one sequence (or summed over sequences)."""

    frames: int
    corrections: int
    compute_seconds: float
    frames_tracked: int
    interval: int | None = None
    fusion_misses: int | None = None
    kinds: tuple[int, ...] | None = None  # corrections of each of CORRECTION_KINDS (tracking strategies)

    @property
    def corrections_per_100_frames(self) -> float:
        return 100.0 * self.corrections / self.frames if self.frames else 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["corrections_per_100_frames"] = round(self.corrections_per_100_frames, 3)
        out["compute_seconds"] = round(self.compute_seconds, 3)
        for optional in ("interval", "fusion_misses", "kinds"):
            if out[optional] is None:
                out.pop(optional)
        if self.kinds is not None:
            out["kinds"] = dict(zip(CORRECTION_KINDS, self.kinds))
        return out


@dataclass(frozen=True)
class SequenceOutcome:
    name: str
    frames: int
    results: dict[str, StrategyResult]
    interpolation_sweep: dict[int, int] = field(default_factory=dict)  # interval -> corrections


@dataclass(frozen=True)
class SimulationReport:
    config: SimulatorConfig
    tracker: str
    sequences: tuple[SequenceOutcome, ...]

    def total(self, strategy: str) -> StrategyResult:
        rows = [s.results[strategy] for s in self.sequences if strategy in s.results]
        return StrategyResult(frames=sum(r.frames for r in rows), corrections=sum(r.corrections for r in rows),
                              compute_seconds=sum(r.compute_seconds for r in rows),
                              frames_tracked=sum(r.frames_tracked for r in rows),
                              fusion_misses=None if any(r.fusion_misses is None for r in rows) or not rows
                              # mypy, next line: no None left after the any() check
                              else sum(r.fusion_misses for r in rows),  # type: ignore[misc]
                              kinds=sum_kinds([r.kinds for r in rows]))

    def interpolation_sweep(self) -> dict[int, float]:
        """Corrections / 100 frames over all sequences for each fixed interval."""
        frames = sum(s.frames for s in self.sequences if s.interpolation_sweep)
        if not frames:
            return {}
        intervals = self.sequences[0].interpolation_sweep.keys()
        return {n: round(100.0 * sum(s.interpolation_sweep[n] for s in self.sequences) / frames, 3) for n in intervals}

    def to_dict(self) -> dict:
        strategies = {name: self.total(name).to_dict() for name in self.config.strategies}
        if "interpolation" in strategies:
            sweep = self.interpolation_sweep()
            strategies["interpolation"]["interval"] = "best per sequence"
            strategies["interpolation"]["per_interval"] = {str(k): v for k, v in sweep.items()}
        return {
            "tracker": self.tracker,
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.config).items()},
            "strategies": strategies,
            "sequences": [
                {"name": s.name, "frames": s.frames, **{k: r.to_dict() for k, r in s.results.items()}}
                for s in self.sequences
            ],
        }


@dataclass(frozen=True)
class SeedSpread:
    """One strategy's corrections per 100 frames over several jittered annotators (``--seeds``)."""

    strategy: str
    per_run: tuple[float, ...]
    kinds: tuple[int, ...] | None = None  # corrections of each of CORRECTION_KINDS over all runs

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_run)) if self.per_run else 0.0

    @property
    def std(self) -> float:
        """Sample standard deviation (0 for a single run)."""
        return float(np.std(self.per_run, ddof=1)) if len(self.per_run) > 1 else 0.0

    def to_dict(self) -> dict:
        out = {"mean": round(self.mean, 3), "std": round(self.std, 3), "min": round(min(self.per_run), 3),
               "max": round(max(self.per_run), 3), "per_run": [round(v, 3) for v in self.per_run]}
        if self.kinds is not None:
            out["kinds"] = dict(zip(CORRECTION_KINDS, self.kinds))
        return out


def seed_spread(reports: list[SimulationReport]) -> dict[str, SeedSpread]:
    """Mean and spread of each strategy's corrections per 100 frames over ``reports``."""
    strategies = reports[0].config.strategies if reports else ()
    return {name: SeedSpread(name, tuple(r.total(name).corrections_per_100_frames for r in reports),
                             sum_kinds([r.total(name).kinds for r in reports]))
            for name in strategies}


def sum_kinds(counts: list[tuple[int, ...] | None]) -> tuple[int, ...] | None:
    """Corrections of each kind summed over results (None when any result has none)."""
    present = [c for c in counts if c is not None]
    if not counts or len(present) < len(counts):
        return None
    return tuple(int(sum(column)) for column in zip(*present))


def kinds_line(kinds: tuple[int, ...] | None) -> str:
    """"lost 2% · drifted 4% · ..." of the corrections (empty without counts)."""
    if not kinds or not sum(kinds):
        return ""
    total = sum(kinds)
    return " · ".join(f"{name} {100.0 * n / total:.0f}%" for name, n in zip(CORRECTION_KINDS, kinds) if n)

"""How the features combine into one suspicion per frame: a logistic model, fitted offline.

The weights live in core/review/weights.py, written by ``python -m benchmarks.review_bench
--fit`` from tracker runs on ../shared/data/train (never on seqs/, where the queue is
measured). Cues that forward runs never produce (the passes' disagreement, interpolated
frames) cannot be fitted there; their weights are set by the rule in core.review.fit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .features import FEATURES


@dataclass(frozen=True)
class ReviewWeights:
    """A logistic model over named features: logit = intercept + sum(coef * (x - mean) / scale).

    names: feature names (a subset of core.review.features.FEATURES, any order); mean, scale:
    standardisation from the fit; coef: one weight per standardised feature. fitted_on: how
    and on what the weights were fitted (quoted by the benchmark).
    """

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    fitted_on: str = ""

    def __post_init__(self) -> None:
        unknown = [n for n in self.names if n not in FEATURES]
        if unknown:
            raise ValueError(f"unknown review features {unknown}")
        if not len(self.names) == len(self.mean) == len(self.scale) == len(self.coef):
            raise ValueError("names, mean, scale and coef must have the same length")

    def _columns(self) -> list[int]:
        return [FEATURES.index(n) for n in self.names]

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        """float [n, len(names)]: each feature's share of the logit (what the explanation ranks)."""
        x = np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))[:, self._columns()]
        return (x - np.asarray(self.mean)) / np.asarray(self.scale) * np.asarray(self.coef)

    def logits(self, rows: np.ndarray) -> np.ndarray:
        return self.intercept + self.contributions(rows).sum(axis=1)

    def suspicion(self, rows: np.ndarray) -> np.ndarray:
        """float [n] in (0, 1): higher means the box is more likely wrong."""
        z = np.clip(self.logits(rows), -50.0, 50.0)
        return 1.0 / (1.0 + np.exp(-z))

    def as_source(self) -> str:
        """Python source of this object (what --fit writes into core/review/weights.py)."""
        def floats(values: tuple[float, ...]) -> str:
            return "(" + ", ".join(repr(round(float(v), 6)) for v in values) + ("," if len(values) == 1 else "") + ")"
        return (f"ReviewWeights(\n    names={self.names!r},\n    mean={floats(self.mean)},\n"
                f"    scale={floats(self.scale)},\n    coef={floats(self.coef)},\n"
                f"    intercept={round(float(self.intercept), 6)!r},\n    fitted_on={self.fitted_on!r},\n)")


def logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

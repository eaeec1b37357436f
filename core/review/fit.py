"""Fitting the review weights: an L2-regularised logistic regression, Newton steps, numpy only.

Each sequence weighs the same in the fit, and wrong and right frames weigh the same overall:
otherwise the few long sequences a tracker loses for good (most wrong frames of the training
set) would teach the model those and nothing else. Measured with
leave-one-sequence-out runs on ../shared/data/train (benchmarks/review_bench.py --fit).
"""
from __future__ import annotations

import numpy as np

from .features import FEATURES
from .model import ReviewWeights

FITTED = ("sustained_drop", "low", "size_drift", "distractor_rise", "motion")
"""The features whose weights are fitted. Leave-one-sequence-out runs on train/ chose the first
three; the distractor's rise and the motion jump cost those runs almost nothing and stand for
the failure train/ has few of (a box that hops to a look-alike), so a refit for another model
can weigh them (for lite the distractor's weight comes out near zero)."""
L2 = 0.1
RULED = ("disagreement", "interpolated")
"""Features forward runs never produce, so they cannot be fitted on them: each gets the weight
per raw unit that `low` has, so a fill whose passes do not overlap at all, or a frame no
pass reached, counts as much as a box scored zero would."""


def fit_logistic(rows: np.ndarray, wrong: np.ndarray, groups: np.ndarray, names: tuple[str, ...] = FITTED,
                 l2: float = L2, iterations: int = 50) -> ReviewWeights:
    """Weights for `names` from feature rows [n, len(FEATURES)], wrong [n] bool (IoU with the
    truth below the bar) and groups [n] (sequence ids, each weighted equally).

    Every feature is defined so that more of it is more evidence of a wrong box; a feature the
    fit would weigh negatively is noise in the training set, so it gets weight 0 and the others
    are refitted without it (an explanation never cites evidence that lowered a suspicion).
    """
    x = np.asarray(rows, dtype=np.float64)[:, [FEATURES.index(n) for n in names]]
    y = np.asarray(wrong, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    standard = (x - mean) / scale
    weight = _sample_weights(y, np.asarray(groups))
    active = list(range(len(names)))
    while True:
        coef, intercept = _newton(standard[:, active], y, weight, l2, iterations)
        negative = [k for k, c in zip(active, coef) if c < 0]
        if not negative:
            break
        active = [k for k in active if k not in negative]
    full = np.zeros(len(names))
    full[active] = coef
    return ReviewWeights(tuple(names), tuple(mean), tuple(scale), tuple(full), float(intercept))


def _sample_weights(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each group weighs the same; then wrong and right frames weigh the same overall."""
    weight = np.zeros(len(y))
    for group in np.unique(groups):
        inside = groups == group
        weight[inside] = 1.0 / inside.sum()
    positive = float(np.sum(weight * y) / weight.sum())
    if not 0.0 < positive < 1.0:
        raise ValueError("the fit needs both wrong and right frames")
    weight *= np.where(y > 0, 0.5 / positive, 0.5 / (1.0 - positive))
    return weight / weight.sum()


def _newton(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float, iterations: int) -> tuple[np.ndarray, float]:
    """Weighted L2-regularised logistic regression on standardised x; (coef, intercept)."""
    design = np.c_[x, np.ones(len(x))]
    penalty = l2 * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    w = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -50, 50)))
        gradient = design.T @ (weight * (p - y)) + penalty @ w
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return w[:-1], float(w[-1])


def with_ruled(weights: ReviewWeights, fitted_on: str = "") -> ReviewWeights:
    """The fitted weights plus RULED features at `low`'s weight per raw unit (see RULED)."""
    if "low" not in weights.names:
        raise ValueError("the ruled weights are set relative to `low`, which the fit must include")
    i = weights.names.index("low")
    per_unit = weights.coef[i] / weights.scale[i]
    names = tuple(n for n in weights.names if n not in RULED) + RULED
    keep = [weights.names.index(n) for n in names[:-len(RULED)]]
    return ReviewWeights(
        names=names,
        mean=tuple(weights.mean[k] for k in keep) + (0.0,) * len(RULED),
        scale=tuple(weights.scale[k] for k in keep) + (1.0,) * len(RULED),
        coef=tuple(weights.coef[k] for k in keep) + (per_unit,) * len(RULED),
        intercept=weights.intercept,
        fitted_on=fitted_on or weights.fitted_on,
    )

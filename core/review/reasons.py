"""Why a frame is in the review queue, in the words of what was measured.

The explanation names the evidence that weighs most in the frame's suspicion and quotes the
measurement behind it ("score fell to 0.41 from its usual 0.83", "the best boxes around the
peak disagree (spread 0.32)"), never a rank: the annotator checks the claim against the frame.
"""
from __future__ import annotations

import math

from .features import FrameFacts


def _score(f: FrameFacts) -> str:
    if math.isfinite(f.level) and f.level > f.score:
        return f"score fell to {f.score:.2f} from its usual {f.level:.2f}"
    return f"score is only {f.score:.2f}"


def _spread(f: FrameFacts) -> str:
    return f"the best boxes around the peak disagree (spread {f.box_spread:.2f})"


def _disagreement(f: FrameFacts) -> str:
    return f"forward and backward passes disagree (overlap {1.0 - f.disagreement:.2f})"


def _interpolated(_: FrameFacts) -> str:
    return "no tracker pass reached this frame (interpolated)"


PHRASES = {
    "low": _score,
    "box_spread": _spread,
    "disagreement": _disagreement,
    "interpolated": _interpolated,
}


def explain(evidence: tuple[str, ...], facts: FrameFacts) -> str:
    """The phrases of the named evidence, strongest first, each said once ("a; b")."""
    phrases: list[str] = []
    for name in evidence:
        phrase = PHRASES[name](facts)
        if phrase not in phrases:
            phrases.append(phrase)
    return "; ".join(phrases) if phrases else _score(facts)

"""Why a frame is in the review queue, in the words of what was measured.

The explanation names the evidence that weighs most in the frame's suspicion and quotes the
measurement behind it ("score fell to 0.41 from its usual 0.83"), never a model weight: the
annotator checks the claim against the frame.
"""
from __future__ import annotations

import math

from .features import FrameFacts


def _times(ratio: float) -> float:
    return max(ratio, 1.0 / ratio) if ratio > 0 else math.inf


def _score(f: FrameFacts) -> str:
    if math.isfinite(f.level) and f.level > f.score:
        return f"score fell to {f.score:.2f} from its usual {f.level:.2f}"
    return f"score is only {f.score:.2f}"


def _since(f: FrameFacts) -> str:
    return "" if f.anchor_frame is None else f" since frame {f.anchor_frame + 1}"


def _size(f: FrameFacts) -> str:
    if _times(f.size_step) >= 1.25:
        return f"size {'jumped' if f.size_step > 1 else 'dropped'} {_times(f.size_step):.1f}x from the previous frame"
    return f"size {'grew' if f.size_drift > 1 else 'shrank'} {_times(f.size_drift):.1f}x{_since(f)}"


def _aspect(f: FrameFacts) -> str:
    if _times(f.aspect_step) >= 1.25:
        return f"shape (width / height) jumped {_times(f.aspect_step):.1f}x from the previous frame"
    return f"shape (width / height) changed {_times(f.aspect_drift):.1f}x{_since(f)}"


def _motion(f: FrameFacts) -> str:
    return f"box jumped {f.motion:.1f}x farther than the track usually moves"


def _distractor(f: FrameFacts) -> str:
    return f"a second peak in the heat map reaches {f.distractor:.0%} of the first (a look-alike nearby)"


def _disagreement(f: FrameFacts) -> str:
    return f"forward and backward passes disagree (overlap {1.0 - f.disagreement:.2f})"


def _interpolated(_: FrameFacts) -> str:
    return "no tracker pass reached this frame (interpolated)"


PHRASES = {
    "drop": _score, "sustained_drop": _score, "low": _score,
    "size_step": _size, "size_drift": _size,
    "aspect_step": _aspect, "aspect_drift": _aspect,
    "motion": _motion,
    "distractor": _distractor, "distractor_rise": _distractor,
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

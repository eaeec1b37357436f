"""The review queue: which derived boxes a person should look at first, and why.

Qt-free. ``build_queue(project)`` ranks every tracked or interpolated frame by a suspicion
computed from the stored labels and the tracker cues saved beside their scores
(core.review.cues); human labels are never in it. ``walk`` steps through it the way the
app's ``]`` and ``[`` do.
"""
from .model import ReviewWeights
from .queue import ReviewItem, ReviewStep, ReviewWalk, build_queue, walk

__all__ = ["ReviewItem", "ReviewStep", "ReviewWalk", "ReviewWeights", "build_queue", "walk"]

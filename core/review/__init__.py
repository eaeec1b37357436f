"""The review queue: which derived boxes a person should look at first, and why.

Qt-free. ``build_queue(project)`` ranks every tracked or interpolated frame by a suspicion
computed from the stored labels and the tracker cues saved beside their scores: the box spread
and the score, each by its rank in the queue, plus fill's disagreement and interpolation
(core.review.rule); human labels are never in it. ``walk`` steps through it the way the app's
``]`` and ``[`` do.
"""
from .queue import ReviewItem, ReviewStep, ReviewWalk, build_queue, walk

__all__ = ["ReviewItem", "ReviewStep", "ReviewWalk", "build_queue", "walk"]

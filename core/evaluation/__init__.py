"""One-pass evaluation: metrics (pure numpy), OpenCV peer trackers, run and report.

Kept light on purpose: import the submodule you need (``core.evaluation.metrics``,
``.peers``, ``.ope``, ``.report``) so importing the package costs nothing.
"""

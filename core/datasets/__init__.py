"""Labelled sequences for training and evaluation: ``LOADERS``, one reader per dataset layout.

OTB, GOT-10k, LaSOT, MOT, COCO and our own projects, read through core.formats into
``Sequence``s (core.media.sequence); ``detect_layout`` (core.formats.layout) names the layout.
"""
from ..formats.layout import detect_layout
from ..media.sequence import Sequence
from .loader import LOADERS, load_sequences

__all__ = ["LOADERS", "Sequence", "detect_layout", "load_sequences"]

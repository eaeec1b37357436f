"""Readers of labelled sequences (OTB, GOT-10k, LaSOT, MOT, COCO, our projects)."""
from .detect import detect_layout
from .loader import load_sequences
from .sequence import Sequence

__all__ = ["Sequence", "detect_layout", "load_sequences"]

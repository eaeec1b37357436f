"""Readers of labelled sequences (OTB, GOT-10k, LaSOT, MOT, COCO, our projects)."""
from .sequence import Sequence

__all__ = ["Sequence"]

"""What a SiamCross tracker keeps of one target between frames; the caller owns it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.model import TemplateEncoding

from .adaptation import AdaptedClassifier


@dataclass(eq=False)
class TargetState:
    """One target between frames (updated in place by ``track_many``).

    template: the network's encoding of the template crop (computed once, at init).
    center_xy, size_wh: the target in frame pixels (continuous coordinates); the size
    is the smoothed tracker size, the centre is kept inside the frame.
    template_crop / template_box_xyxy: the template crop and its box, kept so the encoding
    can be rebuilt on another device (GPU out of memory -> CPU); generation says which
    device placement of the runner the encoding belongs to. classifier: the target's adapted
    last classification layer (``adapt_target``), None while it uses the offline one.
    """

    template: TemplateEncoding
    center_xy: tuple[float, float]
    size_wh: tuple[float, float]
    template_crop: np.ndarray
    template_box_xyxy: np.ndarray
    generation: int = 0
    classifier: AdaptedClassifier | None = None

    @property
    def box_xywh(self) -> tuple[float, float, float, float]:
        """The state's box (centre and size, not clipped to the frame)."""
        (cx, cy), (w, h) = self.center_xy, self.size_wh
        return (cx - w / 2.0, cy - h / 2.0, w, h)

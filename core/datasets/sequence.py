"""A labelled sequence as every reader returns it: frames plus per-frame boxes and flags."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import MediaError


@dataclass(frozen=True)
class Sequence:
    """One labelled sequence.

    frames: image paths in frame order (empty when the media is a video file).
    video: the video file when the frames live in one (frames is then empty).
    boxes: float64 Nx4, 0-based pixel x, y, w, h; rows are NaN where the target is absent.
    absent: bool N (True where the target is not visible at all; never a training positive).
    occluded, out_of_view, cut_by_image: bool N; cover: int N in 0-8 (-1 unknown).
    """

    name: str
    boxes: np.ndarray
    frames: tuple[Path, ...] = ()
    video: Path | None = None
    absent: np.ndarray = field(default=None)  # type: ignore[assignment]
    occluded: np.ndarray = field(default=None)  # type: ignore[assignment]
    out_of_view: np.ndarray = field(default=None)  # type: ignore[assignment]
    cut_by_image: np.ndarray = field(default=None)  # type: ignore[assignment]
    cover: np.ndarray = field(default=None)  # type: ignore[assignment]
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.boxes)
        invalid = ~np.isfinite(self.boxes).all(axis=1) | (self.boxes[:, 2] <= 0) | (self.boxes[:, 3] <= 0)
        defaults = {
            "absent": invalid,
            "occluded": np.zeros(n, bool),
            "out_of_view": np.zeros(n, bool),
            "cut_by_image": np.zeros(n, bool),
            "cover": np.full(n, -1, np.int64),
        }
        for name, default in defaults.items():
            value = getattr(self, name)
            object.__setattr__(self, name, default if value is None else np.asarray(value))
        object.__setattr__(self, "absent", self.absent | invalid)

    def __len__(self) -> int:
        return len(self.boxes)

    def read_frame(self, index: int) -> np.ndarray:
        """Frame `index` as uint8 HxWx3 BGR (image sequences; videos go through core.media)."""
        if self.video is not None:
            from ..media import open_media  # video frames need the exact-index reader

            with open_media(self.video) as source:
                return source.read(index)
        image = cv2.imread(str(self.frames[index]), cv2.IMREAD_COLOR)
        if image is None:
            raise MediaError(f"Cannot decode frame {index + 1} of {self.name}: {self.frames[index]}.")
        return image

"""Small model configs for tests of code paths the shipped lite does not take, and a weights
payload that runs code when unpickled."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from core.model import ModelConfig, lite_config


def depthwise_config() -> ModelConfig:
    """r50's path (1x1 neck reduction + BN, depthwise xcorr with BN adjust convs, OAINHeads with
    BN towers) on lite's cheap backbone, without ResNet-50's cost: an 8x8 template over a 16x16
    search map gives 9x9 responses whose middle cell sits on the search centre."""
    return dataclasses.replace(lite_config(), name="depthwise-test", correlation="depthwise", neck_reduce=True,
                               neck_channels=32, pca_reduction=4, head_convs=2, adca_channels=16)


class PickleBomb:
    """Unpickling this runs code (writes a marker file): what a malicious weights file does."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('code ran')",))

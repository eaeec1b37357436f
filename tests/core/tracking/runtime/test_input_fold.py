"""The backbone's input normalisation folded into its first conv (core.tracking.runtime.input_fold)
computes the same function, padding included, and leaves graphs it does not recognise alone."""
from __future__ import annotations

import operator

import pytest
import torch
from torch import fx, nn

from core.model.backbones import _Normalize
from core.tracking.runtime.input_fold import fold_input_normalisation


class Stem(nn.Module):
    """Normalise, then a padded strided conv: the shape of both backbones' first layers."""

    def __init__(self, padding: int = 1, normalize: bool = True) -> None:
        super().__init__()
        self.normalize = _Normalize((123.675, 116.28, 103.53), (58.395, 57.12, 57.375)) if normalize else None
        self.conv = nn.Conv2d(3, 8, 3, 2, padding, bias=True)

    def forward(self, bgr: torch.Tensor) -> torch.Tensor:
        x = self.normalize(bgr) if self.normalize is not None else bgr
        return torch.relu(self.conv(x))


def traced(module: nn.Module) -> fx.GraphModule:
    torch.manual_seed(0)
    return fx.symbolic_trace(module.eval())


@pytest.mark.parametrize("padding", [0, 1, 3])
def test_folded_stem_gives_the_same_output_at_the_borders_too(padding):
    reference = traced(Stem(padding))
    folded = traced(Stem(padding))
    folded.load_state_dict(reference.state_dict())
    assert fold_input_normalisation(folded)
    ops = [n.target for n in folded.graph.nodes if n.op in ("call_method", "call_function")]
    assert "flip" not in ops and operator.truediv not in ops  # one subtraction is all that is left
    x = torch.rand(2, 3, 31, 29) * 255.0
    x[:, 0] = 250.0  # a channel far from its mean: a wrong channel order or padding shows at once
    with torch.inference_mode():
        torch.testing.assert_close(folded(x), reference(x), rtol=1e-5, atol=1e-4)


def test_a_backbone_without_the_normalisation_is_left_alone():
    plain = traced(Stem(normalize=False))
    before = plain.conv.weight.clone()
    assert not fold_input_normalisation(plain)
    assert torch.equal(plain.conv.weight, before)


def test_a_normalised_input_used_twice_is_left_alone():
    class TwoUsers(Stem):
        def forward(self, bgr: torch.Tensor) -> torch.Tensor:
            x = self.normalize(bgr)
            return self.conv(x) + x.mean()

    module = traced(TwoUsers())
    before = module.conv.weight.clone()
    assert not fold_input_normalisation(module)
    assert torch.equal(module.conv.weight, before)

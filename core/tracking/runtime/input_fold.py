"""Fold the backbone's input normalisation into its first convolution (inference only).

Why: a backbone that normalises its raw BGR 0..255 input itself (ResNet-50),
``(bgr.flip(1) - mean) / std``, makes three full passes over the 255 px search crop (flip,
subtract, divide), paid again for every target. The first conv is linear, so

    conv(W, (flip(x) - mean) / std) = conv(W', x - m'),   W'[:, c] = W[:, 2 - c] / std[2 - c],
                                                          m'[c] = mean[2 - c],

and its zero padding stays exact: a padded zero of the normalised input is a zero of
``x - m'``. One subtraction is left in the graph; the outputs equal the original up to
float rounding.
"""
from __future__ import annotations

import logging
import operator

import torch
from torch import fx, nn

log = logging.getLogger(__name__)

_SUB = (operator.sub, torch.sub)
_DIV = (operator.truediv, torch.div)


def _buffer(graph_module: fx.GraphModule, node: object) -> torch.Tensor | None:
    """The tensor a get_attr node names (a [1, 3, 1, 1] per-channel constant), else None."""
    if not isinstance(node, fx.Node) or node.op != "get_attr":
        return None
    value: object = graph_module
    for part in str(node.target).split("."):
        value = getattr(value, part, None)
    if not isinstance(value, torch.Tensor) or value.numel() != 3:
        return None
    return value.detach().reshape(3)


def _only_user(node: fx.Node) -> fx.Node | None:
    users = list(node.users)
    return users[0] if len(users) == 1 else None


def fold_input_normalisation(graph_module: fx.GraphModule) -> bool:
    """Rewrite ``x -> flip(1) -> sub(mean) -> truediv(std) -> Conv2d`` at the graph's input into
    ``x -> sub(m') -> Conv2d'``; True when the pattern was found and folded, else no change."""
    placeholders = [n for n in graph_module.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        return False
    flip = _only_user(placeholders[0])
    if flip is None or flip.op != "call_method" or flip.target != "flip" or tuple(flip.args[1:]) not in ((1,), ([1],)):
        return False
    sub = _only_user(flip)
    if sub is None or sub.op != "call_function" or sub.target not in _SUB or sub.args[0] is not flip or sub.kwargs:
        return False
    div = _only_user(sub)
    if div is None or div.op != "call_function" or div.target not in _DIV or div.args[0] is not sub or div.kwargs:
        return False
    mean, std = _buffer(graph_module, sub.args[1]), _buffer(graph_module, div.args[1])
    conv_node = _only_user(div)
    if conv_node is None or conv_node.op != "call_module":
        return False
    conv = graph_module.get_submodule(str(conv_node.target))
    if mean is None or std is None or type(conv) is not nn.Conv2d or conv.in_channels != 3 or conv.groups != 1 \
            or conv.padding_mode != "zeros" or isinstance(conv.padding, str) or not bool((std != 0).all()):
        return False
    with torch.no_grad():
        scale = (1.0 / std).flip(0).to(conv.weight)  # per input channel, BGR order
        conv.weight.copy_(conv.weight.flip(1) * scale.view(1, 3, 1, 1))
    graph_module.register_buffer("input_shift", mean.flip(0).reshape(1, 3, 1, 1).clone(), persistent=False)
    graph = graph_module.graph
    with graph.inserting_before(flip):
        shift = graph.get_attr("input_shift")
        shifted = graph.call_function(operator.sub, (placeholders[0], shift))
    conv_node.replace_input_with(div, shifted)
    for dead in (div, sub, flip):
        graph.erase_node(dead)
    graph.eliminate_dead_code()
    graph.lint()
    graph_module.recompile()
    return True

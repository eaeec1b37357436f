"""oneDNN convolutions for CPU inference: activation and residual add fused into the conv,
weights packed once into oneDNN's blocked layout instead of on every call.

Why: a folded backbone run by plain torch ops on a CPU makes a separate activation pass
(ReLU, ReLU6 as a clamp) over every conv output, large at strides 2 and 4, and re-lays out
weights and activations on every call; one fused, pre-packed oneDNN primitive per conv removes
both, with the same arithmetic (outputs equal to float rounding, checked once when applied).
Used for backbones without a better CPU layout (ResNet-50; core.tracking.runtime.inference).

The operators are PyTorch's own (``torch.ops.mkldnn._convolution_pointwise``, what
torch.compile's CPU backend emits) and need no compiler. ``OneDNNConv`` falls back to
``F.conv2d`` for any input that is not a float32 CPU tensor, so a net moved to a GPU or
cast to half precision afterwards still computes the same function.
"""
from __future__ import annotations

import logging
import operator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, fx, nn

log = logging.getLogger(__name__)

_RELU6 = (F.relu6,)
_RELU = (F.relu, torch.relu)
_ADD = (operator.add, operator.iadd, torch.add)


@dataclass(frozen=True)
class Activation:
    """A pointwise op oneDNN applies to the conv output in the same pass."""

    name: str  # oneDNN post-op: "relu", "hardtanh" or "hardswish"
    scalars: tuple[float, ...] = ()

    def apply(self, x: Tensor) -> Tensor:
        if self.name == "relu":
            return F.relu(x)
        if self.name == "hardswish":
            return F.hardswish(x)
        low, high = self.scalars
        return F.hardtanh(x, low, high)


RELU = Activation("relu")
RELU6 = Activation("hardtanh", (0.0, 6.0))
HARDSWISH = Activation("hardswish")


def onednn_available() -> bool:
    """True when this torch build has the fused oneDNN convolution operators."""
    try:
        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
    except (AttributeError, RuntimeError):
        return False


class OneDNNConv(nn.Module):
    """conv(x) [+ residual] [-> activation] as one oneDNN primitive with pre-packed weights.

    weight/bias stay ordinary (frozen) parameters, so ``.to()``, parameter counts and the
    non-CPU path see a normal conv; the packed copy is rebuilt whenever they change.
    """

    def __init__(self, conv: nn.Conv2d, activation: Activation | None = None, residual: bool = False) -> None:
        super().__init__()
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError("OneDNNConv needs a conv with explicit zero padding")
        self.weight = nn.Parameter(conv.weight.detach().clone(), requires_grad=False)
        bias = conv.bias.detach().clone() if conv.bias is not None else None
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)
        self.stride = list(conv.stride)
        self.padding = list(conv.padding)
        self.dilation = list(conv.dilation)
        self.groups = conv.groups
        self.activation = activation
        self.residual = residual
        self._packed: Tensor | None = None
        self._packed_key: tuple | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_packed"], state["_packed_key"] = None, None  # opaque oneDNN tensors do not copy
        return state

    def extra_repr(self) -> str:
        return (f"{tuple(self.weight.shape)}, stride={self.stride}, dilation={self.dilation}, groups={self.groups}, "
                f"activation={None if self.activation is None else self.activation.name}, residual={self.residual}")

    def _packed_weight(self) -> Tensor:
        w = self.weight
        key = (w.data_ptr(), w._version)
        if self._packed is None or self._packed_key != key:
            with torch.no_grad():
                self._packed = torch.ops.mkldnn._reorder_convolution_weight(
                    w.detach(), self.padding, self.stride, self.dilation, self.groups, None)
            self._packed_key = key
        return self._packed

    def forward(self, x: Tensor, residual: Tensor | None = None) -> Tensor:
        if x.device.type != "cpu" or x.dtype != torch.float32 or self.weight.dtype != torch.float32 \
                or self.weight.device.type != "cpu" or torch.is_grad_enabled():
            return self._reference(x, residual)
        bias = None if self.bias is None else self.bias.detach()
        act = self.activation
        if residual is None:
            return torch.ops.mkldnn._convolution_pointwise(
                x, self._packed_weight(), bias, self.padding, self.stride, self.dilation, self.groups,
                act.name if act else "none", list(act.scalars) if act else [], None)
        return torch.ops.mkldnn._convolution_pointwise.binary(
            x, residual, self._packed_weight(), bias, self.padding, self.stride, self.dilation, self.groups,
            "add", 1.0, act.name if act else None, list(act.scalars) if act else [], None)

    def _reference(self, x: Tensor, residual: Tensor | None) -> Tensor:
        out = F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        if residual is not None:
            out = out + residual
        return out if self.activation is None else self.activation.apply(out)


def _activation_of(node: fx.Node, modules: dict[str, nn.Module]) -> Activation | None:
    if node.op == "call_function" and node.target in _RELU6:
        return RELU6
    if node.op == "call_function" and node.target in _RELU:
        return RELU
    if node.op == "call_module" and type(modules.get(str(node.target))) is nn.ReLU:
        return RELU
    if node.op == "call_module" and type(modules.get(str(node.target))) is nn.ReLU6:
        return RELU6
    if node.op == "call_module" and type(modules.get(str(node.target))) is nn.Hardswish:
        return HARDSWISH
    if node.op == "call_function" and node.target is F.hardswish:
        return HARDSWISH
    return None


def _only_user(node: fx.Node) -> fx.Node | None:
    users = list(node.users)
    return users[0] if len(users) == 1 else None


def _set_submodule(root: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, name, module)


def fuse_graph_convs(graph_module: fx.GraphModule) -> int:
    """Replace every Conv2d of a traced (BN-folded) module by a OneDNNConv, absorbing a
    following residual add and/or ReLU / ReLU6 into it; returns how many convs changed."""
    modules = dict(graph_module.named_modules())
    graph = graph_module.graph
    order = {n: i for i, n in enumerate(graph.nodes)}
    count = 0
    for node in list(graph.nodes):
        conv = modules.get(node.target) if node.op == "call_module" else None
        if type(conv) is not nn.Conv2d or conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            continue
        absorbed: list[fx.Node] = []  # the add and/or activation folded into this conv, in order
        residual = None
        user = _only_user(node)
        if (user is not None and user.op == "call_function" and user.target in _ADD and len(user.args) == 2
                and not user.kwargs):
            other = user.args[1] if user.args[0] is node else user.args[0]
            if isinstance(other, fx.Node) and order[other] < order[node]:  # exists before the conv runs
                absorbed.append(user)
                residual = other
                user = _only_user(user)
        activation = _activation_of(user, modules) if user is not None else None
        if user is not None and activation is not None:
            absorbed.append(user)
        _set_submodule(graph_module, node.target, OneDNNConv(conv, activation, residual is not None))
        if residual is not None:
            node.args = (node.args[0], residual)
        if absorbed:
            absorbed[-1].replace_all_uses_with(node)
            for dead in reversed(absorbed):
                graph.erase_node(dead)
        count += 1
    graph.lint()
    graph_module.recompile()
    graph_module.delete_all_unused_submodules()
    return count

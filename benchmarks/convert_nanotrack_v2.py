"""One-off: copy NanoTrack v2's weights from its ONNX files into resources/models/nanotrack-v2.pt.

    .venv/bin/pip install onnx          # a development tool only; never imported at run time
    .venv/bin/python -m benchmarks.convert_nanotrack_v2 [--peers ../shared/peers/nanotrack/v2]

The backbone goes into core.model.mobile_backbone.NanoTrackV2Backbone (stem input
channels reordered to read BGR), the head into the pixel-wise correlation and mobile OAIN
heads of siamcross-lite (core.model.pixelwise): NanoTrack's 2-way softmax classifier
becomes one logit (softmax(a, b)[1] = sigmoid(b - a)), its (l, t, r, b) box channels become
(l, r, t, b), and the paper's additions start as the identity (gates at 0). The weights are
Apache-2.0 (resources/models/NANOTRACK_LICENSE); tests check the torch modules against
the ONNX files through OpenCV's dnn module.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.model.mobile_backbone import WEIGHTS_FILE, NanoTrackV2Backbone

DEFAULT_PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers" / "nanotrack" / "v2"
SOURCE = "HonglinChu/SiamTrackers@248663fde6bf7c40190cf10ee396d5662919ecd3 NanoTrack/models/nanotrackv2"


def _onnx_layers(path: Path) -> tuple[list[tuple[str, str, list[np.ndarray]]], dict[str, np.ndarray]]:
    """(node name or output, op, [initializer arrays]) per Conv/Gemm node in graph order, and
    every initializer by name."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    layers = []
    for node in model.graph.node:
        if node.op_type in ("Conv", "Gemm"):
            arrays = [inits[name] for name in node.input[1:] if name in inits]
            layers.append((node.output[0], node.op_type, arrays))
    return layers, inits


def _as_conv(array: np.ndarray) -> torch.Tensor:
    tensor = torch.from_numpy(np.array(array, dtype=np.float32))
    return tensor[:, :, None, None] if tensor.dim() == 2 else tensor


def backbone_state(path: Path) -> dict[str, torch.Tensor]:
    """NanoTrackV2Backbone's state dict from the backbone ONNX (layers matched in order, shapes checked)."""
    layers, _ = _onnx_layers(path)
    module = NanoTrackV2Backbone()
    names = [n for n, _ in module.named_parameters()]
    arrays = [a for _, _, group in layers for a in group]
    if len(arrays) != len(names):
        raise SystemExit(f"{path.name}: {len(arrays)} arrays for {len(names)} parameters")
    state = {}
    for name, array in zip(names, arrays):
        tensor = _as_conv(array)
        if tuple(tensor.shape) != tuple(module.get_parameter(name).shape):
            raise SystemExit(f"{path.name}: {name} has shape {tuple(tensor.shape)} in the ONNX file")
        state[name] = tensor
    state["stem.0.weight"] = state["stem.0.weight"].flip(1).contiguous()  # RGB -> BGR input order
    return state


def head_state(path: Path) -> dict[str, torch.Tensor]:
    """SiamCrossNet state entries (pixel-wise xcorr and mobile OAIN heads) from the head ONNX."""
    layers, inits = _onnx_layers(path)
    by_output = {name: arrays for name, _, arrays in layers}

    def conv(prefix: str) -> list[torch.Tensor]:
        matches = [arrays for name, arrays in by_output.items() if name.startswith(prefix)]
        if len(matches) != 1:
            raise SystemExit(f"{path.name}: {len(matches)} convolutions named {prefix}")
        return [_as_conv(a) for a in matches[0]]

    state: dict[str, torch.Tensor] = {}
    for branch, ours in (("reg", "reg"), ("cls", "cls")):
        for part, adjust in (("conv_kernel", "template_adjust"), ("conv_search", "search_adjust")):
            weight, bias = conv(f"/corr_pw_{branch}/{part}/")
            state[f"{ours}_xcorr.0.{adjust}.weight"], state[f"{ours}_xcorr.0.{adjust}.bias"] = weight, bias
        for fc in ("fc1", "fc2"):
            state[f"heads.{ours}_attention.{fc}.weight"] = _as_conv(inits[f"corr_pw_{branch}.CA_layer.{fc}.weight"])
            state[f"heads.{ours}_attention.{fc}.bias"] = _as_conv(inits[f"corr_pw_{branch}.CA_layer.{fc}.bias"])
        state[f"heads.{ours}_attention.max_gate"] = torch.zeros(1)
        tower = "cls_pw_tower" if branch == "cls" else "bbox_pw_tower"
        for block in range(6):
            depthwise, pointwise = 4 * block, 4 * block + 1
            ours_dw, ours_pw = 3 * block, 3 * block + 1
            state[f"heads.{ours}_tower.{ours_dw}.weight"] = _as_conv(inits[f"{tower}.{depthwise}.weight"])
            weight, bias = conv(f"/{tower}/{tower}.{pointwise}/")
            state[f"heads.{ours}_tower.{ours_pw}.weight"], state[f"heads.{ours}_tower.{ours_pw}.bias"] = weight, bias
    cls_weight, cls_bias = _as_conv(inits["cls_pred.0.weight"]), torch.from_numpy(np.array(inits["cls_pred.0.bias"]))
    state["heads.cls_logits.weight"] = (cls_weight[1:2] - cls_weight[0:1]).contiguous()
    state["heads.cls_logits.bias"] = (cls_bias[1:2] - cls_bias[0:1]).contiguous()
    order = [0, 2, 1, 3]  # NanoTrack (l, t, r, b) -> ours (l, r, t, b)
    state["heads.reg_raw.weight"] = _as_conv(inits["bbox_pred.0.weight"])[order].contiguous()
    state["heads.reg_raw.bias"] = torch.from_numpy(np.array(inits["bbox_pred.0.bias"]))[order].contiguous()
    state["heads.spatial_gate"] = torch.zeros(1)
    return {k: v.float() for k, v in state.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=Path, default=DEFAULT_PEERS, help="folder of the NanoTrack v2 ONNX files")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = parser.parse_args(argv)
    payload: dict[str, Any] = {
        "backbone": backbone_state(args.peers / "nanotrack_backbone_sim.onnx"),
        "heads": head_state(args.peers / "nanotrack_head_sim.onnx"),
        "source": SOURCE,
        "licence": "Apache-2.0",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, args.out)
    count = sum(v.numel() for part in ("backbone", "heads") for v in payload[part].values())
    print(f"wrote {args.out} ({count:,} parameters)")


if __name__ == "__main__":
    main()

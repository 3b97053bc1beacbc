"""Writes ops_reference.npz (torchvision.ops outputs on fixed inputs) and ops_reference.json (module reprs),
for tests/vision/test_ops*.py.

Run with the torch environment: /work/torchenv/bin/python tests/vision/data/make_ops_reference.py
"""

import json
import os

import numpy as np
import torch
import torchvision
from torchvision.ops import feature_pyramid_network as fpn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "ops_reference.npz")
REPRS = os.path.join(HERE, "ops_reference.json")


def rois(rng, k, n, low, high):
    """K RoIs [batch, x1, y1, x2, y2], some degenerate and some past the borders."""
    xy = rng.uniform(low, high, (k, 2))
    wh = rng.uniform(-1.0, high / 2, (k, 2))
    return np.concatenate([rng.integers(0, n, (k, 1)).astype(np.float64), xy, xy + wh], axis=1)


def main():
    rng = np.random.default_rng(1234)
    out = {}
    x = rng.standard_normal((2, 8, 9, 10))
    r = rois(rng, 10, 2, -2.0, 11.0)
    out["roi_input"], out["roi_rois"] = x, r
    tx, tr = torch.tensor(x), torch.tensor(r)
    for aligned in (False, True):
        for sr in (-1, 2):
            out[f"roi_align_a{int(aligned)}_s{sr}"] = torchvision.ops.roi_align(
                tx, tr, (2, 3), 0.8, sr, aligned).numpy()
    out["roi_pool"] = torchvision.ops.roi_pool(tx, tr, (2, 3), 0.8).numpy()
    out["ps_roi_align"] = torchvision.ops.ps_roi_align(tx, tr, 2, 0.8, -1).numpy()
    out["ps_roi_pool"] = torchvision.ops.ps_roi_pool(tx, tr, 2, 0.8).numpy()

    # Deformable convolution with groups, offset groups, stride, padding, dilation and mask.
    dx = rng.standard_normal((2, 4, 6, 7))
    dw = rng.standard_normal((6, 2, 3, 3))
    db = rng.standard_normal(6)
    doff = rng.uniform(-2.5, 2.5, (2, 2 * 2 * 9, 3, 3))
    dmask = rng.uniform(0, 1, (2, 2 * 9, 3, 3))
    out.update(deform_input=dx, deform_weight=dw, deform_bias=db, deform_offset=doff, deform_mask=dmask)
    out["deform_out"] = torchvision.ops.deform_conv2d(
        torch.tensor(dx), torch.tensor(doff), torch.tensor(dw), torch.tensor(db), stride=2, padding=1,
        dilation=(1, 2), mask=torch.tensor(dmask)).numpy()

    # FPN with P6/P7: fixed weights, so the test loads them and compares the outputs.
    torch.manual_seed(0)
    net = torchvision.ops.FeaturePyramidNetwork([3, 5], 4, fpn.LastLevelP6P7(5, 4)).double()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.3)
    feats = {"c4": rng.standard_normal((1, 3, 8, 8)), "c5": rng.standard_normal((1, 5, 4, 4))}
    res = net({k: torch.tensor(v) for k, v in feats.items()})
    for k, v in net.state_dict().items():
        out[f"fpn_param/{k}"] = v.numpy()
    for k, v in feats.items():
        out[f"fpn_in/{k}"] = v
    for k, v in res.items():
        out[f"fpn_out/{k}"] = v.detach().numpy()
    np.savez_compressed(OUT, **out)
    print(OUT, os.path.getsize(OUT), "bytes")
    write_reprs()


def write_reprs():
    """Reprs of FeaturePyramidNetwork with and without a norm layer (its blocks are Conv2dNormActivation)."""
    reprs = {
        "fpn_p6p7_batchnorm": repr(torchvision.ops.FeaturePyramidNetwork(
            [3, 5], 4, fpn.LastLevelP6P7(5, 4), norm_layer=torch.nn.BatchNorm2d)),
        "fpn_maxpool": repr(torchvision.ops.FeaturePyramidNetwork([3, 5, 6], 4, fpn.LastLevelMaxPool())),
    }
    with open(REPRS, "w") as f:
        json.dump(reprs, f, indent=1)
        f.write("\n")
    print(REPRS, os.path.getsize(REPRS), "bytes")


if __name__ == "__main__":
    main()

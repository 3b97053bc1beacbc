"""deform_conv2d / DeformConv2d, FeaturePyramidNetwork and MultiScaleRoIAlign against NumPy
references and torchvision outputs stored by data/make_ops_reference.py."""

import json
import math
import os
from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as ft
from conftest import assert_close
from ferrovision import ops
from ferrovision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7
from ferrovision.ops.poolers import LevelMapper

REFERENCE = np.load(os.path.join(os.path.dirname(__file__), "data", "ops_reference.npz"))
with open(os.path.join(os.path.dirname(__file__), "data", "ops_reference.json")) as f:
    REPRS = json.load(f)


# ---- deform_conv2d ---------------------------------------------------------------------------

def np_zero_padded_bilinear(img, y, x):
    """Bilinear read of img [H, W] with zeros outside; nothing beyond one pixel out."""
    h, w = img.shape
    if y <= -1 or y >= h or x <= -1 or x >= w:
        return 0.0
    y0, x0 = math.floor(y), math.floor(x)
    val = 0.0
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                val += wy * wx * img[yy, xx]
    return val


def np_deform_conv2d(x, offset, weight, bias, stride, padding, dilation, mask):
    n, cin, h, w = x.shape
    cout, cin_g, kh, kw = weight.shape
    groups, og = cin // cin_g, offset.shape[1] // (2 * kh * kw)
    oh, ow = offset.shape[2:]
    out = np.zeros((n, cout, oh, ow))
    for b in range(n):
        for c in range(cin):
            g = c // (cin // og)
            for i in range(kh):
                for j in range(kw):
                    tap = i * kw + j
                    for oy in range(oh):
                        for ox in range(ow):
                            y = oy * stride[0] - padding[0] + i * dilation[0] + offset[b, (g * kh * kw + tap) * 2, oy, ox]
                            xx = ox * stride[1] - padding[1] + j * dilation[1] + offset[b, (g * kh * kw + tap) * 2 + 1, oy, ox]
                            v = np_zero_padded_bilinear(x[b, c], y, xx)
                            if mask is not None:
                                v *= mask[b, g * kh * kw + tap, oy, ox]
                            wg = c // cin_g
                            for o in range(wg * (cout // groups), (wg + 1) * (cout // groups)):
                                out[b, o, oy, ox] += weight[o, c % cin_g, i, j] * v
    return out + (0 if bias is None else bias[None, :, None, None])


@pytest.mark.parametrize("stride,padding,dilation,groups,offset_groups,use_mask", [
    ((1, 1), (1, 1), (1, 1), 1, 1, False),
    ((2, 1), (0, 1), (1, 2), 2, 2, True),
    ((1, 1), (1, 0), (2, 1), 2, 1, True),
])
def test_deform_conv2d_matches_loop_reference(stride, padding, dilation, groups, offset_groups, use_mask, rng):
    x = rng.standard_normal((2, 4, 5, 6))
    weight = rng.standard_normal((4, 4 // groups, 2, 3))
    bias = rng.standard_normal(4)
    oh = (5 + 2 * padding[0] - (dilation[0] * 1 + 1)) // stride[0] + 1
    ow = (6 + 2 * padding[1] - (dilation[1] * 2 + 1)) // stride[1] + 1
    offset = rng.uniform(-2, 2, (2, 2 * offset_groups * 6, oh, ow))
    mask = rng.uniform(0, 1, (2, offset_groups * 6, oh, ow)) if use_mask else None
    out = ops.deform_conv2d(ft.tensor(x), ft.tensor(offset), ft.tensor(weight), ft.tensor(bias), stride, padding,
                            dilation, None if mask is None else ft.tensor(mask))
    assert_close(out, np_deform_conv2d(x, offset, weight, bias, stride, padding, dilation, mask), rtol=1e-10, atol=1e-10)


def test_deform_conv2d_with_zero_offsets_is_conv2d(rng):
    x = ft.tensor(rng.standard_normal((1, 3, 6, 6)).astype(np.float32))
    w = ft.tensor(rng.standard_normal((2, 3, 3, 3)).astype(np.float32))
    out = ops.deform_conv2d(x, ft.zeros(1, 18, 6, 6), w, padding=1)
    assert out.dtype == ft.float32
    assert_close(out, ft.nn.functional.conv2d(x, w, padding=1).numpy(), rtol=1e-5, atol=1e-5)


def test_deform_conv2d_matches_torchvision_reference():
    r = REFERENCE
    out = ops.deform_conv2d(ft.tensor(r["deform_input"]), ft.tensor(r["deform_offset"]), ft.tensor(r["deform_weight"]),
                            ft.tensor(r["deform_bias"]), stride=2, padding=1, dilation=(1, 2),
                            mask=ft.tensor(r["deform_mask"]))
    assert_close(out, r["deform_out"], rtol=1e-12, atol=1e-12)


def test_deform_conv2d_gradcheck_input_offset_weight_mask(rng):
    x = ft.tensor(rng.standard_normal((1, 2, 3, 3))).requires_grad_()
    w = ft.tensor(rng.standard_normal((2, 2, 2, 2))).requires_grad_()
    b = ft.tensor(rng.standard_normal(2)).requires_grad_()
    # Offsets away from integers: the bilinear weights have kinks there.
    off = ft.tensor(rng.uniform(-0.4, 0.4, (1, 8, 2, 2)) + 0.5).requires_grad_()
    mask = ft.tensor(rng.uniform(0, 1, (1, 4, 2, 2))).requires_grad_()
    assert ft.autograd.gradcheck(lambda *a: ops.deform_conv2d(a[0], a[1], a[2], a[3], mask=a[4]), (x, off, w, b, mask))


def test_deform_conv2d_errors():
    x, w = ft.zeros(1, 4, 5, 5), ft.zeros(2, 4, 3, 3)
    with pytest.raises(RuntimeError, match=r"(?s)offset tensor at dimension 1 is not valid.*Got offset.shape\[1\]=4"):
        ops.deform_conv2d(x, ft.zeros(1, 4, 3, 3), w)
    with pytest.raises(RuntimeError, match=r"offset.shape\[1\] is not valid: got: 27 expected: 18"):
        ops.deform_conv2d(x, ft.zeros(1, 27, 3, 3), w)
    with pytest.raises(RuntimeError, match=r"offset output dims: \(4, 3\) - computed output dims: \(3, 3\)"):
        ops.deform_conv2d(x, ft.zeros(1, 18, 4, 3), w)
    with pytest.raises(RuntimeError, match=r"mask.shape\[1\] is not valid: got: 3 expected: 9"):
        ops.deform_conv2d(x, ft.zeros(1, 18, 3, 3), w, mask=ft.zeros(1, 3, 3, 3))


def test_deform_conv2d_module():
    m = ops.DeformConv2d(4, 6, 3)
    assert repr(m) == "DeformConv2d(4, 6, kernel_size=(3, 3), stride=(1, 1))"
    m2 = ops.DeformConv2d(4, 6, 3, 2, 1, 2, 2, bias=False)
    assert repr(m2) == ("DeformConv2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
                        "groups=2, bias=False)")
    assert list(m.state_dict()) == ["weight", "bias"] and tuple(m.weight.shape) == (6, 4, 3, 3)
    assert list(m2.state_dict()) == ["weight"] and tuple(m2.weight.shape) == (6, 2, 3, 3)
    bound = 1 / math.sqrt(4 * 9)
    assert float(m.weight.abs().max()) <= bound and float(m.bias.abs().max()) <= bound
    x = ft.randn(1, 4, 5, 5)
    out = m(x, ft.zeros(1, 18, 3, 3))
    assert_close(out, ft.nn.functional.conv2d(x, m.weight, m.bias).detach().numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        ops.DeformConv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        ops.DeformConv2d(4, 3, 3, groups=2)


# ---- FeaturePyramidNetwork -------------------------------------------------------------------

def test_fpn_matches_torchvision_reference():
    net = ops.FeaturePyramidNetwork([3, 5], 4, LastLevelP6P7(5, 4)).double()
    params = {k[len("fpn_param/"):]: ft.tensor(REFERENCE[k]) for k in REFERENCE.files if k.startswith("fpn_param/")}
    assert sorted(net.state_dict()) == sorted(params)
    net.load_state_dict(params)
    out = net(OrderedDict((k, ft.tensor(REFERENCE[f"fpn_in/{k}"])) for k in ("c4", "c5")))
    assert list(out) == ["c4", "c5", "p6", "p7"]
    for k, v in out.items():
        assert_close(v, REFERENCE[f"fpn_out/{k}"], rtol=1e-10, atol=1e-10)


def test_fpn_state_dict_keys_and_last_level_max_pool():
    net = ops.FeaturePyramidNetwork([2, 3], 4, LastLevelMaxPool())
    assert list(net.state_dict()) == [f"{b}.{i}.0.{p}" for b in ("inner_blocks", "layer_blocks") for i in (0, 1)
                                      for p in ("weight", "bias")]
    assert all(float(v.abs().max()) == 0 for k, v in net.state_dict().items() if k.endswith("bias"))
    out = net(OrderedDict(a=ft.randn(1, 2, 8, 8), b=ft.randn(1, 3, 4, 4)))
    assert list(out) == ["a", "b", "pool"]
    assert [tuple(v.shape) for v in out.values()] == [(1, 4, 8, 8), (1, 4, 4, 4), (1, 4, 2, 2)]
    assert_close(out["pool"], out["b"].detach().numpy()[:, :, ::2, ::2])


def test_fpn_blocks_are_conv2d_norm_activation_with_torchvision_repr():
    net = ops.FeaturePyramidNetwork([3, 5], 4, LastLevelP6P7(5, 4), norm_layer=ft.nn.BatchNorm2d)
    assert all(isinstance(b, ops.Conv2dNormActivation) for b in [*net.inner_blocks, *net.layer_blocks])
    assert repr(net) == REPRS["fpn_p6p7_batchnorm"]
    assert repr(ops.FeaturePyramidNetwork([3, 5, 6], 4, LastLevelMaxPool())) == REPRS["fpn_maxpool"]


def test_fpn_loads_version_1_checkpoints_and_checks_arguments():
    net = ops.FeaturePyramidNetwork([2], 3)
    old = OrderedDict((k.replace(".0.", ".", 1), ft.full_like(v, 0.5)) for k, v in net.state_dict().items())
    old._metadata = {"": {"version": 1}}
    net.load_state_dict(old)
    assert float(net.inner_blocks[0][0].weight.min()) == 0.5
    with pytest.raises(ValueError, match="in_channels=0 is currently not supported"):
        ops.FeaturePyramidNetwork([0], 3)
    with pytest.raises(TypeError, match="extra_blocks should be of type ExtraFPNBlock"):
        ops.FeaturePyramidNetwork([2], 3, extra_blocks=ft.nn.ReLU())


# ---- MultiScaleRoIAlign ----------------------------------------------------------------------

def test_level_mapper_follows_fpn_equation():
    boxes = ft.tensor([[0.0, 0, 224, 224], [0, 0, 112, 112], [0, 0, 20, 20], [0, 0, 1000, 1000]])
    levels = LevelMapper(2, 5)([boxes])
    expected = np.clip(np.floor(4 + np.log2(np.array([224, 112, 20, 1000]) / 224) + 1e-6), 2, 5) - 2
    assert levels.dtype == ft.int64 and levels.tolist() == expected.astype(int).tolist()


def test_multiscale_roi_align_pools_each_box_from_its_level(rng):
    feats = OrderedDict(f1=ft.tensor(rng.standard_normal((2, 3, 16, 16))), skip=ft.zeros(2, 3, 8, 8),
                        f2=ft.tensor(rng.standard_normal((2, 3, 8, 8))))
    b0 = ft.tensor(np.array([[0.0, 0, 10, 12], [3, 4, 60, 62]]))
    b1 = ft.tensor(np.array([[1.0, 2, 30, 9], [0, 0, 63, 63], [5, 5, 9, 9]]))
    m = ops.MultiScaleRoIAlign(["f1", "f2"], 3, 2, canonical_scale=32, canonical_level=3)
    assert repr(m) == "MultiScaleRoIAlign(featmap_names=['f1', 'f2'], output_size=(3, 3), sampling_ratio=2)"
    out = m(feats, [b0, b1], [(64, 64), (60, 64)])
    assert m.scales == [0.25, 0.125]
    boxes = np.concatenate([b0.numpy(), b1.numpy()])
    side = np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    level = (np.clip(np.floor(3 + np.log2(side / 32) + 1e-6), 2, 3) - 2).astype(int)
    assert set(level.tolist()) == {0, 1}
    rois = ft.tensor(np.concatenate([np.array([[0], [0], [1], [1], [1]], dtype=np.float64), boxes], 1))
    per_level = [ops.roi_align(feats["f1"], rois, 3, 0.25, 2).numpy(), ops.roi_align(feats["f2"], rois, 3, 0.125, 2).numpy()]
    assert_close(out, np.stack([per_level[lv][i] for i, lv in enumerate(level)]))


def test_multiscale_roi_align_single_level_and_empty_images(rng):
    feats = {"f": ft.tensor(rng.standard_normal((1, 2, 8, 8)))}
    m = ops.MultiScaleRoIAlign(["f"], (2, 3), -1)
    b = ft.tensor(np.array([[0.0, 0, 10, 12]]))
    assert_close(m(feats, [b], [(16, 16)]), ops.roi_align(feats["f"], [b], (2, 3), 0.5, -1).numpy())
    with pytest.raises(ValueError, match="images list should not be empty"):
        ops.MultiScaleRoIAlign(["f"], 2, 2)(feats, [b], [])

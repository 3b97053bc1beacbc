"""RoIAlign / RoIPool and their position-sensitive forms against NumPy loop references written from
the definitions, and against torchvision outputs stored by data/make_ops_reference.py."""

import math
import os

import numpy as np
import pytest

import ferrotorch as ft
from conftest import assert_close
from ferrovision import ops

REFERENCE = np.load(os.path.join(os.path.dirname(__file__), "data", "ops_reference.npz"))


def random_rois(rng, k, n, low=-2.0, high=9.0):
    """K RoIs [image, x1, y1, x2, y2]; some degenerate (x2 < x1) or past the borders."""
    xy = rng.uniform(low, high, (k, 2))
    wh = rng.uniform(-1.0, high / 2, (k, 2))
    return np.concatenate([rng.integers(0, n, (k, 1)).astype(np.float64), xy, xy + wh], axis=1)


# ---- NumPy references (loops over RoIs, bins and samples: tiny inputs only) -------------------

def np_bilinear(img, y, x):
    """RoIAlign's bilinear read of img [C, H, W] at (y, x): zero beyond one pixel outside,
    clamped to the border inside that margin."""
    h, w = img.shape[1:]
    if y < -1 or y > h or x < -1 or x > w:
        return np.zeros(img.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * img[:, y0, x0] + (1 - ly) * lx * img[:, y0, x1]
            + ly * (1 - lx) * img[:, y1, x0] + ly * lx * img[:, y1, x1])


def np_roi_align_bins(x, roi, out_hw, scale, sampling_ratio, offset, min_size):
    """Per-bin averages [C, PH, PW] of bilinear samples, and the sample count."""
    ph, pw = out_hw
    x1, y1, x2, y2 = roi[1:] * scale - offset
    rw, rh = x2 - x1, y2 - y1
    if min_size is not None:
        rw, rh = max(rw, min_size), max(rh, min_size)
    gh = sampling_ratio if sampling_ratio > 0 else int(math.ceil(rh / ph))
    gw = sampling_ratio if sampling_ratio > 0 else int(math.ceil(rw / pw))
    img = x[int(roi[0])]
    out = np.zeros((img.shape[0], ph, pw))
    for i in range(ph):
        for j in range(pw):
            for iy in range(gh):
                yy = y1 + i * rh / ph + (iy + 0.5) * (rh / ph) / gh
                for ix in range(gw):
                    xx = x1 + j * rw / pw + (ix + 0.5) * (rw / pw) / gw
                    out[:, i, j] += np_bilinear(img, yy, xx)
    return out, gh * gw


def np_roi_align(x, rois, out_hw, scale=1.0, sampling_ratio=-1, aligned=False):
    res = []
    for roi in rois:
        sums, count = np_roi_align_bins(x, roi, out_hw, scale, sampling_ratio, 0.5 if aligned else 0.0,
                                        None if aligned else 1.0)
        res.append(sums / max(count, 1))
    return np.array(res).reshape(len(rois), x.shape[1], *out_hw)


def np_ps_roi_align(x, rois, out_hw, scale=1.0, sampling_ratio=-1):
    ph, pw = out_hw
    res = np.zeros((len(rois), x.shape[1] // (ph * pw), ph, pw))
    for k, roi in enumerate(rois):
        sums, count = np_roi_align_bins(x, roi, out_hw, scale, sampling_ratio, 0.5, None)
        for c in range(res.shape[1]):
            for i in range(ph):
                for j in range(pw):
                    res[k, c, i, j] = sums[(c * ph + i) * pw + j, i, j] / count
    return res


def c_round(v):
    return math.floor(abs(v) + 0.5) * (1 if v >= 0 else -1)


def np_int_bins(roi, out_hw, scale, size, extra_pixel, upper):
    """Integer bins [(h0, h1, w0, w1)] of RoIPool-style ops, row-major over (ph, pw)."""
    ph, pw = out_hw
    x1, y1, x2, y2 = (c_round(v * scale) for v in roi[1:])
    rw, rh = max(x2 - x1 + extra_pixel, 1), max(y2 - y1 + extra_pixel, 1)
    bins = []
    for i in range(ph):
        for j in range(pw):
            h0 = min(max(math.floor(i * rh / ph) + y1, 0), size[0] - upper)
            h1 = min(max(math.ceil((i + 1) * rh / ph) + y1, 0), size[0] - upper)
            w0 = min(max(math.floor(j * rw / pw) + x1, 0), size[1] - upper)
            w1 = min(max(math.ceil((j + 1) * rw / pw) + x1, 0), size[1] - upper)
            bins.append((i, j, h0, h1, w0, w1))
    return bins


def np_roi_pool(x, rois, out_hw, scale=1.0):
    res = np.zeros((len(rois), x.shape[1], *out_hw))
    for k, roi in enumerate(rois):
        img = x[int(roi[0])]
        for i, j, h0, h1, w0, w1 in np_int_bins(roi, out_hw, scale, img.shape[1:], 1, 0):
            if h1 > h0 and w1 > w0:
                res[k, :, i, j] = img[:, h0:h1, w0:w1].max(axis=(1, 2))
    return res


def np_ps_roi_pool(x, rois, out_hw, scale=1.0):
    ph, pw = out_hw
    res = np.zeros((len(rois), x.shape[1] // (ph * pw), ph, pw))
    for k, roi in enumerate(rois):
        img = x[int(roi[0])]
        for i, j, h0, h1, w0, w1 in np_int_bins(roi, out_hw, scale, img.shape[1:], 0, 1):
            if h1 > h0 and w1 > w0:
                for c in range(res.shape[1]):
                    res[k, c, i, j] = img[(c * ph + i) * pw + j, h0:h1, w0:w1].mean()
    return res


# ---- roi_align ------------------------------------------------------------------------------

@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 0, 2])
@pytest.mark.parametrize("scale", [1.0, 0.6])
def test_roi_align_matches_bilinear_definition(aligned, sampling_ratio, scale, rng):
    x = rng.standard_normal((2, 3, 7, 8))
    rois = random_rois(rng, 6, 2)
    out = ops.roi_align(ft.tensor(x), ft.tensor(rois), (2, 3), scale, sampling_ratio, aligned)
    assert_close(out, np_roi_align(x, rois, (2, 3), scale, sampling_ratio, aligned), rtol=1e-10, atol=1e-12)


def test_roi_align_float32_and_strided_input(rng):
    x = rng.standard_normal((1, 2, 12, 14))
    rois = random_rois(rng, 4, 1)
    strided = ft.tensor(x.astype(np.float32))[:, :, ::2, ::2]
    assert not strided.is_contiguous()
    out = ops.roi_align(strided, ft.tensor(rois.astype(np.float32)), 2, 1.0, 2)
    assert out.dtype == ft.float32
    assert_close(out, np_roi_align(x[:, :, ::2, ::2], rois.astype(np.float32).astype(np.float64), (2, 2), 1.0, 2),
                 rtol=1e-5, atol=1e-5)


def test_roi_align_accepts_a_list_of_boxes_per_image(rng):
    x = ft.tensor(rng.standard_normal((2, 2, 6, 6)))
    b0, b1 = random_rois(rng, 2, 1)[:, 1:], random_rois(rng, 3, 1)[:, 1:]
    rois = np.concatenate([np.concatenate([np.zeros((2, 1)), b0], 1), np.concatenate([np.ones((3, 1)), b1], 1)])
    listed = ops.roi_align(x, [ft.tensor(b0), ft.tensor(b1)], 2, sampling_ratio=2)
    assert_close(listed, ops.roi_align(x, ft.tensor(rois), 2, sampling_ratio=2).numpy())


@pytest.mark.parametrize("aligned,sampling_ratio", [(False, -1), (False, 2), (True, -1), (True, 2)])
def test_roi_align_matches_torchvision_reference(aligned, sampling_ratio):
    out = ops.roi_align(ft.tensor(REFERENCE["roi_input"]), ft.tensor(REFERENCE["roi_rois"]), (2, 3), 0.8,
                        sampling_ratio, aligned)
    assert_close(out, REFERENCE[f"roi_align_a{int(aligned)}_s{sampling_ratio}"], rtol=1e-12, atol=1e-12)


def test_roi_align_gradcheck(rng):
    x = ft.tensor(rng.standard_normal((1, 2, 4, 5))).requires_grad_()
    rois = ft.tensor(np.array([[0, 0.3, 0.2, 3.1, 2.6], [0, 1.2, -0.4, 4.7, 3.5]]))
    assert ft.autograd.gradcheck(lambda t: ops.roi_align(t, rois, 2, 1.0, -1, True), (x,))


def test_roi_align_with_no_boxes_is_empty_and_differentiable(rng):
    x = ft.tensor(rng.standard_normal((1, 3, 4, 4))).requires_grad_()
    out = ops.roi_align(x, ft.zeros(0, 5, dtype=ft.float64), (2, 2))
    assert tuple(out.shape) == (0, 3, 2, 2)
    out.sum().backward()
    assert_close(x.grad, np.zeros((1, 3, 4, 4)))


def test_roi_align_of_a_nan_box_is_zero(rng):
    x = ft.tensor(rng.standard_normal((1, 1, 4, 4)))
    out = ops.roi_align(x, ft.tensor([[0.0, float("nan"), 0, 2, 2]], dtype=ft.float64), 2, sampling_ratio=2)
    assert_close(out, np.zeros((1, 1, 2, 2)))


def test_roi_ops_check_shapes_dtypes_and_batch_indices():
    x = ft.zeros(1, 4, 5, 5)
    with pytest.raises(AssertionError, match=r"The boxes tensor shape is not correct as Tensor\[K, 5\]"):
        ops.roi_align(x, ft.zeros(2, 4), 2)
    with pytest.raises(AssertionError, match=r"List\[Tensor\[L, 4\]\]"):
        ops.roi_pool(x, [ft.zeros(2, 3)], 2)
    with pytest.raises(RuntimeError, match="input should have the same type as rois"):
        ops.roi_align(x, ft.zeros(1, 5, dtype=ft.float64), 2)
    with pytest.raises(RuntimeError, match=r"rois batch index must be in \[0, batch_size\)"):
        ops.roi_pool(x, ft.tensor([[1.0, 0, 0, 2, 2]]), 2)
    with pytest.raises(RuntimeError, match="input channels must be a multiple of pooling height"):
        ops.ps_roi_align(x[:, :3], ft.zeros(1, 5), 2)


# ---- roi_pool --------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1.0, 0.55])
@pytest.mark.parametrize("dtype", [ft.float32, ft.float64])
def test_roi_pool_matches_max_over_bins(scale, dtype, rng):
    x = rng.standard_normal((2, 3, 7, 8))
    rois = random_rois(rng, 6, 2)
    out = ops.roi_pool(ft.tensor(x, dtype=dtype), ft.tensor(rois, dtype=dtype), (2, 3), scale)
    assert_close(out, np_roi_pool(x.astype(np.float32) if dtype == ft.float32 else x, rois, (2, 3), scale), dtype=dtype)


def test_roi_pool_matches_torchvision_reference():
    out = ops.roi_pool(ft.tensor(REFERENCE["roi_input"]), ft.tensor(REFERENCE["roi_rois"]), (2, 3), 0.8)
    assert_close(out, REFERENCE["roi_pool"])


def test_roi_pool_gradient_goes_to_the_first_maximum():
    x = ft.tensor([[[[1.0, 3.0], [3.0, 2.0]]]]).requires_grad_()
    out = ops.roi_pool(x, ft.tensor([[0.0, 0, 0, 1, 1]]), 1)
    assert out.item() == 3.0
    out.sum().backward()
    assert x.grad.tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]


def test_roi_pool_gradcheck(rng):
    x = ft.tensor(rng.permutation(20).reshape(1, 1, 4, 5).astype(np.float64)).requires_grad_()  # distinct values
    rois = ft.tensor(np.array([[0, 0.0, 0, 3, 2], [0, 1, 1, 4, 3]]))
    assert ft.autograd.gradcheck(lambda t: ops.roi_pool(t, rois, 2), (x,))


def test_roi_pool_skips_nan_values():
    x = ft.tensor([[[[float("nan"), 1.0], [2.0, float("nan")]]]])
    assert ops.roi_pool(x, ft.tensor([[0.0, 0, 0, 1, 1]]), 1).item() == 2.0


# ---- position-sensitive forms ----------------------------------------------------------------

@pytest.mark.parametrize("sampling_ratio", [-1, 2])
def test_ps_roi_align_matches_definition_and_reference(sampling_ratio, rng):
    x = rng.standard_normal((2, 8, 6, 7))
    rois = random_rois(rng, 5, 2)
    rois[:, 3:] = rois[:, 1:3] + np.abs(rois[:, 3:] - rois[:, 1:3]) + 0.5  # positive sizes: no 0/0
    out = ops.ps_roi_align(ft.tensor(x), ft.tensor(rois), 2, 0.9, sampling_ratio)
    assert_close(out, np_ps_roi_align(x, rois, (2, 2), 0.9, sampling_ratio), rtol=1e-10, atol=1e-12)
    stored = ops.ps_roi_align(ft.tensor(REFERENCE["roi_input"]), ft.tensor(REFERENCE["roi_rois"]), 2, 0.8, -1)
    assert_close(stored, REFERENCE["ps_roi_align"], rtol=1e-12, atol=1e-12)


def test_ps_roi_pool_matches_definition_and_reference(rng):
    x = rng.standard_normal((2, 8, 6, 7))
    rois = random_rois(rng, 5, 2)
    assert_close(ops.ps_roi_pool(ft.tensor(x), ft.tensor(rois), 2, 0.7), np_ps_roi_pool(x, rois, (2, 2), 0.7))
    stored = ops.ps_roi_pool(ft.tensor(REFERENCE["roi_input"]), ft.tensor(REFERENCE["roi_rois"]), 2, 0.8)
    assert_close(stored, REFERENCE["ps_roi_pool"])


def test_ps_roi_ops_gradcheck(rng):
    x = ft.tensor(rng.standard_normal((1, 4, 4, 4))).requires_grad_()
    rois = ft.tensor(np.array([[0, 0.2, 0.4, 3.1, 2.9]]))
    assert ft.autograd.gradcheck(lambda t: ops.ps_roi_align(t, rois, 2, 1.0, 2), (x,))
    assert ft.autograd.gradcheck(lambda t: ops.ps_roi_pool(t, rois, 2), (x,))


# ---- modules ---------------------------------------------------------------------------------

def test_roi_modules_repr_and_forward(rng):
    assert repr(ops.RoIAlign(7, 0.5, 2)) == "RoIAlign(output_size=7, spatial_scale=0.5, sampling_ratio=2, aligned=False)"
    assert repr(ops.RoIAlign((7, 7), 0.5, 2, True)) == (
        "RoIAlign(output_size=(7, 7), spatial_scale=0.5, sampling_ratio=2, aligned=True)")
    assert repr(ops.RoIPool(3, 1.0)) == "RoIPool(output_size=3, spatial_scale=1.0)"
    assert repr(ops.PSRoIAlign(3, 0.25, -1)) == "PSRoIAlign(output_size=3, spatial_scale=0.25, sampling_ratio=-1)"
    assert repr(ops.PSRoIPool(2, 1.0)) == "PSRoIPool(output_size=2, spatial_scale=1.0)"
    x = ft.tensor(rng.standard_normal((1, 4, 5, 5)))
    rois = ft.tensor(np.array([[0, 0.5, 0.5, 4.0, 3.0]]))
    assert_close(ops.RoIAlign(2, 1.0, 2)(x, rois), ops.roi_align(x, rois, 2, 1.0, 2).numpy())
    assert_close(ops.RoIPool(2, 1.0)(x, rois), ops.roi_pool(x, rois, 2).numpy())
    assert_close(ops.PSRoIAlign(2, 1.0, 2)(x, rois), ops.ps_roi_align(x, rois, 2, 1.0, 2).numpy())
    assert_close(ops.PSRoIPool(2, 1.0)(x, rois), ops.ps_roi_pool(x, rois, 2).numpy())
    assert ops.RoIAlign(2, 1.0, 2).state_dict() == {}


@pytest.mark.parametrize("dtype", [ft.float16, ft.bfloat16])
def test_roi_align_and_pool_in_half_precision_stay_close(dtype, rng):
    x = ft.tensor(rng.standard_normal((1, 2, 6, 6)), dtype=dtype)
    rois = ft.tensor(np.array([[0, 0.5, 0.5, 4.0, 5.0]]), dtype=dtype)
    x64, r64 = x.double().numpy(), rois.double().numpy()
    out = ops.roi_align(x, rois, 2, 1.0, 2)
    assert out.dtype == dtype
    assert_close(out, np_roi_align(x64, r64, (2, 2), 1.0, 2), rtol=2e-2, atol=2e-2)
    assert_close(ops.roi_pool(x, rois, 2), np_roi_pool(x64, r64, (2, 2)), rtol=1e-2, atol=1e-2)

"""Deformable convolution (v1, and v2 with a modulation mask)."""

import math

import ferrotorch as ft
from ferrotorch import nn
from ferrotorch.nn import init

from ._bilinear import channels_last_table, corner_rows_and_weights, deform_axis, weighted_gather
from ._utils import _pair


def _check_deform_shapes(input, offset, weight, mask, out_h, out_w, offset_groups, weight_groups):
    """The checks of torchvision's deform_conv2d kernel, with its messages."""
    kh, kw = weight.shape[-2:]
    if weight.shape[1] * weight_groups != input.shape[1] or input.shape[1] % weight.shape[1] != 0:
        raise RuntimeError(
            f"the shape of the weight tensor is not valid: in_channels={input.shape[1]} is not a multiple of "
            f"weight.shape[1]={weight.shape[1]}"
        )
    if weight.shape[0] % weight_groups != 0:
        raise RuntimeError(f"out_channels={weight.shape[0]} must be divisible by groups={weight_groups}")
    if offset.shape[1] != offset_groups * 2 * kh * kw:
        raise RuntimeError(f"offset.shape[1] is not valid: got: {offset.shape[1]} expected: {offset_groups * 2 * kh * kw}")
    if input.shape[1] % offset_groups != 0:
        raise RuntimeError(f"input.shape[1]={input.shape[1]} is not a multiple of the offset groups {offset_groups}")
    if out_h <= 0 or out_w <= 0:
        raise RuntimeError(f"Calculated output size too small - out_h: {out_h} out_w: {out_w}")
    if offset.shape[0] != input.shape[0]:
        raise RuntimeError("invalid batch size of offset")
    if (offset.shape[2], offset.shape[3]) != (out_h, out_w):
        raise RuntimeError(
            f"offset output dims: ({offset.shape[2]}, {offset.shape[3]}) - computed output dims: ({out_h}, {out_w})"
        )
    if mask is not None:
        if mask.shape[1] != offset_groups * kh * kw:
            raise RuntimeError(f"mask.shape[1] is not valid: got: {mask.shape[1]} expected: {offset_groups * kh * kw}")
        if mask.shape[0] != input.shape[0]:
            raise RuntimeError("invalid batch size of mask")
        if (mask.shape[2], mask.shape[3]) != (out_h, out_w):
            raise RuntimeError(
                f"mask output dims: ({mask.shape[2]}, {mask.shape[3]}) - computed output dims: ({out_h}, {out_w})"
            )


def deform_conv2d(input, offset, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), mask=None):
    """Deformable convolution: each kernel tap reads the input bilinearly at its regular position
    plus a learned ``offset`` (Dai et al., 2017), scaled by ``mask`` when given (v2, Zhu et al.,
    2018). Samples outside the input read zero.

    Args:
        input (Tensor[N, C_in, H, W]): input.
        offset (Tensor[N, 2 * offset_groups * kh * kw, out_h, out_w]): (dy, dx) per tap and
            output position; the input channels split into ``offset_groups`` groups, each with its
            own offsets.
        weight (Tensor[C_out, C_in // groups, kh, kw]): convolution weights.
        bias (Tensor[C_out], optional): added to the output. Default: None
        stride, padding, dilation (int or Tuple[int, int]): as for conv2d.
        mask (Tensor[N, offset_groups * kh * kw, out_h, out_w], optional): modulation per tap.

    Returns:
        Tensor[N, C_out, out_h, out_w] (differentiable w.r.t. input, offset, weight, bias, mask).
    """
    stride_h, stride_w = _pair(stride)
    pad_h, pad_w = _pair(padding)
    dil_h, dil_w = _pair(dilation)
    kh, kw = weight.shape[-2:]
    n, in_channels, height, width = input.shape
    offset_groups = offset.shape[1] // (2 * kh * kw)
    weight_groups = in_channels // weight.shape[1]
    if offset_groups == 0:
        raise RuntimeError(
            "the shape of the offset tensor at dimension 1 is not valid. It should "
            "be a multiple of 2 * weight.size[2] * weight.size[3].\n"
            f"Got offset.shape[1]={offset.shape[1]}, while 2 * weight.size[2] * weight.size[3]={2 * kh * kw}"
        )
    out_h = (height + 2 * pad_h - (dil_h * (kh - 1) + 1)) // stride_h + 1
    out_w = (width + 2 * pad_w - (dil_w * (kw - 1) + 1)) // stride_w + 1
    _check_deform_shapes(input, offset, weight, mask, out_h, out_w, offset_groups, weight_groups)

    # Sample positions [N, offset_groups, kh, kw, out_h, out_w]: the regular grid plus offsets.
    offset = offset.reshape(n, offset_groups, kh, kw, 2, out_h, out_w)
    dtype = offset.dtype
    grid_y = (ft.arange(out_h, dtype=dtype) * stride_h - pad_h)[:, None] + (ft.arange(kh, dtype=dtype) * dil_h)[:, None, None, None]
    grid_x = (ft.arange(out_w, dtype=dtype) * stride_w - pad_w)[None, :] + (ft.arange(kw, dtype=dtype) * dil_w)[:, None, None]
    y = grid_y + offset[:, :, :, :, 0]
    x = grid_x + offset[:, :, :, :, 1]
    base = (ft.arange(n) * (height * width * offset_groups))[:, None] + ft.arange(offset_groups)[None, :]
    rows, weights = corner_rows_and_weights(
        deform_axis(y, height), deform_axis(x, width), base.reshape(n, offset_groups, 1, 1, 1, 1),
        width * offset_groups, offset_groups,
    )
    if mask is not None:
        weights = weights * mask.reshape(n, offset_groups, kh, kw, out_h, out_w)[..., None]
    columns = weighted_gather(channels_last_table(input, offset_groups), rows, weights)
    # [N, og, kh, kw, oh, ow, C/og] -> [N, oh*ow, groups, (C_in/groups) * kh * kw], channel-major
    # within a group as the weight is laid out.
    columns = columns.permute(0, 4, 5, 1, 6, 2, 3).reshape(n, out_h * out_w, weight_groups, weight.shape[1] * kh * kw)
    w = weight.reshape(weight_groups, weight.shape[0] // weight_groups, -1)
    out = ft.einsum("nlgk,gok->ngol", columns, w).reshape(n, weight.shape[0], out_h, out_w)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out


class DeformConv2d(nn.Module):
    """See :func:`deform_conv2d`."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super().__init__()
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        self.weight = nn.Parameter(ft.empty(out_channels, in_channels // groups, self.kernel_size[0], self.kernel_size[1]))
        if bias:
            self.bias = nn.Parameter(ft.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Kaiming-uniform weights and uniform bias, as nn.Conv2d."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input, offset, mask=None):
        return deform_conv2d(input, offset, self.weight, self.bias, stride=self.stride, padding=self.padding,
                             dilation=self.dilation, mask=mask)

    def __repr__(self):
        s = f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        s += f", padding={self.padding}" if self.padding != (0, 0) else ""
        s += f", dilation={self.dilation}" if self.dilation != (1, 1) else ""
        s += f", groups={self.groups}" if self.groups != 1 else ""
        s += ", bias=False" if self.bias is None else ""
        return s + ")"

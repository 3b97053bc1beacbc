"""Building blocks shared by the classification models, as in `torchvision.ops.misc`."""

from collections.abc import Sequence

import ferrotorch
from ferrotorch import nn

__all__ = ["FrozenBatchNorm2d", "Conv2dNormActivation", "SqueezeExcitation", "MLP", "Permute"]


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d whose statistics and affine parameters are fixed buffers (never trained).

    Args:
        num_features (int): ``C`` of an input ``(N, C, H, W)``.
        eps (float): added to the variance for numerical stability. Default: 1e-5
    """

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", ferrotorch.ones(num_features))
        self.register_buffer("bias", ferrotorch.zeros(num_features))
        self.register_buffer("running_mean", ferrotorch.zeros(num_features))
        self.register_buffer("running_var", ferrotorch.ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # Checkpoints of a BatchNorm2d carry a counter this layer has no use for.
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, x):
        w = self.weight.reshape(1, -1, 1, 1)
        b = self.bias.reshape(1, -1, 1, 1)
        rv = self.running_var.reshape(1, -1, 1, 1)
        rm = self.running_mean.reshape(1, -1, 1, 1)
        scale = w * (rv + self.eps).rsqrt()
        return x * scale + (b - rm * scale)

    def __repr__(self):
        return f"{self.__class__.__name__}({self.weight.shape[0]}, eps={self.eps})"


class Conv2dNormActivation(nn.Sequential):
    """Conv2d, then an optional norm layer, then an optional activation (children "0", "1", "2").

    Args:
        in_channels (int), out_channels (int): channels of input and output.
        kernel_size, stride, groups, dilation: as for :class:`ferrotorch.nn.Conv2d`.
        padding: ``None`` means ``(kernel_size - 1) // 2 * dilation`` ("same" for odd kernels).
        norm_layer: callable taking ``out_channels``, or ``None``. Default: ``BatchNorm2d``
        activation_layer: callable, or ``None``. Default: ``ReLU``
        inplace (bool or None): passed to the activation; ``None`` passes nothing. Default: ``True``
        bias (bool or None): conv bias; ``None`` means "only when there is no norm layer".
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True,
                 bias=None):
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                dims = len(kernel_size) if isinstance(kernel_size, Sequence) else len(dilation)
                kernel_size = _ntuple(kernel_size, dims)
                dilation = _ntuple(dilation, dims)
                padding = tuple((k - 1) // 2 * d for k, d in zip(kernel_size, dilation))
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                            groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


def _ntuple(x, n):
    return tuple(x) if isinstance(x, Sequence) else (x,) * n


class SqueezeExcitation(nn.Module):
    """Squeeze-and-Excitation block (https://arxiv.org/abs/1709.01507): channels rescaled by a
    gate computed from their global average.

    Args:
        input_channels (int): channels of the input.
        squeeze_channels (int): width of the bottleneck.
        activation: ``delta`` of the paper. Default: ``ReLU``
        scale_activation: ``sigma`` of the paper. Default: ``Sigmoid``
    """

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU,
                 scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input):
        scale = self.fc2(self.activation(self.fc1(self.avgpool(input))))
        return self.scale_activation(scale)

    def forward(self, input):
        return self._scale(input) * input


class MLP(nn.Sequential):
    """Linear layers with norm/activation/dropout between them (and dropout after the last).

    Args:
        in_channels (int): features of the input.
        hidden_channels (list[int]): output features of each Linear; the last is the output width.
        norm_layer: optional callable applied after each hidden Linear. Default: ``None``
        activation_layer: callable applied after each hidden Linear. Default: ``ReLU``
        inplace (bool or None): passed to activation and dropout; ``None`` passes nothing.
        bias (bool): Linear bias. Default: ``True``
        dropout (float): dropout probability. Default: 0.0
    """

    def __init__(self, in_channels, hidden_channels, norm_layer=None, activation_layer=nn.ReLU,
                 inplace=None, bias=True, dropout=0.0):
        params = {} if inplace is None else {"inplace": inplace}
        layers = []
        in_dim = in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers.append(activation_layer(**params))
            layers.append(nn.Dropout(dropout, **params))
            in_dim = hidden_dim
        layers.append(nn.Linear(in_dim, hidden_channels[-1], bias=bias))
        layers.append(nn.Dropout(dropout, **params))
        super().__init__(*layers)


class Permute(nn.Module):
    """Module form of ``Tensor.permute``.

    Args:
        dims (list[int]): the new order of the dimensions.
    """

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return ferrotorch.permute(x, self.dims)

"""Linear maps: ``linear`` and ``bilinear``."""

from ...amp.autocast_mode import autocast_op

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features),
    output (*, out_features).
    """
    if bias is None:
        return input.matmul(weight.t())
    if bias.dim() == 1 and input.dim() >= 2:
        # One fused kernel and one node, as PyTorch's addmm (which autocast also casts as a whole).
        flat = bias.addmm(input.reshape(-1, input.shape[-1]), weight.t())
        return flat if input.dim() == 2 else flat.view(*input.shape[:-1], flat.shape[-1])
    return input.matmul(weight.t()) + bias


@autocast_op("bilinear")
def bilinear(input1, input2, weight, bias=None):
    """y[..., k] = sum_ij input1[..., i] * weight[k, i, j] * input2[..., j] + bias[k].

    Shapes: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out),
    output (*, out).
    """
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and {list(input2.shape[:-1])}"
        )
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got {weight.dim()} dimension(s)")
    # (*, 1, 1, in1) @ (out, in1, in2) -> (*, out, 1, in2); then dot with input2 over in2.
    left = input1.unsqueeze(-2).unsqueeze(-2).matmul(weight).squeeze(-2)
    output = (left * input2.unsqueeze(-2)).sum(-1)
    return output if bias is None else output + bias

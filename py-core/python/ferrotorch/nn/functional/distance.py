"""``normalize``, ``cosine_similarity``, ``pairwise_distance``, ``pdist``: norms of vectors and of
their differences, composite over ``norm``."""

from ... import _C
from ...amp.autocast_mode import autocast_op
from ...autograd.grad_mode import no_grad

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "pdist"]


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps), the norm taken over ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    if out is None:
        return input / denom
    return _C.div(input, denom, out=out)


@autocast_op("cosine_similarity")
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) over ``dim`` (inputs broadcast).

    As PyTorch: each vector is divided by its own clamped norm first (keeps the result in
    [-1, 1]), and the clamp is invisible to autograd (the gradient is that of the unclamped norm).
    """
    dtype = _C.result_type(x1, x2)
    if not dtype.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {_type_name(dtype)}")
    x1, x2 = _C.broadcast_tensors(x1.to(dtype), x2.to(dtype))
    x1_norm = x1.norm(2, dim, keepdim=True).clone()
    x2_norm = x2.norm(2, dim, keepdim=True).clone()
    with no_grad():
        x1_norm.clamp_(min=eps)
        x2_norm.clamp_(min=eps)
    return ((x1 / x1_norm) * (x2 / x2_norm)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (inputs broadcast)."""
    last = max(x1.dim(), x2.dim()) - 1
    return (x1 - x2 + eps).norm(p, last, keepdim=keepdim)


@autocast_op("pdist")
def pdist(input, p=2):
    """The p-norm distances between the rows of an (N, M) input, for each pair i < j: N(N-1)/2
    values, row-major over the upper triangle."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    first, second = _C.triu_indices(input.shape[0], input.shape[0], 1, device=input.device)
    return (input.index_select(0, first) - input.index_select(0, second)).norm(p, 1)


def _type_name(dtype):
    """PyTorch's short dtype name in messages: Long, Int, Bool, ..."""
    return {
        _C.int64: "Long", _C.int32: "Int", _C.int16: "Short", _C.int8: "Char", _C.uint8: "Byte",
        _C.bool: "Bool",
    }.get(dtype, str(dtype))

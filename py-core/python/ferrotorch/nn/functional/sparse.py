"""Embeddings and ``one_hot``.

Lookups are ``index_select`` on the weight, so the weight's gradient is an ``index_add`` of the
output gradient (dense, as PyTorch's ``sparse=False``). What PyTorch's embedding backward does
beyond that (no gradient to ``padding_idx``, ``scale_grad_by_freq``) is a gradient hook on the
looked-up rows; the values are untouched.
"""

import warnings

from ... import _C
from ...autograd.grad_mode import no_grad

__all__ = ["embedding", "embedding_bag", "one_hot"]

_INDEX_TYPES = ("torch.LongTensor", "torch.IntTensor")
_BAG_MODES = ("sum", "mean", "max")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Looks up rows of ``weight``: output[..., :] = weight[input[...], :].

    Args:
        input: integer tensor (any shape) of indices into the rows of ``weight``.
        weight: (num_embeddings, embedding_dim).
        padding_idx: the row at this index (negative counts from the end) gets no gradient.
        max_norm: rows referenced by ``input`` whose ``norm_type``-norm exceeds it are rescaled in
            place to norm ``max_norm`` before the lookup.
        scale_grad_by_freq: scales each row's gradient by 1 / (its count in ``input``).
        sparse: sparse gradients are not supported (``NotImplementedError`` when one would be
            computed).

    Shape: output ``input.shape + (embedding_dim,)``.
    """
    if padding_idx is not None:
        padding_idx = _normalize_padding_idx(padding_idx, weight.shape[0], "Padding_idx")
    _check_index_type(input, "indices", "embedding")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    _refuse_sparse(sparse, weight, "embedding")
    if max_norm is not None:
        input = input.contiguous()
        _renorm_rows_(weight, input, max_norm, norm_type)
    flat = input.reshape(-1)
    rows = _lookup(weight, flat, padding_idx, scale_grad_by_freq)
    return rows.view(*input.shape, weight.shape[1])


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, averages or takes the max of bags of embeddings.

    Bags are the half-open ranges [offsets[i], offsets[i + 1]) of ``input`` (the last runs to the
    end, or to the extra offset with ``include_last_offset``; entries past it are ignored).

    Args:
        input: (B, N) indices, B bags of N each; or 1-D indices cut into bags by ``offsets``.
        weight: (num_embeddings, embedding_dim).
        offsets: with 1-D ``input``, where each bag starts (the first must be 0).
        mode: ``'sum'``, ``'mean'`` or ``'max'``.
        per_sample_weights: weights multiplying each looked-up row (``'sum'`` only), the shape of
            ``input``.
        include_last_offset: ``offsets`` has one more entry, the end of the last bag.
        padding_idx: entries equal to it are left out of their bag (and of the mean's count).
        max_norm, norm_type, scale_grad_by_freq, sparse: as ``embedding``.

    Shape: output (B, embedding_dim); empty bags give zeros.
    """
    if weight.dtype == _C.int64 and input.is_floating_point():
        warnings.warn(
            "Argument order of nn.functional.embedding_bag was changed. "
            "Usage `embedding_bag(weight, input, ...)` is deprecated, "
            "and should now be `embedding_bag(input, weight, ...)`.",
            stacklevel=2,
        )
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
            f"then it must have the same shape as the input ({input.shape})"
        )
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                f"fixed length sequences. However, found offsets of type {type(offsets)}"
            )
        bags, length = input.shape
        offsets = _C.arange(0, bags * length, max(length, 1), device=input.device)[:bags]
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in _BAG_MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    _check_index_type(input, "indices", "embedding_bag")
    _check_index_type(offsets, "offsets", "embedding_bag")
    _refuse_sparse(sparse, weight, "embedding_bag")
    num_embeddings = weight.shape[0]
    if padding_idx is not None:
        if not -num_embeddings <= padding_idx < num_embeddings:
            raise RuntimeError(
                f"padding_idx must be within the number of embeddings, -{num_embeddings} through "
                f"{num_embeddings - 1}, but got {padding_idx}"
            )
        padding_idx %= num_embeddings
    _check_bag_indices(input, num_embeddings)
    if max_norm is not None:
        _renorm_rows_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported "
                f"for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
            )
        if per_sample_weights.dtype != weight.dtype:
            raise RuntimeError(
                "Expected tensor for argument #1 'weight' to have the same type as tensor for argument "
                f"#1 'per_sample_weights'; but type {weight.type()} does not equal "
                f"{per_sample_weights.type()} (while checking arguments for embedding_bag)"
            )
    starts, ends = _bag_bounds(offsets.long(), input.numel(), include_last_offset)
    if starts.numel() == 0:
        # No bags: a (0, embedding_dim) result, still connected to ``weight``.
        return weight.index_select(0, starts)
    if mode == "max":
        return _bag_max(input, weight, starts, ends, padding_idx)
    return _bag_sum_or_mean(input, weight, starts, ends, padding_idx, scale_grad_by_freq,
                            per_sample_weights, mode == "mean")


def one_hot(tensor, num_classes=-1):
    """(*) int64 class indices -> (*, num_classes) int64 with a 1 at each index.

    ``num_classes=-1`` uses ``tensor.max() + 1``.
    """
    if tensor.dtype != _C.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if tensor.min().item() < 0:
            raise RuntimeError("Class values must be non-negative.")
        largest = tensor.max().item()
        if num_classes == -1:
            num_classes = largest + 1
        elif largest >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    classes = _C.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


def _normalize_padding_idx(padding_idx, num_embeddings, name):
    """A non-negative ``padding_idx`` (PyTorch's assertion, and its wording, when out of range)."""
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(f"{name} must be within num_embeddings")
    return padding_idx % num_embeddings


def _check_index_type(indices, name, op):
    if indices.type() not in _INDEX_TYPES:
        number = 1 if name == "indices" else 2
        raise RuntimeError(
            f"Expected tensor for argument #{number} '{name}' to have one of the following scalar types: "
            f"Long, Int; but got {indices.type()} instead (while checking arguments for {op})"
        )


def _refuse_sparse(sparse, weight, op):
    if sparse and weight.requires_grad and _C.is_grad_enabled():
        raise NotImplementedError(
            f"{op}(..., sparse=True): sparse gradients are not supported by ferrotorch; "
            "use sparse=False (dense gradients, same values)"
        )


def _renorm_rows_(weight, indices, max_norm, norm_type):
    """PyTorch's embedding_renorm_: rows referenced by ``indices`` whose norm exceeds
    ``max_norm`` are scaled in place by max_norm / (norm + 1e-7). Not recorded by autograd."""
    with no_grad():
        referenced = indices.reshape(-1).unique()
        rows = weight.index_select(0, referenced)
        # The scale in float64 and then cast, as PyTorch's scalar multiply does.
        norms = rows.norm(norm_type, 1).double()
        scale = (max_norm / (norms + 1e-7)).where(norms > max_norm, 1.0)
        weight.index_copy_(0, referenced, rows * scale.to(weight.dtype).unsqueeze(1))


def _lookup(weight, indices, padding_idx, scale_grad_by_freq):
    """weight[indices] for 1-D ``indices``, with PyTorch's embedding gradient rules."""
    rows = weight.index_select(0, indices)
    if not rows.requires_grad or (padding_idx is None and not scale_grad_by_freq):
        return rows
    grad_scale = None
    if scale_grad_by_freq:
        counts = indices.bincount(minlength=weight.shape[0])
        grad_scale = counts.index_select(0, indices).to(weight.dtype).reciprocal().unsqueeze(1)
    is_padding = None if padding_idx is None else (indices == padding_idx).unsqueeze(1)

    def embedding_grad(grad):
        if grad_scale is not None:
            grad = grad * grad_scale
        if is_padding is not None:
            grad = grad.masked_fill(is_padding, 0)
        return grad

    rows.register_hook(embedding_grad)
    return rows


def _check_bag_indices(input, num_embeddings):
    out_of_range = (input < 0) | (input >= num_embeddings)
    if out_of_range.any().item():
        position = out_of_range.nonzero()[0, 0].item()
        raise RuntimeError(
            f"Index {position} of input takes value {input[position].item()} which is not in the "
            f"valid range [0, {num_embeddings})"
        )


def _bag_bounds(offsets, count, include_last_offset):
    """(starts, ends) of every bag, after PyTorch's checks on ``offsets``."""
    if include_last_offset:
        if offsets.numel() < 1:
            raise RuntimeError("include_last_offset: number of offset should be at least 1")
        starts, ends = offsets[:-1], offsets[1:]
    else:
        starts = offsets
        ends = _C.cat([offsets[1:], offsets.new_full((min(offsets.numel(), 1),), count)])
    if offsets.numel() > 0:
        first, last = offsets[0].item(), offsets[-1].item()
        if first != 0:
            raise RuntimeError(
                "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                f"position 0. However, got {first}"
            )
        if last > count:
            raise RuntimeError(
                f"offsets[-1] can not be greater than input's length {count} but got offsets[-1] of {last}"
            )
        if (ends < starts).any().item():
            raise RuntimeError(f"offsets has to be non-decreasing, but got {offsets.tolist()}")
    return starts, ends


def _bag_sum_or_mean(input, weight, starts, ends, padding_idx, scale_grad_by_freq, per_sample_weights, mean):
    """Scatter-adds every looked-up row into its bag (bag of position i: the last start <= i)."""
    positions = _C.arange(input.numel(), device=input.device)
    bag = _C.searchsorted(starts, positions, right=True) - 1
    # Entries left out: padding_idx, and those past the last bag's end (include_last_offset).
    included = positions < ends[-1]
    if padding_idx is not None:
        included = included & (input != padding_idx)
    rows = _lookup(weight, input, None, scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    rows = rows.where(included.unsqueeze(1), 0.0)
    out = weight.new_zeros((starts.numel(), weight.shape[1]))
    out = out.index_add(0, bag, rows)
    if mean:
        counts = weight.new_zeros(starts.numel()).index_add(0, bag, included.to(weight.dtype))
        out = out / counts.clamp(min=1).unsqueeze(1)
    return out


def _bag_max(input, weight, starts, ends, padding_idx):
    """Gathers bags into a dense (bags, longest, dim) block, masks the gaps and takes the max
    (its gradient goes to the row that won, as PyTorch's)."""
    lengths = ends - starts
    longest = lengths.max().item() if lengths.numel() else 0
    dim = weight.shape[1]
    if longest == 0:
        return weight.new_zeros((starts.numel(), dim))
    steps = _C.arange(longest, device=input.device)
    where_in_input = starts.unsqueeze(1) + steps
    valid = steps < lengths.unsqueeze(1)
    indices = input.index_select(0, where_in_input.clamp(max=input.numel() - 1).reshape(-1)).view(valid.shape)
    if padding_idx is not None:
        valid = valid & (indices != padding_idx)
    rows = weight.index_select(0, indices.reshape(-1)).view(*valid.shape, dim)
    rows = rows.where(valid.unsqueeze(2), float("-inf"))
    best = rows.max(1).values
    return best.where(valid.any(1).unsqueeze(1), 0.0)

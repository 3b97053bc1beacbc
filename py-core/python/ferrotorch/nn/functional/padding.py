"""``pad``: constant, reflect, replicate and circular padding.

Every mode is composite: constant padding crops with ``narrow`` and grows with ``cat``; the other
modes pick, along each padded dim, the source position of every output position and gather it
with ``index_select``. Autograd (and double backward) therefore come from those ops.
"""

import operator

from ... import _C

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")
_AXIS_NAMES = ("W", "H", "D")  # names of the padded dims, last dim first, as PyTorch's messages


def pad(input, pad, mode="constant", value=None):
    """Pads ``input``; ``pad`` lists (left, right) amounts for the last dim, then the one before...

    Args:
        input: the tensor to pad.
        pad: ``(left_last, right_last, left_second_last, right_second_last, ...)``; negative
            amounts crop.
        mode: ``'constant'`` (any number of dims), or ``'reflect'``, ``'replicate'``,
            ``'circular'`` (the last 1, 2 or 3 dims of a 2-3, 3-4 or 4-5 D input respectively).
        value: fill value for ``'constant'`` (default 0); other modes take none.
    """
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pad = _as_int_tuple(pad)
    ndim = input.dim()
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {ndim}"
        )
    # pairs[j] is the (left, right) padding of dim ndim-1-j.
    pairs = [(pad[2 * j], pad[2 * j + 1]) for j in range(len(pad) // 2)]
    if mode == "constant":
        return _constant_pad(input, pairs, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if len(pairs) not in (1, 2, 3) or ndim not in (len(pairs) + 1, len(pairs) + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D input tensor.")
    if mode == "circular":
        _check_circular(input, pairs)
        return _gather_pad(input, pairs, _circular_index)
    _check_reflect_or_replicate(input, pairs, mode)
    return _gather_pad(input, pairs, _reflect_index if mode == "reflect" else _replicate_index)


def _as_int_tuple(pad):
    try:
        return tuple(operator.index(p) for p in pad)
    except TypeError:
        bad = next(p for p in pad if not _is_index(p))
        raise TypeError(
            f"pad(): argument 'pad' must be tuple of ints, but found element of type "
            f"{type(bad).__name__} at pos {list(pad).index(bad)}"
        ) from None


def _is_index(p):
    try:
        operator.index(p)
        return True
    except TypeError:
        return False


def _constant_pad(input, pairs, value):
    """PyTorch's constant_pad_nd: crop (negative amounts) first, then grow with ``value``."""
    ndim = input.dim()
    out = input
    for j, (left, right) in enumerate(pairs):
        dim = ndim - 1 - j
        kept = out.shape[dim] - max(-left, 0) - max(-right, 0)
        if kept < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        if left < 0 or right < 0:
            out = out.narrow(dim, max(-left, 0), kept)
    if all(left <= 0 and right <= 0 for left, right in pairs):
        # Nothing grows: like PyTorch, the result is a view of the input.
        return out
    for j, (left, right) in enumerate(pairs):
        dim = ndim - 1 - j
        parts = [out]
        if left > 0:
            parts.insert(0, _filled(out, dim, left, value))
        if right > 0:
            parts.append(_filled(out, dim, right, value))
        if len(parts) > 1:
            out = _C.cat(parts, dim)
    return out


def _filled(like, dim, size, value):
    shape = list(like.shape)
    shape[dim] = size
    return like.new_full(shape, value)


def _gather_pad(input, pairs, source_index):
    """Pads dim by dim, gathering output position k from ``source_index(...)[k]``."""
    ndim = input.dim()
    out = input
    for j, (left, right) in enumerate(pairs):
        if left == 0 and right == 0:
            continue
        dim = ndim - 1 - j
        size = out.shape[dim]
        if size + left + right == 0:
            out = out.narrow(dim, 0, 0)
            continue
        positions = _C.arange(size + left + right, device=input.device)
        out = out.index_select(dim, source_index(positions, size, left, right))
    return out


def _reflect_index(positions, size, left, right):
    # Reflection about the first and last elements, in the input's own coordinates (one bounce
    # suffices: the checks keep each amount below ``size``).
    last = size - 1
    return last - (last - (positions - left).abs()).abs()


def _replicate_index(positions, size, left, right):
    return (positions - left).clamp(0, size - 1)


def _circular_index(positions, size, left, right):
    # As PyTorch's _pad_circular: negative amounts crop first, and the positive ones wrap around
    # what is left.
    start = max(-left, 0)
    kept = size - start - max(-right, 0)
    return start + (positions - max(left, 0)).remainder(kept)


def _check_circular(input, pairs):
    dims = [(input.shape[input.dim() - 1 - j], left, right) for j, (left, right) in enumerate(pairs)]
    for size, left, right in reversed(dims):
        if left > size or right > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + left + right < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")
    for size, left, right in dims:
        kept = size - max(-left, 0) - max(-right, 0)
        if size + left + right > 0 and max(left, right) > kept:
            # PyTorch reads uninitialised memory here (it wraps around a cropped dim more than
            # once); refuse instead.
            raise RuntimeError("Padding value causes wrapping around more than once.")


def _check_reflect_or_replicate(input, pairs, mode):
    """PyTorch's reflection_pad / replication_pad checks, with their messages."""
    k, ndim, shape = len(pairs), input.dim(), list(input.shape)
    first_non_batch = 1 if ndim == k + 2 else 0
    if any(s == 0 for s in shape[first_non_batch:]):
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {shape}"
        )
    sizes = [shape[ndim - 1 - j] for j in range(k)]
    if mode == "reflect":
        for j, ((left, right), size) in enumerate(zip(pairs, sizes)):
            if not (left < size and right < size):
                raise RuntimeError(
                    f"Argument #{4 + 2 * j}: Padding size should be less than the corresponding input "
                    f"dimension, but got: padding ({left}, {right}) at dimension {ndim - 1 - j} of input {shape}"
                )
    outs = [size + left + right for (left, right), size in zip(pairs, sizes)]
    if any(o < 1 for o in outs):
        if k == 1:
            raise RuntimeError(f"input (W: {sizes[0]}) is too small. Calculated output W: {outs[0]}")
        names = _AXIS_NAMES[:k][::-1]
        got = " ".join(f"{n}: {o}" for n, o in zip(names, outs[::-1]))
        had = ", ".join(f"{n}: {s}" for n, s in zip(names, sizes[::-1]))
        raise RuntimeError(f"Calculated output {got} must be >= 1 in every dimension (input {had})")

"""Loss functions (the names and signatures of ``torch.nn.functional``).

Every loss is a composite of differentiable tensor ops, so autograd (and double backward) come
for free. ``size_average``/``reduce`` are PyTorch's deprecated arguments: when either is given it
overrides ``reduction`` the way ``torch.nn._reduction.legacy_get_string`` does.
"""

import math
import numbers
import operator
import warnings

from ... import _C
from ...autograd.grad_mode import no_grad
from .distance import pairwise_distance
from ...amp.autocast_mode import autocast_op

__all__ = [
    "l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
    "nll_loss", "cross_entropy", "margin_ranking_loss", "hinge_embedding_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "soft_margin_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss", "ctc_loss",
]

_NEG_INF = float("-inf")

# PyTorch's ScalarType names, which its error messages use ("expected ... Long ... but got Int").
_SCALAR_TYPE_NAMES = {
    _C.bool: "Bool", _C.uint8: "Byte", _C.int8: "Char", _C.int16: "Short", _C.int32: "Int",
    _C.int64: "Long", _C.float16: "Half", _C.bfloat16: "BFloat16", _C.float32: "Float",
    _C.float64: "Double",
}


# ----- reductions ---------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce, reduction):
    """``reduction``, or the string the deprecated ``size_average``/``reduce`` pair stands for."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
        stacklevel=3,
    )
    return result


def _check_reduction(reduction):
    """Raises PyTorch's ValueError unless ``reduction`` is 'none', 'mean' or 'sum'."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    """Applies ``reduction`` ('none' | 'mean' | 'sum') to an element-wise loss."""
    reduction = _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ----- small shared pieces --------------------------------------------------------------------
def _shape_list(tensor):
    """A shape as PyTorch's C++ messages print it: ``[3, 5]``."""
    return str(list(tensor.shape))


def _softplus(x):
    """log(1 + exp(x)), without overflow for large x."""
    return x.clamp(min=0) + (-x.abs()).exp().log1p()


def _log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -_softplus(-x)


def _broadcast_pair(input, target):
    """Broadcasts ``input`` and ``target``, warning like PyTorch when their sizes differ."""
    if target.size() != input.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )
    return _C.broadcast_tensors(input, target)


def _weighted_reduce(loss, weight, input, reduction, mean_over_weight):
    """The ``weight`` option of l1/mse/huber: per-element weights. 'mean' divides by sum(weight)
    for l1/mse but by the element count for huber, as PyTorch does."""
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum() if mean_over_weight else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _pointwise_loss(loss_fn, input, target, reduction, weight=None, mean_over_weight=True):
    """Shared body of the element-wise regression losses."""
    input, target = _broadcast_pair(input, target)
    loss = loss_fn(input - target)
    if weight is not None:
        return _weighted_reduce(loss, weight, input, reduction, mean_over_weight)
    return _reduce(loss, reduction)


# ----- regression losses ----------------------------------------------------------------------
@autocast_op("l1_loss")
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |input - target| (optionally weighted element-wise)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _pointwise_loss(lambda d: d.abs(), input, target, reduction, weight)


@autocast_op("mse_loss")
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (input - target)^2 (optionally weighted element-wise)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _pointwise_loss(lambda d: d * d, input, target, reduction, weight)


def _huber(diff, delta):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    z = diff.abs()
    return _C.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))


@autocast_op("smooth_l1_loss")
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Huber loss divided by ``beta``: quadratic below ``beta``, linear above; ``beta=0`` is L1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _pointwise_loss(lambda d: d.abs(), input, target, reduction)
    return _pointwise_loss(lambda d: _huber(d, beta) / beta, input, target, reduction)


@autocast_op("huber_loss")
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 for |d| < delta, delta (|d| - 0.5 delta) otherwise (optionally weighted)."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _pointwise_loss(lambda d: _huber(d, delta), input, target, reduction, weight, mean_over_weight=False)


# ----- binary and distribution losses ---------------------------------------------------------
def _clamped_log(x):
    """max(log(x), -100) as BCE uses it; the log never sees 0, so backward never makes 0/0."""
    positive = x > 0
    return _C.where(positive, _C.where(positive, x, 1.0).log(), -100.0).clamp(min=-100.0)


@autocast_op("binary_cross_entropy")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities ``input`` in [0, 1]; the logs are
    clamped at -100 like PyTorch so the loss stays finite."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if target.size() != input.size():
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) "
            "is deprecated. Please ensure they have the same size."
        )
    if weight is not None:
        weight = weight.expand(_C.broadcast_shapes(target.shape, weight.shape))
    # NaN fails the check too, as in PyTorch.
    if input.numel() and not bool(((input >= 0) & (input <= 1)).all()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@autocast_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """BCE on logits in the stable form (1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x);
    ``pos_weight`` broadcasts over the last (class) dim."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if target.size() != input.size():
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    log_sig = _log_sigmoid(input)
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input - log_weight * log_sig
    else:
        loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@autocast_op("kl_div")
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence t (log t - input) for log-probabilities ``input``; ``target`` in
    log space when ``log_target``. ``reduction='batchmean'`` divides the sum by the batch size."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=2,
        )
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _C.xlogy(target, target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.dim() != 0 else total
    return _reduce(loss, reduction)


@autocast_op("poisson_nll_loss")
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log likelihood: exp(x) - t x when ``log_input``, else x - t log(x + eps);
    ``full`` adds Stirling's approximation of log(t!) where t > 1."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(var) + (input - target)^2 / var), var clamped below at ``eps`` (without
    stopping its gradient, like PyTorch); ``full`` adds 0.5 log(2 pi). ``var`` may be a float,
    the input's shape, the input's shape without the last dim, or differ in one dim of size 1."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _C.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass  # homoscedastic along the one dim where var has size 1
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ----- classification losses ------------------------------------------------------------------
def _check_nll_shapes(input, target, weight):
    """PyTorch's argument checks of nll_loss for (C), (N, C) and (N, C, d1, ..., dk) inputs."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() != 1 and (target.dim() == 0 or input.shape[0] != target.shape[0]):
        got = target.shape[0] if target.dim() else 1
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({got}).")
    if target.dtype not in (_C.int64, _C.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_SCALAR_TYPE_NAMES[target.dtype]}")
    n_classes = input.shape[0 if input.dim() == 1 else 1]
    if weight is not None and weight.numel() != n_classes:
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes "
            f"but got weight tensor of shape: {_shape_list(weight)}"
        )
    if input.dim() <= 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if input.dim() == 1 and target.numel() != 1:
            raise RuntimeError(f"size mismatch (got input: {_shape_list(input)}, target: {_shape_list(target)})")
        return
    expected = [input.shape[0]] + list(input.shape[2:])
    if input.dim() == 4 and target.dim() != 3:
        raise RuntimeError(
            f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {target.dim()}")
    if list(target.shape) != expected:
        raise RuntimeError(f"Expected target size {expected}, got {_shape_list(target)}")


def _target_weights(target, weight, ignore_index, n_classes, dtype):
    """For class-index targets: the mask of non-ignored targets, the targets with ignored ones
    set to 0 (safe to index with), and each target's class weight (0 where ignored). Raises
    PyTorch's IndexError for a non-ignored target outside [0, n_classes)."""
    target = target.long()
    keep = target != ignore_index
    bad = keep & ((target < 0) | (target >= n_classes))
    if bool(bad.any()):
        raise IndexError(f"Target {int(target.masked_select(bad)[0])} is out of bounds.")
    safe = target.masked_fill(~keep, 0)
    if weight is None:
        weights = keep.to(dtype)
    else:
        weights = weight.reshape(-1)[safe].masked_fill(~keep, 0)
    return keep, safe, weights


@autocast_op("nll_loss")
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of class-index targets given log-probabilities ``input``:
    -w[t] input[n, t] for input (C), (N, C) or (N, C, d1, ..., dk). Targets equal to
    ``ignore_index`` contribute nothing; 'mean' divides by the summed weight of the others."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    _check_nll_shapes(input, target, weight)
    # One native kernel (PyTorch's nll_loss_nd); like PyTorch's, it gives the class weights no gradient.
    return _C._nll_loss(input, target, weight, reduction, ignore_index)


def _class_weight_view(weight, input, class_dim):
    """``weight`` (C) shaped to broadcast along ``class_dim`` of ``input``."""
    shape = [1] * input.dim()
    shape[class_dim] = weight.numel()
    return weight.reshape(shape)


def _cross_entropy_probabilities(log_probs, target, weight, class_dim, reduction, label_smoothing):
    """Cross entropy against class probabilities: -sum_c w_c t_c log p_c per sample."""
    n_classes = log_probs.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    product = log_probs * target
    if weight is not None:
        product = product * _class_weight_view(weight, log_probs, class_dim)
    if reduction == "none":
        return -product.sum(class_dim)
    if reduction == "sum":
        return -product.sum()
    if log_probs.numel() == 0:
        return -product.sum() * float("nan")
    return -product.sum() / (log_probs.numel() / n_classes)


def _smoothing_term(log_probs, target, weight, class_dim, ignore_index, reduction):
    """The uniform part of label smoothing, -sum_c w_c log p_c, reduced the way PyTorch's
    cross_entropy_loss_label_smoothing reduces it ('mean' divides by the targets' weight)."""
    if weight is not None:
        smooth = -(log_probs * _class_weight_view(weight, log_probs, class_dim)).sum(class_dim)
    else:
        smooth = -log_probs.sum(class_dim)
    keep, _, weights = _target_weights(target, weight, ignore_index, log_probs.shape[class_dim], log_probs.dtype)
    smooth = smooth.masked_fill(~keep, 0)
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return smooth.sum()
    return smooth.sum() / weights.sum()


@autocast_op("cross_entropy_loss")
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` (C), (N, C) or (N, C, d1, ..., dk) and either
    class indices (N, d1, ..., dk) or class probabilities (the input's shape).

    ``weight`` rescales each class, targets equal to ``ignore_index`` are skipped, and
    ``label_smoothing`` mixes the target with the uniform distribution, all as in PyTorch."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    if input.dim() >= 1 and input.size() == target.size():
        if not target.is_floating_point():
            raise RuntimeError(
                f"Expected floating point type for target with class probabilities, got {_SCALAR_TYPE_NAMES[target.dtype]}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        n_classes = input.shape[class_dim]
        if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
            raise RuntimeError(
                f"cross_entropy: weight tensor should be defined either for all {n_classes} classes or no "
                f"classes but got weight tensor of shape: {_shape_list(weight)}"
            )
        log_probs = input.log_softmax(class_dim)
        return _cross_entropy_probabilities(log_probs, target, weight, class_dim, reduction, label_smoothing)
    log_probs = input.log_softmax(class_dim) if input.dim() >= 1 else input  # 0-d: nll_loss raises
    nll = nll_loss(log_probs, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return nll
    smooth = _smoothing_term(log_probs, target, weight, class_dim, ignore_index, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / input.shape[class_dim])


# ----- margin losses --------------------------------------------------------------------------
@autocast_op("margin_ranking_loss")
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (input1 - input2) + margin), target in {1, -1}."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


@autocast_op("hinge_embedding_loss")
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target is 1, max(0, margin - input) where target is -1."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    margin_part = _C.where(target != 1, (margin - input).clamp(min=0), 0.0)
    self_part = _C.where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction)


@autocast_op("soft_margin_loss")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), computed without overflow."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    return _reduce(_softplus(-input * target), reduction)


def _frames(input):
    """(number of samples, classes) of a (C) or (N, C) input, PyTorch's check for margin losses."""
    ok = (input.dim() == 2 and input.shape[1] != 0) or (input.dim() == 1 and input.shape[0] != 0) or input.dim() == 0
    if not ok:
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {_shape_list(input)}")
    if input.dim() <= 1:
        return 1, (1 if input.dim() == 0 else input.shape[0])
    return input.shape[0], input.shape[1]


@autocast_op("multilabel_margin_loss")
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C.
    Each target row lists class indices and ends at the first -1."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    nframe, dim = _frames(input)
    shape_ok = (target.dim() <= 1 and target.numel() == dim) if input.dim() <= 1 else (
        target.dim() == 2 and list(target.shape) == [nframe, dim])
    if not shape_ok:
        raise RuntimeError(f"inconsistent target size: {_shape_list(target)} for input of size: {_shape_list(input)}")
    target = target.long()
    if target.numel() and (bool((target < -1).any()) or bool((target >= dim).any())):
        raise RuntimeError("argument #2 'target' is out of range")
    x = input.reshape(nframe, dim)
    y = target.reshape(nframe, dim)
    listed = (y != -1).long().cumprod(1).bool()  # entries before the first -1
    safe = y.masked_fill(~listed, 0)
    # A spare column receives the unlisted entries, so scattering marks only listed classes.
    is_target = _C.zeros((nframe, dim + 1), dtype=_C.bool).scatter(1, y.masked_fill(~listed, dim), True)[:, :dim]
    hinge = (1 - (x.gather(1, safe).unsqueeze(2) - x.unsqueeze(1))).clamp(min=0)
    pairs = listed.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = hinge.masked_fill(~pairs, 0).sum((1, 2)) / dim
    # A (C) or 0-d input was computed as one sample; its unreduced loss is 0-d.
    return _reduce(loss.squeeze(0) if input.dim() <= 1 else loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """One-vs-all logistic loss averaged over the C classes of the last dim."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * _log_sigmoid(input) + (1 - target) * _log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


@autocast_op("multi_margin_loss")
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over i != y of w[y] max(0, margin - x[y] + x[i])^p / C, p in {1, 2}."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nframe, dim = _frames(input)
    if not (target.dim() <= 1 and target.numel() == nframe):
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size [{nframe}], but got {_shape_list(target)}. "
            f"Input has shape {_shape_list(input)}."
        )
    if weight is not None and weight.numel() != dim:
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got {_shape_list(weight)}")
    y = target.reshape(nframe).long()
    if nframe and (bool((y < 0).any()) or bool((y >= dim).any())):
        raise RuntimeError("target out of range")
    x = input.reshape(nframe, dim)
    z = (margin - x.gather(1, y.unsqueeze(1)) + x).clamp(min=0)
    h = z if p == 1 else z * z
    if weight is not None:
        h = h * weight[y].unsqueeze(1)
    own_class = _C.arange(dim) == y.unsqueeze(1)
    loss = h.masked_fill(own_class, 0).sum(1) / dim
    # An unbatched loss takes the target's shape: () or (1).
    return _reduce(loss.reshape(target.shape) if input.dim() <= 1 else loss, reduction)


# ----- embedding losses -----------------------------------------------------------------------
@autocast_op("cosine_embedding_loss")
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where target is -1."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if target.dim() == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(
            f"{target.dim()}D target tensor expects {want}D input tensors, but found inputs with sizes "
            f"{_shape_list(input1)} and {_shape_list(input2)}."
        )
    epsilon = 1e-12  # PyTorch's guard against zero vectors
    dim = target.dim()
    dot = (input1 * input2).sum(dim)
    norms = (((input1 * input1).sum(dim) + epsilon) * ((input2 * input2).sum(dim) + epsilon)).sqrt()
    cos = dot / norms
    loss = _C.where(target == 1, 1 - cos, 0.0) + _C.where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def _check_triplet_dims(anchor, positive, negative):
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {anchor.dim()}D, positive {positive.dim()}D, and negative {negative.dim()}D inputs"
        )


def _triplet_loss(anchor, positive, negative, distance, margin, swap, reduction):
    """max(0, margin + d(a, p) - d(a, n)), with d(a, n) replaced by min(d(a, n), d(p, n)) on swap."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = _C.minimum(dist_neg, distance(positive, negative))
    return _reduce((margin + dist_pos - dist_neg).clamp(min=0), reduction)


@autocast_op("triplet_margin_loss")
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """Triplet loss with the p-norm distance ||x1 - x2 + eps||_p over the last dim."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    distance = lambda x1, x2: pairwise_distance(x1, x2, p, eps)  # noqa: E731
    return _triplet_loss(anchor, positive, negative, distance, margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """Triplet loss with any distance function (default: the pairwise 2-norm)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    distance = distance_function if distance_function is not None else pairwise_distance
    return _triplet_loss(anchor, positive, negative, distance, margin, swap, reduction)


# ----- CTC --------------------------------------------------------------------------------------
def _stable_logsumexp(x, dim):
    """logsumexp whose backward stays finite where every entry is -inf (unreachable CTC states)."""
    peak = x.detach().amax(dim, keepdim=True)
    peak = peak.masked_fill(peak == _NEG_INF, 0)
    total = (x - peak).exp().sum(dim)
    reachable = total > 0
    return _C.where(reachable, _C.where(reachable, total, 1.0).log(), _NEG_INF) + peak.squeeze(dim)


def _lengths_tensor(lengths, name):
    """Input or target lengths (tensor, sequence or int) as a 1-D int64 tensor."""
    if not isinstance(lengths, _C.Tensor):
        values = [lengths] if isinstance(lengths, numbers.Integral) else list(lengths)
        lengths = _C.as_tensor([operator.index(v) for v in values], dtype=_C.int64)
    if lengths.is_floating_point():
        raise RuntimeError(f"{name} must be integral")
    return lengths.reshape(-1).long()


def _ctc_checks(log_probs, targets, input_lengths, target_lengths, blank):
    """PyTorch's argument checks of ctc_loss (log_probs already (T, N, C))."""
    T, N, C = log_probs.shape
    if blank < 0 or blank >= C:
        raise RuntimeError("blank must be in label range")
    if input_lengths.numel() != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if target_lengths.numel() != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    where = "(while checking arguments for ctc_loss)"
    for name, lengths in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        if N and int(lengths.min()) < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {int(lengths.min())} {where}")
    if N and int(input_lengths.max()) > T:
        raise RuntimeError(
            f"Expected input_lengths to have value at most {T}, but got value {int(input_lengths.max())} {where}")
    if targets.dim() == 1:
        total = int(target_lengths.sum())
        if targets.shape[0] != total:
            raise RuntimeError(
                f"Expected tensor to have size {total} at dimension 0, but got size {targets.shape[0]} "
                f"for argument #2 'targets' {where}")
    else:
        if targets.shape[0] != N:
            raise RuntimeError(
                f"Expected tensor to have size {N} at dimension 0, but got size {targets.shape[0]} "
                f"for argument #2 'targets' {where}")
        longest = int(target_lengths.max()) if N else 0
        if targets.shape[1] < longest:
            raise RuntimeError(
                f"Expected tensor to have size at least {longest} at dimension 1, but got size {targets.shape[1]} "
                f"for argument #2 'targets' {where}")


def _padded_targets(targets, target_lengths, blank):
    """(N, S) targets with every entry past a sample's length set to ``blank``; a 1-D
    concatenation is first cut into rows with gathered offsets (no loop over the batch)."""
    longest = int(target_lengths.max()) if target_lengths.numel() else 0
    positions = _C.arange(longest).unsqueeze(0)
    valid = positions < target_lengths.unsqueeze(1)
    targets = targets.long()
    if targets.dim() == 1:
        starts = target_lengths.cumsum(0) - target_lengths
        index = (starts.unsqueeze(1) + positions).masked_fill(~valid, 0)
        targets = targets[index] if targets.numel() else _C.zeros(tuple(index.shape), dtype=_C.int64)
    else:
        targets = targets[:, :longest]
    return targets.masked_fill(~valid, blank)


def _ctc_negative_log_likelihood(log_probs, targets, input_lengths, target_lengths, blank):
    """-log p(target | input) per sample: the CTC forward (alpha) recursion in log space over the
    extended label sequence (blank, l1, blank, l2, ..., blank), vectorized over batch and label
    positions; only time is a Python loop. Autograd through it gives the gradient."""
    T, N, _ = log_probs.shape
    labels = _padded_targets(targets, target_lengths, blank)
    S = labels.shape[1]
    L = 2 * S + 1
    blanks = _C.full((N, S), blank, dtype=_C.int64)
    extended = _C.cat([_C.stack([blanks, labels], 2).reshape(N, 2 * S), _C.full((N, 1), blank, dtype=_C.int64)], 1)
    emissions = log_probs.gather(2, extended.unsqueeze(0).expand(T, N, L))  # (T, N, L)
    # A label may be reached from two positions back unless it is blank or repeats that label.
    skip_allowed = _C.cat([_C.zeros((N, min(2, L)), dtype=_C.bool),
                           (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])], 1)
    position = _C.arange(L).unsqueeze(0)
    start = emissions[0].masked_fill(position >= 2, _NEG_INF)
    # An empty input aligns only with an empty target, with probability 1.
    nothing_seen = _C.zeros((N, L), dtype=log_probs.dtype).masked_fill(position >= 1, _NEG_INF)
    alpha = _C.where((input_lengths > 0).unsqueeze(1), start, nothing_seen)
    pad1 = _C.full((N, 1), _NEG_INF, dtype=log_probs.dtype)
    pad2 = _C.full((N, min(2, L)), _NEG_INF, dtype=log_probs.dtype)
    for t in range(1, T):
        stay = alpha
        step = _C.cat([pad1, alpha[:, :L - 1]], 1)
        jump = _C.cat([pad2, alpha[:, :max(L - 2, 0)]], 1).masked_fill(~skip_allowed, _NEG_INF)
        advanced = _stable_logsumexp(_C.stack([stay, step, jump]), 0) + emissions[t]
        alpha = _C.where((input_lengths > t).unsqueeze(1), advanced, alpha)
    last = (2 * target_lengths).unsqueeze(1)
    end_blank = alpha.gather(1, last)
    end_label = alpha.gather(1, (last - 1).clamp(min=0)).masked_fill(last == 0, _NEG_INF)
    return -_stable_logsumexp(_C.cat([end_blank, end_label], 1), 1)


@autocast_op("ctc_loss")
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist Temporal Classification loss.

    Args:
        log_probs: (T, N, C) or (T, C) log-probabilities (e.g. ``log_softmax`` outputs).
        targets: (N, S) padded class indices, or their 1-D concatenation of total length
            sum(target_lengths).
        input_lengths, target_lengths: (N) or () lengths (tensors or sequences of ints).
        blank: the blank label. reduction: 'none' | 'mean' (each loss divided by its target
            length, then averaged over the batch) | 'sum'.
        zero_infinity: replace infinite losses (impossible alignments) and their gradients by 0.
    """
    reduction = _check_reduction(reduction)
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    batched = log_probs.dim() == 3
    if not batched:
        log_probs = log_probs.unsqueeze(1)
        if targets.dim() == 2 and targets.shape[0] != 1:
            targets = targets.unsqueeze(0)
    input_lengths = _lengths_tensor(input_lengths, "input_lengths")
    target_lengths = _lengths_tensor(target_lengths, "target_lengths")
    _ctc_checks(log_probs, targets, input_lengths, target_lengths, blank)
    loss = _ctc_negative_log_likelihood(log_probs, targets, input_lengths, target_lengths, blank)
    if zero_infinity:
        loss = _C.where(loss == float("inf"), 0.0, loss)
    if reduction == "mean":
        return (loss / target_lengths.clamp(min=1).to(loss.dtype)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)

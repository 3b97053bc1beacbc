"""Activation functions and softmax: thin shells over the fused Rust kernels (``_C._<name>``
and PyTorch's own ``torch.relu``, ``torch.selu``, ...), each with its autograd node."""

from ... import _C

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
    "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign", "hardtanh", "hardtanh_",
    "hardsigmoid", "hardswish", "prelu", "rrelu", "rrelu_", "glu", "logsigmoid", "tanhshrink",
    "softshrink", "hardshrink", "threshold", "threshold_", "sigmoid", "tanh", "softmax",
    "softmin", "log_softmax", "gumbel_softmax",
]

# The largest finite value of each float dtype, as PyTorch prints it in softshrink's error.
_DTYPE_MAX = {"float16": ("Half", "65504"), "bfloat16": ("BFloat16", "3.38953e+38"),
              "float32": ("Float", "3.40282e+38"), "float64": ("Double", "1.79769e+308")}


def relu(input, inplace=False):
    """max(x, 0) element-wise (NaN stays NaN)."""
    return _C.relu_(input) if inplace else _C.relu(input)


def relu_(input):
    """In-place ``relu``."""
    return _C.relu_(input)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): ``hardtanh`` on [0, 6]."""
    return _C._hardtanh_(input, 0.0, 6.0) if inplace else _C._hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, ``negative_slope * x`` otherwise."""
    return _C._leaky_relu_(input, negative_slope) if inplace else _C._leaky_relu(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """In-place ``leaky_relu``."""
    return _C._leaky_relu_(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""
    return _C._elu_(input, alpha, 1.0, 1.0) if inplace else _C._elu(input, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    """In-place ``elu``."""
    return _C._elu_(input, alpha, 1.0, 1.0)


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _C.selu_(input) if inplace else _C.selu(input)


def selu_(input):
    """In-place ``selu``."""
    return _C.selu_(input)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _C.celu_(input, alpha) if inplace else _C.celu(input, alpha)


def celu_(input, alpha=1.0):
    """In-place ``celu``."""
    return _C.celu_(input, alpha)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh form."""
    if approximate == "none":
        return _C._gelu(input)
    if approximate == "tanh":
        return _C._gelu_tanh(input)
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return _C._silu_(input) if inplace else _C._silu(input)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _C._mish_(input) if inplace else _C._mish(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, reverting to x where ``beta * x > threshold``."""
    return _C._softplus(input, beta, threshold)


def softsign(input):
    """x / (1 + |x|)."""
    return _C._softsign(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _C._hardtanh_(input, min_val, max_val) if inplace else _C._hardtanh(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return _C._hardsigmoid_(input) if inplace else _C._hardsigmoid(input)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return _C._hardswish_(input) if inplace else _C._hardswish(input)


def prelu(input, weight):
    """x for x > 0, ``weight * x`` otherwise; ``weight`` has one element or one per channel (dim 1)."""
    return _C.prelu(input, weight)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU whose slope is drawn from U(lower, upper) per element while training and is
    ``(lower + upper) / 2`` otherwise."""
    return _C.rrelu_(input, lower, upper, training) if inplace else _C.rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place ``rrelu``."""
    return _C.rrelu_(input, lower, upper, training)


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    return _C._glu(input, dim)


def logsigmoid(input):
    """log(sigmoid(x)), computed stably."""
    return _C._log_sigmoid(input)


def tanhshrink(input):
    """x - tanh(x)."""
    return _C._tanhshrink(input)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 in between."""
    if lambd < 0 and input.is_floating_point():
        name, top = _DTYPE_MAX[str(input.dtype).rsplit(".", 1)[-1]]
        raise RuntimeError(f"lambda must be in range [0, {top}] for input dtype {name}, but found {lambd:g}")
    return _C._softshrink(input, lambd)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, 0 elsewhere."""
    return _C.hardshrink(input, lambd)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, ``value`` elsewhere."""
    return _C.threshold_(input, threshold, value) if inplace else _C.threshold(input, threshold, value)


def threshold_(input, threshold, value):
    """In-place ``threshold``."""
    return _C.threshold_(input, threshold, value)


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return input.sigmoid()


def tanh(input):
    """tanh(x)."""
    return input.tanh()


def _softmax_dim(ndim):
    """PyTorch's legacy implicit dim: 0 for 0-, 1- and 3-D inputs, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, computed stably in one fused kernel."""
    if dim is None:
        dim = _softmax_dim(input.dim())
    return input.softmax(dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _softmax_dim(input.dim())
    return (-input).softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along ``dim``, in one fused kernel."""
    if dim is None:
        dim = _softmax_dim(input.dim())
    return input.log_softmax(dim, dtype=dtype)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution over ``dim``: softmax((logits + g) / tau)
    with g ~ Gumbel(0, 1). ``hard=True`` returns one-hot samples whose gradient is the soft
    sample's (straight-through)."""
    gumbels = -_C.empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = _C.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft

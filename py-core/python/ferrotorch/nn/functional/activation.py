"""Activation functions and softmax."""

import math

__all__ = ["relu", "gelu", "silu", "softmax", "log_softmax"]


def relu(input, inplace=False):
    """max(x, 0) element-wise."""
    out = input.clamp(min=0)
    return input.copy_(out) if inplace else out


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh form."""
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1.0 + inner.tanh())
    if approximate != "none":
        raise RuntimeError(f"approximate argument must be either none or tanh.")
    return 0.5 * input * (1.0 + (input * (1.0 / math.sqrt(2.0))).erf())


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    out = input * input.sigmoid()
    return input.copy_(out) if inplace else out


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, computed stably in one fused kernel."""
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along ``dim``, in one fused kernel."""
    return input.log_softmax(dim, dtype=dtype)

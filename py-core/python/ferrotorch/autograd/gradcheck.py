"""``gradcheck`` and ``gradgradcheck``: compare autograd's Jacobians with central finite
differences (use float64 inputs)."""

import numpy as np

from .. import _C
from .._C import Tensor
from .grad_mode import no_grad


class GradcheckError(RuntimeError):
    """Raised when an analytical and a numerical Jacobian disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable_outputs(func, inputs):
    return [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]


def _numerical_jacobians(func, inputs, targets, eps):
    """One matrix (input numel x output numel) per (input, output) pair, by central differences.
    Each element is perturbed through a detached alias, so strided inputs work as they are."""
    jac = {}
    for i in targets:
        x = inputs[i].detach()
        for k, idx in enumerate(np.ndindex(*x.shape)):
            with no_grad():
                orig = x[idx].item()
                x[idx] = orig + eps
                plus = [o.detach().double().cpu().numpy().copy() for o in _differentiable_outputs(func, inputs)]
                x[idx] = orig - eps
                minus = [o.detach().double().cpu().numpy().copy() for o in _differentiable_outputs(func, inputs)]
                x[idx] = orig
            for j, (p, m) in enumerate(zip(plus, minus)):
                col = jac.setdefault((i, j), np.zeros((x.numel(), p.size)))
                col[k] = ((p - m) / (2 * eps)).reshape(-1)
    return jac


def _analytical_jacobians(func, inputs, targets):
    outputs = _differentiable_outputs(func, inputs)
    jac = {}
    for j, out in enumerate(outputs):
        for i in targets:
            jac[(i, j)] = np.zeros((inputs[i].numel(), out.numel()))
        if not out.requires_grad:
            continue
        for m in range(out.numel()):
            seed = np.zeros(out.numel())
            seed[m] = 1.0
            grad_out = _C.from_numpy(seed.reshape(out.shape)).to(out.dtype)
            grads = _C._grad([out], [inputs[i] for i in targets], [grad_out], True, False, True)
            for i, g in zip(targets, grads):
                if g is not None:
                    jac[(i, j)][:, m] = g.detach().double().cpu().numpy().reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """Whether ``func``'s gradients at ``inputs`` match finite differences."""
    inputs = _as_tuple(inputs)
    targets = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not targets:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them have requires_grad=True.")
    numerical = _numerical_jacobians(func, inputs, targets, eps)
    analytical = _analytical_jacobians(func, inputs, targets)
    for (i, j), num in sorted(numerical.items()):
        ana = analytical[(i, j)]
        if not np.allclose(ana, num, rtol=rtol, atol=atol, equal_nan=True):
            if not raise_exception:
                return False
            raise GradcheckError(
                f"Jacobian mismatch for output {j} with respect to input {i},\n"
                f"numerical:{num}\nanalytical:{ana}\n"
            )
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """Checks second derivatives: ``gradcheck`` of the vector-Jacobian product of ``func``."""
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        outs = _differentiable_outputs(func, inputs)
        grad_outputs = tuple(
            _C.from_numpy(rng.standard_normal(o.shape) if o.dim() else np.array(rng.standard_normal())).to(o.dtype).requires_grad_()
            for o in outs
        )
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    targets = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def vjp(*args):
        ins, gos = args[:n], args[n:]
        outs = _differentiable_outputs(func, ins)
        pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
        grads = _C._grad([o for o, _ in pairs], [ins[i] for i in targets], [g for _, g in pairs], True, True, True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)

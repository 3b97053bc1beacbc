"""``autograd.functional``: Jacobians, Hessians and products of them, built on ``autograd.grad``."""

from .. import _C
from .._C import Tensor
from .grad_mode import enable_grad


def _tuple(x):
    return (tuple(x), True) if isinstance(x, (tuple, list)) else ((x,), False)


def _prepare(inputs, create_graph):
    return tuple(x if create_graph and x.requires_grad else x.detach().requires_grad_() for x in inputs)


def _grad(outputs, inputs, grad_outputs, create_graph):
    grads = _C._grad(list(outputs), list(inputs), list(grad_outputs), True, create_graph, True)
    return tuple(g if g is not None else _C.zeros_like(x) for g, x in zip(grads, inputs))


def _unwrap(result, is_tuple):
    return result if is_tuple else result[0]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``."""
    inputs, in_tuple = _tuple(inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs, out_tuple = _tuple(func(*inputs))
        if v is None:
            if any(o.numel() != 1 for o in outputs):
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single Tensor with a single element.")
            v = tuple(_C.ones_like(o) for o in outputs)
        else:
            v, _ = _tuple(v)
        grads = _grad(outputs, inputs, v, create_graph)
    outputs = tuple(o if create_graph else o.detach() for o in outputs)
    grads = tuple(g if create_graph else g.detach() for g in grads)
    return _unwrap(outputs, out_tuple), _unwrap(grads, in_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``, by differentiating a vector-Jacobian product (the double-vjp trick)."""
    inputs, in_tuple = _tuple(inputs)
    if v is None:
        if any(x.numel() != 1 for x in inputs):
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single Tensor with a single element.")
        v = tuple(_C.ones_like(x) for x in inputs)
    else:
        v, _ = _tuple(v)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs, out_tuple = _tuple(func(*inputs))
        dummies = tuple(_C.zeros_like(o).requires_grad_() for o in outputs)
        grads = _C._grad(list(outputs), list(inputs), list(dummies), True, True, True)
        pairs = [(g, t) for g, t in zip(grads, v) if g is not None and g.requires_grad]
        if pairs:
            jv = _C._grad([g for g, _ in pairs], list(dummies), [t for _, t in pairs], True, create_graph, True)
        else:
            jv = [None] * len(dummies)
        jv = tuple(j if j is not None else _C.zeros_like(o) for j, o in zip(jv, outputs))
    outputs = tuple(o if create_graph else o.detach() for o in outputs)
    jv = tuple(j if create_graph else j.detach() for j in jv)
    return _unwrap(outputs, out_tuple), _unwrap(jv, out_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape`` per pair."""
    inputs, in_tuple = _tuple(inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs, out_tuple = _tuple(func(*inputs))
        rows = []
        for out in outputs:
            per_input = [[] for _ in inputs]
            for m in range(out.numel()):
                seed = _C.zeros(out.numel(), dtype=out.dtype)
                seed[m] = 1.0
                grads = _grad([out], inputs, [seed.reshape(out.shape)], create_graph)
                for k, g in enumerate(grads):
                    per_input[k].append(g if create_graph else g.detach())
            rows.append(tuple(
                (_C.stack(p) if p else _C.zeros(0, dtype=x.dtype)).reshape(tuple(out.shape) + tuple(x.shape))
                for p, x in zip(per_input, inputs)
            ))
    if out_tuple:
        return tuple(r if in_tuple else r[0] for r in rows)
    return rows[0] if in_tuple else rows[0][0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func`` at ``inputs``."""
    inputs_t, in_tuple = _tuple(inputs)

    def gradient(*xs):
        with enable_grad():
            out = func(*xs)
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
            return _grad([out], xs, [_C.ones_like(out)], True)

    h = jacobian(gradient, inputs_t, create_graph=create_graph)
    if in_tuple:
        return h
    return h[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)``."""
    inputs, in_tuple = _tuple(inputs)
    v, _ = _tuple(v) if v is not None else (tuple(_C.ones_like(x) for x in inputs), False)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        out = func(*inputs)
        g = _grad([out], inputs, [_C.ones_like(out)], True)
        hv = _grad(g, inputs, v, create_graph)
    out = out if create_graph else out.detach()
    hv = tuple(h if create_graph else h.detach() for h in hv)
    return out, _unwrap(hv, in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)``; the Hessian is symmetric, so this equals ``vhp``."""
    return vhp(func, inputs, v, create_graph, strict)

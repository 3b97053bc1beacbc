"""``autocast``: regions (and decorated functions) where listed ops run in mixed precision,
as ``torch.amp.autocast``. The state is kept by the Rust core, so ops reached with no Python
frame (``a @ b``, convolutions) are cast too; see ``docs/amp.md`` for the op lists."""

import collections.abc
import functools
import warnings

from .. import _C

__all__ = ["autocast_decorator", "autocast", "is_autocast_available", "custom_fwd", "custom_bwd", "autocast_op",
           "autocast_call"]


def is_autocast_available(device_type):
    """Whether autocast works on ``device_type`` ('cpu' and 'cuda' here)."""
    return _C._is_autocast_available(device_type)


def _cuda_available():
    """Whether a CUDA device can run autocast (never, until ``ferrotorch.cuda`` says so)."""
    try:
        from .. import cuda
    except ImportError:
        return False
    return cuda.is_available()


def autocast_decorator(autocast_instance, func):
    """``func`` run inside ``autocast_instance`` on every call."""

    @functools.wraps(func)
    def decorate_autocast(*args, **kwargs):
        with autocast_instance:
            return func(*args, **kwargs)

    return decorate_autocast


class autocast:
    r"""Context manager (or decorator) for a region that runs in mixed precision.

    Inside, ops on autocast's lists cast their floating inputs first: matrix products,
    ``linear`` and convolutions to ``dtype`` (the fast dtype), precision-sensitive ops such as
    losses and decompositions to float32, and joins (``cat``, ``stack``) to the widest input
    type. Casts are recorded by autograd, so gradients reach float32 parameters in float32.
    Regions nest; ``enabled=False`` turns autocast off inside an enabled region.

    Args:
        device_type (str): 'cpu' or 'cuda'.
        dtype (ferrotorch.dtype, optional): the fast dtype; defaults to
            ``get_autocast_dtype(device_type)`` (bfloat16 on the CPU, float16 on CUDA).
        enabled (bool): whether autocast is on in the region. Default: ``True``.
        cache_enabled (bool, optional): whether casts of float32 parameters are reused within
            the region. Default: ``is_autocast_cache_enabled()`` (``True``).
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = _C.get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(self.device):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{self.device}'")
        self._cache_enabled = _C.is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if self.device == "cuda":
                if not _cuda_available():
                    warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
                    enabled = False
            elif self.fast_dtype not in (_C.bfloat16, _C.float16):
                name = self.device.upper()
                warnings.warn(
                    f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                    f"{name} Autocast only supports dtypes of {_C.bfloat16}, {_C.float16} currently.",
                    stacklevel=2,
                )
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = _C.is_autocast_cache_enabled()
        self.prev = _C.is_autocast_enabled(self.device)
        self.prev_fastdtype = _C.get_autocast_dtype(self.device)
        _C.set_autocast_enabled(self.device, self._enabled)
        _C.set_autocast_dtype(self.device, self.fast_dtype)
        _C.autocast_increment_nesting()
        _C.set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        # The weight cache lives as long as the outermost region.
        if _C.autocast_decrement_nesting() == 0:
            _C.clear_autocast_cache()
        _C.set_autocast_enabled(self.device, self.prev)
        _C.set_autocast_dtype(self.device, self.prev_fastdtype)
        _C.set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                f"Did you mean to use autocast as a context manager? For example:\n"
                f"    with torch.autocast(device_type=...):\n"
                f"        output = model(input)"
            )
        return autocast_decorator(self, func)


def _cast(value, device_type, dtype):
    """``value`` with its floating tensors (not float64) on ``device_type`` cast to ``dtype``,
    looking inside lists, tuples, dicts and other iterables (strings excepted)."""
    if isinstance(value, _C.Tensor):
        eligible = value.is_floating_point() and value.device.type == device_type and value.dtype != _C.float64
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes)) or type(value).__name__ == "ndarray":
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        iterable = (_cast(v, device_type, dtype) for v in value)
        return type(value)(iterable) if isinstance(value, (list, tuple)) else iterable
    return value


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for the ``forward`` of an ``autograd.Function``: with ``cast_inputs``, inside
    an autocast region the floating tensor arguments are cast to it and ``forward`` runs with
    autocast off; without, ``forward`` runs under the current state. Either way ``backward``
    (decorated with :func:`custom_bwd`) runs under the state ``forward`` saw."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = _C.get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = _C.is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        args[0]._fwd_used_autocast = False
        if not _C.is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for the ``backward`` of an ``autograd.Function``: runs it under the autocast
    state (enabled flag and dtype) its ``forward`` ran under."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd


def autocast_call(name, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` as PyTorch's op ``name`` runs under autocast: in an autocast region
    of its tensors' device type, its tensor arguments are cast by the op's policy (the core's
    table for that device type) and ``fn`` runs with autocast off, so it computes in one dtype as
    PyTorch's native op does. Outside a region it costs one check."""
    if not _C._autocast_any_active():
        return fn(*args, **kwargs)
    positions = [i for i, a in enumerate(args) if isinstance(a, _C.Tensor)]
    keys = [k for k, v in kwargs.items() if isinstance(v, _C.Tensor)]
    cast = _C._autocast_cast(name, [args[i] for i in positions] + [kwargs[k] for k in keys])
    if cast is None:
        return fn(*args, **kwargs)
    args = list(args)
    for i, t in zip(positions, cast):
        args[i] = t
    kwargs.update(zip(keys, cast[len(positions):]))
    previous = _C._autocast_set_excluded(True)
    try:
        return fn(*args, **kwargs)
    finally:
        _C._autocast_set_excluded(previous)


def autocast_op(name):
    """Decorator that puts a Python composite op on autocast's lists under PyTorch's op
    ``name`` (e.g. ``@autocast_op("mse_loss")``): every call goes through :func:`autocast_call`."""

    def decorate(fn):
        @functools.wraps(fn)
        def autocast_wrapper(*args, **kwargs):
            return autocast_call(name, fn, *args, **kwargs)

        return autocast_wrapper

    return decorate

"""``ferrotorch.finfo`` and ``ferrotorch.iinfo``: the numerical limits of floating and integer
dtypes, with ``torch.finfo``/``torch.iinfo``'s fields, values and reprs."""

from . import _C

__all__ = ["finfo", "iinfo"]


def _dtype_name(dtype):
    """``torch.float32`` -> ``'float32'`` (the ``dtype`` field is a name, as in PyTorch)."""
    return str(dtype).rsplit(".", 1)[-1]


# bits, then the IEEE parameters: mantissa bits stored, smallest and largest exponent.
_FLOAT_FORMATS = {
    _C.float16: (16, 10, -14, 15),
    _C.bfloat16: (16, 7, -126, 127),
    _C.float32: (32, 23, -126, 127),
    _C.float64: (64, 52, -1022, 1023),
}

# resolution is 10 ** -(decimal digits the type holds exactly), PyTorch's (and NumPy's) rule.
_DECIMAL_DIGITS = {_C.float16: 3, _C.bfloat16: 2, _C.float32: 6, _C.float64: 15}

_INT_BITS = {_C.uint8: 8, _C.int8: 8, _C.int16: 16, _C.int32: 32, _C.int64: 64}


def _check_dtype(value, name):
    if not isinstance(value, _C.dtype):
        raise TypeError(f"{name}(): argument 'type' (position 1) must be torch.dtype, not {type(value).__name__}")


class _Info:
    """Shared immutability, equality and repr: the fields are fixed by the dtype."""

    _fields = ()

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.{type(self).__name__}' objects is not writable")

    def _set(self, **fields):
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.dtype == other.dtype

    def __hash__(self):
        return hash((type(self).__name__, self.dtype))

    def __repr__(self):
        body = ", ".join(f"{name}={getattr(self, name):.6g}" for name in self._fields)
        return f"{type(self).__name__}({body}, dtype={self.dtype})"

    __str__ = __repr__


class finfo(_Info):
    """Machine limits of a floating dtype (the default dtype when none is given): ``bits``,
    ``eps`` (gap between 1 and the next value), ``max``, ``min`` (``-max``), ``tiny`` and
    ``smallest_normal`` (smallest positive normal), ``resolution`` and ``dtype`` (its name)."""

    _fields = ("resolution", "min", "max", "eps", "smallest_normal", "tiny")

    def __init__(self, type=None):
        if type is None:
            type = _C.get_default_dtype()
        _check_dtype(type, "finfo")
        if type not in _FLOAT_FORMATS:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle 'torch.finfo'")
        bits, mantissa, min_exponent, max_exponent = _FLOAT_FORMATS[type]
        largest = (2.0 - 2.0 ** -mantissa) * 2.0 ** max_exponent
        smallest_normal = 2.0 ** min_exponent
        self._set(
            bits=bits, eps=2.0 ** -mantissa, max=largest, min=-largest, tiny=smallest_normal,
            smallest_normal=smallest_normal, resolution=10.0 ** -_DECIMAL_DIGITS[type], dtype=_dtype_name(type),
        )


class iinfo(_Info):
    """Limits of an integer dtype: ``bits``, ``max``, ``min`` and ``dtype`` (its name)."""

    _fields = ("min", "max")

    def __init__(self, type):
        _check_dtype(type, "iinfo")
        if type not in _INT_BITS:
            if type == _C.bool:
                raise TypeError("torch.bool is not supported by torch.iinfo")
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        bits = _INT_BITS[type]
        signed = type != _C.uint8
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
        self._set(bits=bits, min=low, max=high, dtype=_dtype_name(type))

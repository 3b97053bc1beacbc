"""``repr`` of tensors, following PyTorch's ``torch/_tensor_str.py`` formatting rules."""

import math

_DEFAULT = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
PRINT_OPTS = dict(_DEFAULT)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Same as ``torch.set_printoptions``."""
    if profile == "default":
        PRINT_OPTS.update(_DEFAULT)
    elif profile == "short":
        PRINT_OPTS.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        PRINT_OPTS.update(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTS[key] = value
    PRINT_OPTS["sci_mode"] = sci_mode


def get_printoptions():
    return dict(PRINT_OPTS)


class _Formatter:
    """Chooses one width and notation for all elements, as PyTorch's ``_Formatter``."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        precision = PRINT_OPTS["precision"]
        if not floating:
            for v in values:
                self.max_width = max(self.max_width, len(str(v)))
            return
        # As PyTorch: only nonzero finite values set the notation and the width.
        finite = [v for v in values if math.isfinite(v) and v != 0]
        if not finite:
            return
        self.int_mode = all(v == math.ceil(v) for v in finite)
        nonzero = [abs(v) for v in finite if v != 0]
        if self.int_mode:
            if nonzero and (max(nonzero) / min(nonzero) > 1000.0 or max(nonzero) > 1.0e8):
                self.sci_mode = True
                for v in finite:
                    self.max_width = max(self.max_width, len(f"{v:.{precision}e}"))
            else:
                for v in finite:
                    self.max_width = max(self.max_width, len(f"{v:.0f}."))
        else:
            if nonzero and (max(nonzero) / min(nonzero) > 1000.0 or max(nonzero) > 1.0e8 or min(nonzero) < 1.0e-4):
                self.sci_mode = True
                for v in finite:
                    self.max_width = max(self.max_width, len(f"{v:.{precision}e}"))
            else:
                for v in finite:
                    self.max_width = max(self.max_width, len(f"{v:.{precision}f}"))
        if PRINT_OPTS["sci_mode"] is not None:
            self.sci_mode = PRINT_OPTS["sci_mode"]

    @staticmethod
    def _nonfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")

    def width(self):
        return self.max_width

    def format(self, v):
        precision = PRINT_OPTS["precision"]
        if not self.floating:
            s = str(v)
        elif not math.isfinite(v):
            s = self._nonfinite(v)
        elif self.sci_mode:
            s = f"{v:{self.max_width}.{precision}e}"
        elif self.int_mode:
            s = f"{v:.0f}."
        else:
            s = f"{v:.{precision}f}"
        return (self.max_width - len(s)) * " " + s


def _summarized_values(data, shape, summarize):
    """Flat list of the values that will be printed (edges only when summarizing)."""
    edge = PRINT_OPTS["edgeitems"]
    if not shape:
        return [data]
    if summarize and shape[0] > 2 * edge:
        rows = list(data[:edge]) + list(data[-edge:])
    else:
        rows = list(data)
    out = []
    for row in rows:
        out.extend(_summarized_values(row, shape[1:], summarize))
    return out


def _fmt_scalar(v, dtype_name):
    if dtype_name == "bool":
        return str(bool(v))
    return str(v)


def _tensor_str_rec(data, shape, indent, formatter, summarize):
    edge = PRINT_OPTS["edgeitems"]
    if not shape:
        return formatter.format(data)
    if len(shape) == 1:
        elem_w = formatter.width() + 2
        per_line = max(math.floor((PRINT_OPTS["linewidth"] - indent) / elem_w), 1)
        if summarize and shape[0] > 2 * edge:
            items = [formatter.format(v) for v in data[:edge]] + [" ..."] + [formatter.format(v) for v in data[-edge:]]
        else:
            items = [formatter.format(v) for v in data]
        lines = [items[i : i + per_line] for i in range(0, len(items), per_line)]
        return "[" + ("," + "\n" + " " * (indent + 1)).join(", ".join(line) for line in lines) + "]"
    if summarize and shape[0] > 2 * edge:
        slices = [_tensor_str_rec(r, shape[1:], indent + 1, formatter, summarize) for r in data[:edge]]
        slices += ["..."]
        slices += [_tensor_str_rec(r, shape[1:], indent + 1, formatter, summarize) for r in data[-edge:]]
    else:
        slices = [_tensor_str_rec(r, shape[1:], indent + 1, formatter, summarize) for r in data]
    sep = "," + "\n" * (len(shape) - 1) + " " * (indent + 1)
    return "[" + sep.join(slices) + "]"


def _default_float_name():
    from . import _C

    return _C.get_default_dtype().__repr__()[len("torch.") :]


def tensor_repr(t):
    """``repr(t)`` exactly as PyTorch prints it."""
    name = repr(t.dtype)[len("torch.") :]
    grad_fn, requires_grad = t.grad_fn, t.requires_grad
    t = t.detach()  # printing reads values; it must not add to the graph
    floating = t.dtype.is_floating_point
    shape = tuple(t.shape)
    numel = t.numel()
    summarize = numel > PRINT_OPTS["threshold"]
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if numel == 0 and shape != (0,):
        body = "[]"
        suffixes.append(f"size={tuple(shape)}")
    elif numel == 0:
        body = "[]"
    else:
        src = t.double() if t.dtype.itemsize == 2 and floating else t
        data = src.tolist()
        if name == "bool":
            values = _summarized_values(data, shape, summarize)
            formatter = _BoolFormatter(values)
        else:
            formatter = _Formatter(_summarized_values(data, shape, summarize), floating)
        body = _tensor_str_rec(data, list(shape), indent, formatter, summarize)
    default_float = name == _default_float_name()
    if not (name == "int64" or name == "bool" or default_float):
        suffixes.append(f"dtype=torch.{name}")
    if t.device.type != "cpu":
        suffixes.insert(0, f"device='{t.device}'")
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name()}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


def _add_suffixes(text, suffixes, indent):
    """Appends `, dtype=...` and friends, moving one to a new line when it would pass the
    line width (PyTorch's `_add_suffixes`)."""
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


class _BoolFormatter:
    def __init__(self, values):
        self.max_width = max((len(str(bool(v))) for v in values), default=1)

    def width(self):
        return self.max_width

    def format(self, v):
        s = str(bool(v))
        return (self.max_width - len(s)) * " " + s


def tensor_format(t, spec):
    """``format(t, spec)``: 0-d tensors format as their Python number."""
    if t.dim() == 0:
        return t.item().__format__(spec)
    return object.__format__(t, spec)

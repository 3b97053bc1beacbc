"""The restricted unpickler of ``load(weights_only=True)``, after PyTorch's ``_weights_only_unpickler``.

It interprets the pickle opcodes itself instead of trusting :mod:`pickle`: GLOBAL only resolves
names on an allowlist (PyTorch's defaults plus ``add_safe_globals``), REDUCE and NEWOBJ only call
allowlisted objects, BUILD only sets state on allowlisted types, and opcodes that could import or
call anything else (INST, OBJ, EXT*, NEWOBJ_EX, text PERSID, ...) are refused. So a crafted file can
fail to load but never runs code.
"""

import _compat_pickle
import functools
import pickle
import struct
from collections import Counter, OrderedDict
from pickle import UnpicklingError

import ferrotorch
from .torch_globals import safe_builtins, safe_torch_globals

_user_globals = {}  # "module.name" -> object, from add_safe_globals


def global_name(obj):
    """``module.qualname`` of a class or function, the key GLOBAL instructions are matched on."""
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals):
    """Allowlists globals for ``weights_only`` loads: each entry is an object, or a pair
    ``(object, "module.name")`` giving the name the checkpoint uses for it."""
    for entry in safe_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2 or not isinstance(entry[1], str):
                raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), but got {entry}")
            obj, name = entry
        else:
            obj, name = entry, global_name(entry)
        _user_globals[name] = obj


def get_safe_globals():
    """The globals added with :func:`add_safe_globals`, as a list (pairs for renamed ones)."""
    return [obj if _global_name_or_none(obj) == name else (obj, name) for name, obj in _user_globals.items()]


def _global_name_or_none(obj):
    try:
        return global_name(obj)
    except AttributeError:
        return None


def clear_safe_globals():
    """Forgets every global added with :func:`add_safe_globals`."""
    _user_globals.clear()


class safe_globals:
    """Context manager allowlisting ``safe_globals`` (as :func:`add_safe_globals`) inside its block."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._saved = dict(_user_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _user_globals.clear()
        _user_globals.update(self._saved)


@functools.cache
def _default_globals():
    defaults = dict(safe_torch_globals())
    defaults.update(safe_builtins())
    return defaults


def _lookup_global(module, name):
    full = f"{module}.{name}"
    defaults = _default_globals()
    if full in defaults:
        return defaults[full]
    if full in _user_globals:
        return _user_globals[full]
    if full.startswith("torch.") and "ferro" + full in _user_globals:
        return _user_globals["ferro" + full]
    shown = full[len("builtins."):] if full.startswith("builtins.") else full
    raise UnpicklingError(
        f"Unsupported global: GLOBAL {shown} was not an allowed global by default. "
        f"Please use `ferrotorch.serialization.add_safe_globals([{shown}])` or the "
        f"`ferrotorch.serialization.safe_globals([{shown}])` context manager to allowlist this global "
        "if you trust this class/function."
    )


def _is_allowed(obj):
    if any(obj is v for v in _user_globals.values()):
        return True
    return any(obj is v for v in _default_globals().values())


class WeightsOnlyUnpickler:
    """Reads one pickle from ``file`` (with ``read``/``readline``); storages come from ``persistent_load``."""

    def __init__(self, file, persistent_load, encoding="utf-8"):
        self._read, self._readline = file.read, file.readline
        self.persistent_load = persistent_load
        self.encoding = encoding

    def read(self, n):
        data = self._read(n)
        if len(data) != n:
            raise UnpicklingError("pickle data was truncated")
        return data

    def pop_mark(self):
        items, self.stack = self.stack, self.metastack.pop()
        return items

    def load(self):
        """Returns the unpickled object."""
        self.stack, self.metastack, self.memo = [], [], {}
        while True:
            op = self.read(1)
            handler = _DISPATCH.get(op)
            if handler is None:
                raise UnpicklingError(f"Unsupported operand {op[0]}")
            if handler is _stop:
                if len(self.stack) != 1 or self.metastack:
                    raise UnpicklingError("pickle data is corrupt: unbalanced stack at STOP")
                return self.stack.pop()
            try:
                handler(self)
            except (IndexError, struct.error) as e:
                # A crafted stream popping an empty stack or mark: corrupt, not a crash.
                raise UnpicklingError(f"pickle data is corrupt ({e})") from None

    def _readstring(self, fmt):
        (n,) = struct.unpack(fmt, self.read(struct.calcsize(fmt)))
        return self.read(n)


def _stop(u):
    pass


def _global(u):
    module = u._readline()[:-1].decode("utf-8")
    name = u._readline()[:-1].decode("utf-8")
    # Protocol 2 writes Python 2 names (``__builtin__.set``), as pickle's own loader undoes.
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    u.stack.append(_lookup_global(module, name))


def _stack_global(u):
    name, module = u.stack.pop(), u.stack.pop()
    if type(name) is not str or type(module) is not str:
        raise UnpicklingError("STACK_GLOBAL requires str")
    u.stack.append(_lookup_global(module, name))


def _reduce(u):
    args = u.stack.pop()
    func = u.stack[-1]
    if not _is_allowed(func) or type(args) is not tuple:
        raise UnpicklingError(f"Trying to call reduce for unrecognized function {func!r}")
    u.stack[-1] = func(*args)


def _newobj(u):
    args, cls = u.stack.pop(), u.stack.pop()
    if type(args) is not tuple:
        raise UnpicklingError("NEWOBJ expected an argument tuple")
    if cls is ferrotorch.nn.Parameter:
        u.stack.append(ferrotorch.nn.Parameter(*args))
    elif isinstance(cls, type) and _is_allowed(cls):
        u.stack.append(cls.__new__(cls, *args))
    else:
        raise UnpicklingError(f"Can only create new object for nn.Parameter or classes allowlisted via `add_safe_globals` but got {cls!r}")


def _build(u):
    state = u.stack.pop()
    inst = u.stack[-1]
    if type(inst) is OrderedDict:
        if not isinstance(state, dict):
            raise UnpicklingError("BUILD of an OrderedDict expects a dict state")
        inst.__dict__.update(state)
    elif any(type(inst) is v for v in _user_globals.values()):
        if hasattr(inst, "__setstate__"):
            inst.__setstate__(state)
        else:
            slotstate = None
            if isinstance(state, tuple) and len(state) == 2:
                state, slotstate = state
            if state:
                inst.__dict__.update(state)
            for k, v in (slotstate or {}).items():
                setattr(inst, k, v)
    else:
        raise UnpicklingError(
            f"Can only build Tensor, Parameter, OrderedDict or types allowlisted via `add_safe_globals`, but got {type(inst)}"
        )


def _persid(u):
    pid = u.stack.pop()
    if type(pid) is not tuple or not pid or pid[0] not in ("storage", b"storage"):
        raise UnpicklingError(f"Only persistent_load of storage is allowed, but got {pid!r}")
    u.stack.append(u.persistent_load(pid))


def _append(u):
    item = u.stack.pop()
    if type(u.stack[-1]) is not list:
        raise UnpicklingError(f"Can only append to lists, but got {type(u.stack[-1])}")
    u.stack[-1].append(item)


def _appends(u):
    items = u.pop_mark()
    if type(u.stack[-1]) is not list:
        raise UnpicklingError(f"Can only extend lists, but got {type(u.stack[-1])}")
    u.stack[-1].extend(items)


def _check_mapping(u, opcode):
    if type(u.stack[-1]) not in (dict, OrderedDict, Counter):
        raise UnpicklingError(f"Can only {opcode} for dict, collections.OrderedDict, collections.Counter, but got {type(u.stack[-1])}")


def _setitem(u):
    v, k = u.stack.pop(), u.stack.pop()
    _check_mapping(u, "SETITEM")
    u.stack[-1][k] = v


def _setitems(u):
    items = u.pop_mark()
    _check_mapping(u, "SETITEMS")
    for i in range(0, len(items) - 1, 2):
        u.stack[-1][items[i]] = items[i + 1]


def _additems(u):
    items = u.pop_mark()
    if type(u.stack[-1]) is not set:
        raise UnpicklingError(f"Can only add items to sets, but got {type(u.stack[-1])}")
    u.stack[-1].update(items)


def _mark(u):
    u.metastack.append(u.stack)
    u.stack = []


def _put(u, index):
    if not u.stack:
        raise UnpicklingError("memo put with an empty stack")
    u.memo[index] = u.stack[-1]


def _get(u, index):
    if index not in u.memo:
        raise UnpicklingError(f"Memo value not found at index {index}")
    u.stack.append(u.memo[index])


def _tuple_n(n):
    def handler(u):
        if len(u.stack) < n:
            raise UnpicklingError("pickle stack underflow")
        items = tuple(u.stack[len(u.stack) - n:])
        del u.stack[len(u.stack) - n:]
        u.stack.append(items)

    return handler


def _collect(make):
    """Handler building ``make(items since the last MARK)`` (pop the mark first: it switches stacks)."""

    def handler(u):
        items = u.pop_mark()
        u.stack.append(make(items))

    return handler


def _push(value_fn):
    return lambda u: u.stack.append(value_fn(u))


def _short_binstring(u):
    data = u._readstring("<B")
    u.stack.append(data.decode(u.encoding) if u.encoding != "bytes" else data)


_DISPATCH = {
    pickle.PROTO: lambda u: u.read(1),
    pickle.FRAME: lambda u: u.read(8),
    pickle.STOP: _stop,
    pickle.MARK: _mark,
    pickle.POP: lambda u: u.stack.pop() if u.stack else u.pop_mark(),
    pickle.POP_MARK: lambda u: u.pop_mark(),
    pickle.DUP: lambda u: u.stack.append(u.stack[-1]),
    pickle.GLOBAL: _global,
    pickle.STACK_GLOBAL: _stack_global,
    pickle.REDUCE: _reduce,
    pickle.NEWOBJ: _newobj,
    pickle.BUILD: _build,
    pickle.BINPERSID: _persid,
    pickle.NONE: _push(lambda u: None),
    pickle.NEWTRUE: _push(lambda u: True),
    pickle.NEWFALSE: _push(lambda u: False),
    pickle.BININT: _push(lambda u: struct.unpack("<i", u.read(4))[0]),
    pickle.BININT1: _push(lambda u: u.read(1)[0]),
    pickle.BININT2: _push(lambda u: struct.unpack("<H", u.read(2))[0]),
    pickle.LONG1: _push(lambda u: pickle.decode_long(u._readstring("<B"))),
    pickle.LONG4: _push(lambda u: pickle.decode_long(u._readstring("<i"))),
    pickle.BINFLOAT: _push(lambda u: struct.unpack(">d", u.read(8))[0]),
    pickle.BINUNICODE: _push(lambda u: str(u._readstring("<I"), "utf-8", "surrogatepass")),
    pickle.SHORT_BINUNICODE: _push(lambda u: str(u._readstring("<B"), "utf-8", "surrogatepass")),
    pickle.BINUNICODE8: _push(lambda u: str(u._readstring("<Q"), "utf-8", "surrogatepass")),
    pickle.SHORT_BINSTRING: _short_binstring,
    pickle.BINBYTES: _push(lambda u: u._readstring("<I")),
    pickle.SHORT_BINBYTES: _push(lambda u: u._readstring("<B")),
    pickle.BINBYTES8: _push(lambda u: u._readstring("<Q")),
    pickle.BYTEARRAY8: _push(lambda u: bytearray(u._readstring("<Q"))),
    pickle.EMPTY_TUPLE: _push(lambda u: ()),
    pickle.TUPLE: _collect(tuple),
    pickle.TUPLE1: _tuple_n(1),
    pickle.TUPLE2: _tuple_n(2),
    pickle.TUPLE3: _tuple_n(3),
    pickle.EMPTY_LIST: _push(lambda u: []),
    pickle.LIST: _collect(list),
    pickle.APPEND: _append,
    pickle.APPENDS: _appends,
    pickle.EMPTY_DICT: _push(lambda u: {}),
    pickle.DICT: _collect(lambda items: {items[i]: items[i + 1] for i in range(0, len(items) - 1, 2)}),
    pickle.SETITEM: _setitem,
    pickle.SETITEMS: _setitems,
    pickle.EMPTY_SET: _push(lambda u: set()),
    pickle.ADDITEMS: _additems,
    pickle.FROZENSET: _collect(frozenset),
    pickle.BINPUT: lambda u: _put(u, u.read(1)[0]),
    pickle.LONG_BINPUT: lambda u: _put(u, struct.unpack("<I", u.read(4))[0]),
    pickle.MEMOIZE: lambda u: _put(u, len(u.memo)),
    pickle.BINGET: lambda u: _get(u, u.read(1)[0]),
    pickle.LONG_BINGET: lambda u: _get(u, struct.unpack("<I", u.read(4))[0]),
}

"""Flatten nested tuples, lists and dicts (namedtuples and OrderedDicts included) into their leaves
and rebuild them: the samples the v2 transforms take (``(image, {"boxes": ..., "labels": ...})``)."""

from collections import OrderedDict, defaultdict, deque

# The container types that are nodes (as in torch.utils._pytree); anything else, subclasses included, is a leaf.
_SEQUENCES = (list, tuple, deque)
_MAPPINGS = (dict, OrderedDict, defaultdict)


def _is_namedtuple_type(cls) -> bool:
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def tree_flatten(tree):
    """(leaves in order, spec) for `tree`; `tree_unflatten(leaves, spec)` rebuilds it."""
    leaves = []

    def flatten(node):
        if type(node) in _SEQUENCES or _is_namedtuple_type(type(node)):
            children = [flatten(child) for child in node]
            return (type(node), None, children)
        if type(node) in _MAPPINGS:
            keys = list(node.keys())
            extra = (keys, node.default_factory) if isinstance(node, defaultdict) else keys
            return (type(node), extra, [flatten(node[key]) for key in keys])
        leaves.append(node)
        return None  # a leaf

    return leaves, flatten(tree)


def tree_unflatten(leaves, spec):
    """Rebuild the structure described by `spec` with `leaves` in place of the original leaves."""
    remaining = iter(leaves)

    def build(node):
        if node is None:
            return next(remaining)
        cls, extra, children = node
        values = [build(child) for child in children]
        if issubclass(cls, dict):
            if issubclass(cls, defaultdict):
                keys, factory = extra
                return cls(factory, zip(keys, values))
            return cls(zip(extra, values))
        if _is_namedtuple_type(cls):
            return cls(*values)
        return cls(values)

    return build(spec)

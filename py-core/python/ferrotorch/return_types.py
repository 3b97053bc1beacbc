"""Named result tuples, as ``torch.return_types``: ``values, indices = t.sort()`` and
``t.sort().values`` both work.

Each class is a tuple subclass built by ``_make``. Rust code constructs them through
``ferrotorch._C``'s ``return_type`` helper (``cls((a, b))``), so every op family shares one
definition. Add a class here for each new PyTorch result type.
"""

import operator as _operator

__all__ = []


def _make(name, fields):
    """A tuple subclass ``name`` whose items are also readable as the attributes ``fields``."""

    def __new__(cls, sequence):
        items = tuple(sequence)
        if len(items) != len(fields):
            raise TypeError(
                f"torch.return_types.{name}() takes a {len(fields)}-sequence ({len(items)}-sequence given)"
            )
        return tuple.__new__(cls, items)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    def __reduce__(self):
        return (type(self), (tuple(self),))

    namespace = {
        "__slots__": (),
        "__new__": __new__,
        "__repr__": __repr__,
        "__reduce__": __reduce__,
        "__module__": __name__,
        "_fields": tuple(fields),
        "n_fields": len(fields),
        "n_sequence_fields": len(fields),
        "n_unnamed_fields": 0,
    }
    for i, f in enumerate(fields):
        namespace[f] = property(_operator.itemgetter(i), doc=f"Alias for item {i}.")
    cls = type(name, (tuple,), namespace)
    globals()[name] = cls
    __all__.append(name)
    return cls


# Results with values and the indices they came from.
for _name in ["sort", "topk", "kthvalue", "max", "min", "mode", "median", "nanmedian", "cummax", "cummin"]:
    _make(_name, ["values", "indices"])

_make("aminmax", ["min", "max"])
_make("histogram", ["hist", "bin_edges"])
_make("frexp", ["mantissa", "exponent"])
_make("slogdet", ["sign", "logabsdet"])
_make("linalg_slogdet", ["sign", "logabsdet"])
_make("qr", ["Q", "R"])
_make("linalg_qr", ["Q", "R"])
_make("svd", ["U", "S", "V"])
_make("linalg_svd", ["U", "S", "Vh"])
_make("linalg_eigh", ["eigenvalues", "eigenvectors"])
_make("linalg_eig", ["eigenvalues", "eigenvectors"])
_make("lu_unpack", ["P", "L", "U"])
_make("linalg_lu", ["P", "L", "U"])
_make("linalg_lu_factor", ["LU", "pivots"])
_make("linalg_inv_ex", ["inverse", "info"])
_make("linalg_cholesky_ex", ["L", "info"])
_make("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])

"""Hook handles, as ``torch.utils.hooks``."""

import itertools
import weakref

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Returned by every ``register_*_hook``: ``remove()`` (or leaving a ``with`` block) unregisters
    the hook from each dict it was added to.

    Args:
        hooks_dict: the dict of hooks, keyed by handle id, the hook was added to.
        extra_dict: another dict (or a list of them) keyed by the same id to clean up too.
    """

    _next_id = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._next_id)
        extras = extra_dict if isinstance(extra_dict, (list, tuple)) else ([extra_dict] if extra_dict is not None else [])
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras)

    def remove(self):
        """Unregisters the hook (a no-op once removed or once its module is gone)."""
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            hooks = ref()
            if hooks is not None and self.id in hooks:
                del hooks[self.id]

    # Weak references do not pickle: a pickled handle holds its dicts strongly, as PyTorch's does.
    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        hooks_dict, self.id, extras = state
        self.hooks_dict_ref = weakref.ref({} if hooks_dict is None else hooks_dict)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras if d is not None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

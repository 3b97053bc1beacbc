"""Lazy modules: layers whose input size is inferred from the first input they see."""

from ..parameter import is_lazy

__all__ = []


class LazyModuleMixin:
    """Mixed in before a layer class, e.g. ``class LazyLinear(LazyModuleMixin, Linear)``.

    The layer's ``__init__`` creates ``UninitializedParameter``s; the first call (or a
    ``load_state_dict``) materializes them through ``initialize_parameters(*args, **kwargs)``,
    after which the module becomes ``cls_to_become`` (e.g. a plain ``Linear``) and its hooks go.
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        # A checkpoint fixes the shapes: materialize to them so the normal copy succeeds.
        for name, param in list(self._parameters.items()) + list(self._buffers.items()):
            key = prefix + name
            if key in state_dict and is_lazy(param):
                param.materialize(state_dict[key].shape)

    def initialize_parameters(self, *args, **kwargs):
        """Materializes and initializes the parameters from the first input (per layer)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self):
        """Whether any parameter or buffer still waits for its shape."""
        return any(is_lazy(p) for p in list(self._parameters.values()) + list(self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs):
        module.initialize_parameters(*args, **kwargs)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        del module._initialize_hook
        del module._load_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

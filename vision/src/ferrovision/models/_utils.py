"""Helpers shared by the model builders, as `torchvision.models._utils`."""

from collections import OrderedDict

from ferrotorch import nn

__all__ = ["IntermediateLayerGetter", "_make_divisible", "_ovewrite_named_param", "_ovewrite_value_param"]


class IntermediateLayerGetter(nn.ModuleDict):
    """Run a model's direct children in registration order and return the outputs of some of them.

    Args:
        model (nn.Module): the model; its children must be called in the order they were registered.
        return_layers (dict[str, str]): child name -> key of its output in the returned OrderedDict.
    """

    _version = 2

    def __init__(self, model, return_layers):
        if not set(return_layers).issubset([name for name, _ in model.named_children()]):
            raise ValueError("return_layers are not present in model")
        orig_return_layers = return_layers
        return_layers = {str(k): str(v) for k, v in return_layers.items()}
        layers = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            return_layers.pop(name, None)
            if not return_layers:
                break
        super().__init__(layers)
        self.return_layers = orig_return_layers

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


def _make_divisible(v, divisor, min_value=None):
    """Round a channel count to a multiple of ``divisor`` (never below ``min_value`` nor under 90% of ``v``),
    as TensorFlow's MobileNet does."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _ovewrite_named_param(kwargs, param, new_value):
    """Set ``kwargs[param]`` to what pretrained weights need, refusing a conflicting user value."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _ovewrite_value_param(param, actual, expected):
    """Like :func:`_ovewrite_named_param` for a plain argument: ``actual`` must be ``None`` or ``expected``."""
    if actual is not None and actual != expected:
        raise ValueError(f"The parameter '{param}' expected value {expected} but got {actual} instead.")
    return expected

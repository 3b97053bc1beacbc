"""`Transform`: the base of the v2 transforms, which transform whole samples (arbitrary nesting of
tuples, lists and dicts) by dispatching each leaf to the kernel for its type."""

import enum

from PIL import Image as PILImage

import ferrotorch
from ferrotorch.nn import Module

from ... import tv_tensors
from ._pytree import tree_flatten, tree_unflatten
from ._utils import check_type, has_any, is_pure_tensor
from .functional._utils import _get_kernel


class Transform(Module):
    """Base class of the v2 transforms.

    ``forward(*inputs)`` flattens the sample, draws the parameters once (`make_params`) from the inputs
    that need transforming, and calls `transform` on each of them. Which inputs are transformed:
    instances of ``_transformed_types``, except that pure tensors count as images only when the sample
    has no `tv_tensors.Image`, `Video` or PIL image, and then only the first pure tensor is transformed
    (torchvision's heuristic: in ``(img_tensor, labels_tensor)`` the labels pass through).
    Subclasses override `make_params`, `transform` and optionally `check_inputs`.
    """

    _transformed_types = (ferrotorch.Tensor, PILImage.Image)

    def __init__(self) -> None:
        super().__init__()

    def check_inputs(self, flat_inputs: list) -> None:
        """Raise if the sample cannot be transformed (e.g. PIL images for Normalize)."""

    def make_params(self, flat_inputs: list) -> dict:
        """The random (or input-dependent) parameters shared by all inputs of one call."""
        return dict()

    def _call_kernel(self, functional, inpt, *args, **kwargs):
        kernel = _get_kernel(functional, type(inpt), allow_passthrough=True)
        return kernel(inpt, *args, **kwargs)

    def transform(self, inpt, params: dict):
        """Transform one input with the drawn `params`."""
        raise NotImplementedError

    def forward(self, *inputs):
        """Transform a sample (one argument, or several taken as a tuple); returns the same structure."""
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        self.check_inputs(flat_inputs)
        return tree_unflatten(self._transform_flat(flat_inputs), spec)

    def _transform_flat(self, flat_inputs: list) -> list:
        needs_transform_list = self._needs_transform_list(flat_inputs)
        params = self.make_params([inpt for inpt, needs in zip(flat_inputs, needs_transform_list) if needs])
        return [
            self.transform(inpt, params) if needs else inpt for inpt, needs in zip(flat_inputs, needs_transform_list)
        ]

    def _needs_transform_list(self, flat_inputs: list) -> list:
        needs_transform_list = []
        transform_pure_tensor = not has_any(flat_inputs, tv_tensors.Image, tv_tensors.Video, PILImage.Image)
        for inpt in flat_inputs:
            needs_transform = True
            if not check_type(inpt, self._transformed_types):
                needs_transform = False
            elif is_pure_tensor(inpt):
                if transform_pure_tensor:
                    transform_pure_tensor = False
                else:
                    needs_transform = False
            needs_transform_list.append(needs_transform)
        return needs_transform_list

    def extra_repr(self) -> str:
        extra = []
        for name, value in self.__dict__.items():
            if name.startswith("_") or name == "training":
                continue
            if not isinstance(value, (bool, int, float, str, tuple, list, enum.Enum)):
                continue
            extra.append(f"{name}={value}")
        return ", ".join(extra)


class _RandomApplyTransform(Transform):
    """A transform applied with probability `p` (one ``rand(1)`` draw per call, as torchvision)."""

    def __init__(self, p: float = 0.5) -> None:
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        super().__init__()
        self.p = p

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(inputs)
        self.check_inputs(flat_inputs)
        if ferrotorch.rand(1).item() >= self.p:
            return inputs
        return tree_unflatten(self._transform_flat(flat_inputs), spec)

"""`KeyPoints`: points ``[..., 2]`` (x, y) on a canvas."""

from ._bounding_boxes import _flat_tensors
from ._tv_tensor import TVTensor, _as_subclass


class KeyPoints(TVTensor):
    """Keypoints of shape ``[..., 2]`` holding (x, y) coordinates; a 1-D input becomes one point.

    Args:
        data: a tensor or anything `ferrotorch.as_tensor` accepts.
        canvas_size (tuple of two ints): (height, width) of the image the points belong to.
        dtype, device, requires_grad: as for `Image`.
    """

    @classmethod
    def _wrap(cls, tensor, *, canvas_size, check_dims=True):
        if check_dims:
            if tensor.ndim == 1:
                tensor = tensor.unsqueeze(0)
            elif tensor.shape[-1] != 2:
                raise ValueError(f"Expected a tensor of shape (..., 2), not {tensor.shape}")
        points = _as_subclass(tensor, cls)
        points.canvas_size = canvas_size
        return points

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        """`tensor` as KeyPoints with `like`'s canvas_size unless overridden."""
        return cls._wrap(tensor, canvas_size=kwargs.get("canvas_size", like.canvas_size))

    def __new__(cls, data, *, canvas_size, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        return cls._wrap(tensor, canvas_size=canvas_size)

    @classmethod
    def _wrap_output(cls, output, args=(), kwargs=None):
        first = next(x for x in _flat_tensors((args, kwargs or {})) if isinstance(x, KeyPoints))
        if isinstance(output, KeyPoints):
            return output
        if isinstance(output, (tuple, list)):
            return type(output)(
                KeyPoints._wrap(part, canvas_size=first.canvas_size, check_dims=False) for part in output
            )
        return KeyPoints._wrap(output, canvas_size=first.canvas_size, check_dims=False)

    def __repr__(self) -> str:
        return self._make_repr(canvas_size=self.canvas_size)

    __str__ = __repr__

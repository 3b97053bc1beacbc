"""`Image`, `Video` and `Mask`: TVTensors without metadata."""

from PIL import Image as PILImage

from ._tv_tensor import TVTensor, _as_subclass


def _from_pil(data):
    if isinstance(data, PILImage.Image):
        from ..transforms.v2 import functional as F

        return F.pil_to_tensor(data)
    return data


class Image(TVTensor):
    """A tensor image of shape ``[..., C, H, W]`` (a 2-D input gets a leading channel dimension).

    Args:
        data: a tensor, anything `ferrotorch.as_tensor` accepts, or a PIL image.
        dtype, device, requires_grad: as for `ferrotorch.as_tensor` / ``requires_grad_`` (by default taken
            from ``data`` when it is a tensor).
    """

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(_from_pil(data), dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 2:
            raise ValueError(f"Tensor must be 2D or higher, got {tensor.ndim}D tensor.")
        if tensor.ndim == 2:
            tensor = tensor.unsqueeze(0)
        return _as_subclass(tensor, cls)

    def __repr__(self) -> str:
        return self._make_repr()

    __str__ = __repr__


class Video(TVTensor):
    """A video of shape ``[..., T, C, H, W]``; same arguments as `Image`."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 4:
            raise ValueError(f"Tensor must be 4D or higher, got {tensor.ndim}D tensor.")
        return _as_subclass(tensor, cls)


class Mask(TVTensor):
    """A segmentation or detection mask of shape ``[..., H, W]``; same arguments as `Image`."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(_from_pil(data), dtype=dtype, device=device, requires_grad=requires_grad)
        return _as_subclass(tensor, cls)

"""`BoundingBoxes` (a TVTensor with a format and the canvas size) and `BoundingBoxFormat`."""

from enum import Enum

from ferrotorch import Tensor

from ._tv_tensor import TVTensor, _as_subclass


class BoundingBoxFormat(Enum):
    """Coordinate format of a bounding box.

    ``XYXY``: top-left corner (x1, y1) and bottom-right corner (x2, y2); ``XYWH``: top-left corner, width
    and height; ``CXCYWH``: centre, width and height. Rotated boxes: ``XYWHR``: first corner, width,
    height and the angle r in degrees (counter-clockwise on screen; the width runs along (cos r, -sin r));
    ``CXCYWHR``: centre, width, height and angle; ``XYXYXYXY``: the four corners in order.
    """

    XYXY = "XYXY"
    XYWH = "XYWH"
    CXCYWH = "CXCYWH"
    XYWHR = "XYWHR"
    CXCYWHR = "CXCYWHR"
    XYXYXYXY = "XYXYXYXY"


def is_rotated_bounding_format(format) -> bool:
    """Whether `format` (a BoundingBoxFormat or its name) is one of the rotated formats."""
    if isinstance(format, BoundingBoxFormat):
        return format in (BoundingBoxFormat.XYWHR, BoundingBoxFormat.CXCYWHR, BoundingBoxFormat.XYXYXYXY)
    if isinstance(format, str):
        return format in ("XYWHR", "CXCYWHR", "XYXYXYXY")
    raise ValueError(f"format should be str or BoundingBoxFormat, got {type(format)}")


def _flat_tensors(obj):
    """The tensors inside nested tuples/lists/dicts, in order (for finding the boxes among arguments)."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _flat_tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _flat_tensors(item)


class BoundingBoxes(TVTensor):
    """Bounding boxes of shape ``[N, 4]`` (a 1-D input becomes one box).

    Args:
        data: a tensor or anything `ferrotorch.as_tensor` accepts.
        format (BoundingBoxFormat or str): the coordinate format.
        canvas_size (tuple of two ints): (height, width) of the image the boxes belong to.
        clamping_mode: "soft" (default), "hard" or None; after geometric transforms, unrotated boxes are
            clamped to the canvas in both modes; a rotated box keeps its angle and becomes the smallest
            box around its visible part ("soft") or the largest box inside both it and the canvas
            ("hard"); None leaves boxes as they are.
        dtype, device, requires_grad: as for `Image`.
    """

    @classmethod
    def _wrap(cls, tensor, *, format, canvas_size, clamping_mode="soft", check_dims=True):
        if check_dims:
            if tensor.ndim == 1:
                tensor = tensor.unsqueeze(0)
            elif tensor.ndim != 2:
                raise ValueError(f"Expected a 1D or 2D tensor, got {tensor.ndim}D")
        if clamping_mode is not None and clamping_mode not in ("hard", "soft"):
            raise ValueError(f"clamping_mode must be None, hard or soft, got {clamping_mode}.")
        if isinstance(format, str):
            format = BoundingBoxFormat[format.upper()]
        boxes = _as_subclass(tensor, cls)
        boxes.format = format
        boxes.canvas_size = canvas_size
        boxes.clamping_mode = clamping_mode
        return boxes

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        """`tensor` as BoundingBoxes with `like`'s format, canvas_size and clamping_mode unless overridden."""
        return cls._wrap(
            tensor,
            format=kwargs.get("format", like.format),
            canvas_size=kwargs.get("canvas_size", like.canvas_size),
            clamping_mode=kwargs.get("clamping_mode", like.clamping_mode),
        )

    def __new__(cls, data, *, format, canvas_size, clamping_mode="soft", dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if not tensor.is_floating_point() and is_rotated_bounding_format(format):
            raise ValueError(f"Rotated bounding boxes should be floating point tensors, got {tensor.dtype}.")
        return cls._wrap(tensor, format=format, canvas_size=canvas_size, clamping_mode=clamping_mode)

    @classmethod
    def _wrap_output(cls, output, args=(), kwargs=None):
        # The metadata comes from the first BoundingBoxes among the arguments, as in torchvision.
        first = next(x for x in _flat_tensors((args, kwargs or {})) if isinstance(x, BoundingBoxes))
        meta = dict(format=first.format, canvas_size=first.canvas_size, clamping_mode=first.clamping_mode)
        if isinstance(output, Tensor) and not isinstance(output, BoundingBoxes):
            return BoundingBoxes._wrap(output, **meta, check_dims=False)
        if isinstance(output, (tuple, list)):
            return type(output)(BoundingBoxes._wrap(part, **meta, check_dims=False) for part in output)
        return output

    def __repr__(self) -> str:
        return self._make_repr(format=self.format, canvas_size=self.canvas_size, clamping_mode=self.clamping_mode)

    __str__ = __repr__

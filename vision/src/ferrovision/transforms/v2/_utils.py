"""Argument checks and sample queries shared by the v2 transform classes."""

import numbers
from collections.abc import Sequence

from PIL import Image as PILImage

from ... import tv_tensors
from ..transforms import _check_sequence_input, _setup_angle, _setup_size  # noqa: F401  (v1's checks)
from .functional import get_dimensions, get_size, is_pure_tensor


def _setup_number_or_seq(arg, name: str) -> list[float]:
    if not isinstance(arg, (int, float, Sequence)):
        raise TypeError(f"{name} should be a number or a sequence of numbers. Got {type(arg)}")
    if isinstance(arg, Sequence) and len(arg) not in (1, 2):
        raise ValueError(f"If {name} is a sequence its length should be 1 or 2. Got {len(arg)}")
    if isinstance(arg, Sequence):
        for element in arg:
            if not isinstance(element, (int, float)):
                raise ValueError(f"{name} should be a sequence of numbers. Got {type(element)}")
    if isinstance(arg, (int, float)):
        return [float(arg), float(arg)]
    return [float(arg[0]), float(arg[0])] if len(arg) == 1 else [float(arg[0]), float(arg[1])]


def _check_fill_arg(fill) -> None:
    if isinstance(fill, dict):
        for value in fill.values():
            _check_fill_arg(value)
    elif fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg, only Numbers, tuples, lists and dicts are allowed.")


def _convert_fill_arg(fill):
    if fill is None or isinstance(fill, (int, float)):
        return fill
    return [float(v) for v in list(fill)]


def _setup_fill_arg(fill) -> dict:
    """The fill per input type: a dict {type or "others": fill}."""
    _check_fill_arg(fill)
    if isinstance(fill, dict):
        for key, value in fill.items():
            fill[key] = _convert_fill_arg(value)
        return fill
    return {"others": _convert_fill_arg(fill)}


def _get_fill(fill_dict, inpt_type):
    if inpt_type in fill_dict:
        return fill_dict[inpt_type]
    return fill_dict.get("others")


def _check_padding_arg(padding) -> None:
    err_msg = f"Padding must be an int or a 1, 2, or 4 element of tuple or list, got {padding}."
    if isinstance(padding, (tuple, list)):
        if len(padding) not in [1, 2, 4] or not all(isinstance(p, int) for p in padding):
            raise ValueError(err_msg)
    elif not isinstance(padding, int):
        raise ValueError(err_msg)


def _check_padding_mode_arg(padding_mode) -> None:
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")


def check_type(obj, types_or_checks) -> bool:
    """Whether `obj` is an instance of one of the types or passes one of the checks (callables)."""
    for type_or_check in types_or_checks:
        if isinstance(obj, type_or_check) if isinstance(type_or_check, type) else type_or_check(obj):
            return True
    return False


def has_any(flat_inputs, *types_or_checks) -> bool:
    """Whether any input matches any of the types or checks."""
    return any(check_type(inpt, types_or_checks) for inpt in flat_inputs)


def has_all(flat_inputs, *types_or_checks) -> bool:
    """Whether every type or check is matched by some input."""
    return all(has_any(flat_inputs, type_or_check) for type_or_check in types_or_checks)


def get_bounding_boxes(flat_inputs) -> tv_tensors.BoundingBoxes:
    """The (single) BoundingBoxes of a sample."""
    try:
        return next(inpt for inpt in flat_inputs if isinstance(inpt, tv_tensors.BoundingBoxes))
    except StopIteration:
        raise ValueError("No bounding boxes were found in the sample") from None


def get_keypoints(flat_inputs) -> tv_tensors.KeyPoints:
    """The (single) KeyPoints of a sample."""
    try:
        return next(inpt for inpt in flat_inputs if isinstance(inpt, tv_tensors.KeyPoints))
    except StopIteration:
        raise ValueError("No keypoints were found in the sample") from None


def _sequence_to_str(seq, separate_last: str = "") -> str:
    if not seq:
        return ""
    if len(seq) == 1:
        return f"'{seq[0]}'"
    head = "'" + "', '".join([str(item) for item in seq[:-1]]) + "'"
    tail = f"{'' if separate_last and len(seq) == 2 else ','} {separate_last}'{seq[-1]}'"
    return head + tail


def query_chw(flat_inputs) -> tuple[int, int, int]:
    """(channels, height, width) shared by the images and videos of a sample."""
    chws = {
        tuple(get_dimensions(inpt))
        for inpt in flat_inputs
        if check_type(inpt, (is_pure_tensor, tv_tensors.Image, PILImage.Image, tv_tensors.Video))
    }
    if not chws:
        raise TypeError("No image or video was found in the sample")
    if len(chws) > 1:
        raise ValueError(f"Found multiple CxHxW dimensions in the sample: {_sequence_to_str(sorted(chws))}")
    return chws.pop()


def query_size(flat_inputs) -> tuple[int, int]:
    """(height, width) shared by the images, videos, masks, boxes and keypoints of a sample."""
    sizes = {
        tuple(get_size(inpt))
        for inpt in flat_inputs
        if check_type(
            inpt,
            (is_pure_tensor, tv_tensors.Image, PILImage.Image, tv_tensors.Video, tv_tensors.Mask,
             tv_tensors.BoundingBoxes, tv_tensors.KeyPoints),
        )  # fmt: skip
    }
    if not sizes:
        raise TypeError("No image, video, mask, bounding box of keypoint was found in the sample")
    if len(sizes) > 1:
        raise ValueError(f"Found multiple HxW dimensions in the sample: {_sequence_to_str(sorted(sizes))}")
    return sizes.pop()

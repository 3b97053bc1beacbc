"""`ferrovision.utils`: make_grid, save_image and drawing helpers, as `torchvision.utils`.

Drawing goes through PIL (`ImageDraw`) exactly as torchvision does, so the pixels match; grids, masks and
flow images are built with ferrotorch tensor ops in the same order as torchvision's, so they match too.
"""

import collections.abc
import math
import warnings
from itertools import repeat
from typing import Any, BinaryIO, Optional, Union

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

import ferrotorch

from .transforms import functional as F

__all__ = [
    "make_grid",
    "save_image",
    "draw_bounding_boxes",
    "draw_segmentation_masks",
    "draw_keypoints",
    "flow_to_image",
]

Color = Union[str, tuple[int, int, int]]


@ferrotorch.no_grad()
def make_grid(
    tensor,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: Optional[tuple[int, int]] = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
):
    """Tile a batch of images into one image.

    Args:
        tensor (Tensor or list): ``(B, C, H, W)`` batch, a list of same-sized ``(C, H, W)`` images, or a single
            ``(C, H, W)``/``(H, W)`` image. One-channel images become three-channel.
        nrow (int, optional): Images per row; the grid is ``(ceil(B / nrow), nrow)``. Default: 8.
        padding (int, optional): Pixels of padding around and between images. Default: 2.
        normalize (bool, optional): Shift and scale to [0, 1] by `value_range` (default: the tensor's min
            and max). Default: False.
        value_range (tuple, optional): ``(min, max)`` used by `normalize`; values are clamped to it.
        scale_each (bool, optional): Normalize each image by its own range. Default: False.
        pad_value (float, optional): Value of the padding pixels. Default: 0.

    Returns:
        Tensor: ``(C, H', W')`` grid (the image itself when the batch holds one image).
    """
    if not ferrotorch.is_tensor(tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not ferrotorch.is_tensor(t):
                    raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
        else:
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if isinstance(tensor, list):
        tensor = ferrotorch.stack(tensor, dim=0)

    if tensor.dim() == 2:  # a single H x W image
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:  # a single image
        if tensor.size(0) == 1:
            tensor = ferrotorch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:  # single-channel images
        tensor = ferrotorch.cat((tensor, tensor, tensor), 1)

    if normalize is True:
        tensor = tensor.clone()  # normalized in place below; the caller's tensor stays as it was
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        if scale_each is True:
            for i in range(tensor.size(0)):
                _normalize_range_(tensor[i], value_range)
        else:
            _normalize_range_(tensor, value_range)

    if tensor.size(0) == 1:
        return tensor.squeeze(0)

    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        cell = grid.narrow(1, y * height + padding, height - padding).narrow(2, x * width + padding, width - padding)
        cell.copy_(tensor[k])
    return grid


def _normalize_range_(img, value_range) -> None:
    """Clamp `img` to its range (given, or its own min and max) and map that range to [0, 1], in place."""
    low, high = value_range if value_range is not None else (float(img.min()), float(img.max()))
    img.clamp_(min=low, max=high)
    img.sub_(low).div_(max(high - low, 1e-5))


@ferrotorch.no_grad()
def save_image(tensor, fp: Union[str, BinaryIO], format: Optional[str] = None, **kwargs) -> None:
    """Save an image (or a batch, tiled by `make_grid` with `kwargs`) with values in [0, 1] to a file.

    Args:
        tensor (Tensor or list): Image or batch of images.
        fp (str, ``pathlib.Path`` or file object): Where to save.
        format (str, optional): Image format; needed when `fp` is a file object, else taken from the name.
        **kwargs: Passed to `make_grid`.
    """
    grid = make_grid(tensor, **kwargs)
    # Round to nearest: x * 255 + 0.5 truncated.
    ndarr = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(ferrotorch.uint8).numpy()
    Image.fromarray(np.ascontiguousarray(ndarr)).save(fp, format=format)


@ferrotorch.no_grad()
def draw_bounding_boxes(
    image,
    boxes,
    labels: Optional[list[str]] = None,
    colors: Optional[Union[list[Color], Color]] = None,
    fill: Optional[bool] = False,
    width: int = 1,
    font: Optional[str] = None,
    font_size: Optional[int] = None,
    label_colors: Optional[Union[list[Color], Color]] = None,
    label_background_colors: Optional[Union[list[Color], Color]] = None,
    fill_labels: bool = False,
):
    """Draw boxes (and their labels) on an image.

    Args:
        image (Tensor): ``(C, H, W)`` with C 1 or 3, uint8 in [0, 255] or float in [0, 1].
        boxes (Tensor): ``(N, 4)`` absolute ``(xmin, ymin, xmax, ymax)`` boxes, or ``(N, 8)`` rotated boxes
            ``(x1, y1, x2, y2, x3, y3, x4, y4)`` (their first edge is drawn dashed).
        labels (list[str], optional): One label per box, written inside its top-left corner.
        colors (color or list of colors, optional): Box colors (PIL names like ``"red"``, ``"#FF00FF"`` or
            RGB tuples); one color for all or one per box. Default: a generated palette.
        fill (bool): Fill the boxes with their color at alpha 100/255. Default: False.
        width (int): Line width of the boxes. Default: 1.
        font (str, optional): A TrueType font file for the labels. Default: PIL's default font.
        font_size (int, optional): Font size in points (only with `font`). Default: 10.
        label_colors (color or list of colors, optional): Text colors. Default: the box colors (black with
            `fill_labels`).
        label_background_colors (color or list of colors, optional): Label box fill colors with
            `fill_labels`. Default: the box colors.
        fill_labels (bool): Draw a filled rectangle behind each label. Default: False.

    Returns:
        Tensor: ``(3, H, W)`` image of the input's dtype with the boxes drawn.
    """
    if not isinstance(image, ferrotorch.Tensor):
        raise TypeError(f"Tensor expected, got {type(image)}")
    elif not (image.dtype == ferrotorch.uint8 or image.is_floating_point()):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    elif image.dim() != 3:
        raise ValueError("Pass individual images, not batches")
    elif image.size(0) not in {1, 3}:
        raise ValueError("Only grayscale and RGB images are supported")
    elif boxes.dim() != 2 or boxes.shape[-1] not in (4, 8):
        raise ValueError(f"boxes must be of shape (N, 4) or (N, 8), got {tuple(boxes.shape)}")
    elif boxes.shape[-1] == 4 and (bool((boxes[:, 0] > boxes[:, 2]).any()) or bool((boxes[:, 1] > boxes[:, 3]).any())):
        raise ValueError(
            "Boxes need to be in (xmin, ymin, xmax, ymax) format. Use torchvision.ops.box_convert to convert them"
        )

    num_boxes = boxes.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn")
        return image
    if labels is None:
        labels = [None] * num_boxes
    elif len(labels) != num_boxes:
        raise ValueError(
            f"Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. Please specify labels for each box."
        )

    colors = _parse_colors(colors, num_objects=num_boxes)
    if label_colors or fill_labels:
        label_colors = _parse_colors(label_colors if label_colors else "black", num_objects=num_boxes)
    else:
        label_colors = list(colors)
    if fill_labels and label_background_colors:
        label_background_colors = _parse_colors(label_background_colors, num_objects=num_boxes)
    else:
        label_background_colors = list(colors)

    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.")
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)

    if image.size(0) == 1:
        image = ferrotorch.tile(image, (3, 1, 1))
    original_dtype = image.dtype
    img_to_draw = F.to_pil_image(F.convert_image_dtype(image, ferrotorch.uint8))
    draw = ImageDraw.Draw(img_to_draw, "RGBA" if fill else None)
    for bbox, color, label, label_color, label_bg_color in zip(
        boxes.to(ferrotorch.int64).tolist(), colors, labels, label_colors, label_background_colors
    ):
        fill_color = color + (100,) if fill else None
        if len(bbox) > 4:
            _oriented_rectangle(draw, bbox, width=width, outline=color, fill=fill_color)
        else:
            draw.rectangle(bbox, width=width, outline=color, fill=fill_color)
        if label is not None:
            box_margin = 1
            margin = width + box_margin
            if fill_labels:
                left, top, right, bottom = draw.textbbox((bbox[0] + margin, bbox[1] + margin), label, font=txt_font)
                draw.rectangle(
                    (left - box_margin, top - box_margin, right + box_margin, bottom + box_margin), fill=label_bg_color
                )
            draw.text((bbox[0] + margin, bbox[1] + margin), label, fill=label_color, font=txt_font)
    return _from_uint8(F.pil_to_tensor(img_to_draw), original_dtype)


def _oriented_rectangle(draw: ImageDraw.ImageDraw, xy, fill=None, outline=None, width=1) -> None:
    """A four-corner polygon whose first edge is dashed (it marks the box's orientation)."""
    _dashed_line(draw, ((xy[0], xy[1]), (xy[2], xy[3])), width=width, fill=outline)
    for i in range(2, len(xy), 2):
        draw.line(((xy[i], xy[i + 1]), (xy[(i + 2) % len(xy)], xy[(i + 3) % len(xy)])), width=width, fill=outline)
    draw.polygon(xy, fill=fill, outline=None, width=0)


def _dashed_line(draw: ImageDraw.ImageDraw, xy, fill=None, width=0, dash_length=5, space_length=5) -> None:
    """A polyline drawn as alternating dashes and gaps that carry over from one segment to the next."""
    dash = True
    for (x1, y1), (x2, y2) in zip(xy[:-1], xy[1:]):
        remaining = math.hypot(x2 - x1, y2 - y1)
        angle = math.atan2(y2 - y1, x2 - x1)
        while remaining > 0:
            step = min(remaining, dash_length if dash else space_length)
            end_x, end_y = x1 + math.cos(angle) * step, y1 + math.sin(angle) * step
            if dash:
                draw.line([(x1, y1), (end_x, end_y)], fill, width, None)
            remaining -= step
            x1, y1 = end_x, end_y
            dash = not dash


@ferrotorch.no_grad()
def draw_segmentation_masks(image, masks, alpha: float = 0.8, colors: Optional[Union[list[Color], Color]] = None):
    """Blend boolean masks onto an RGB image.

    Args:
        image (Tensor): ``(3, H, W)``, uint8 in [0, 255] or float in [0, 1].
        masks (Tensor): ``(num_masks, H, W)`` or ``(H, W)`` bool masks.
        alpha (float): Opacity of the masks, 0 (invisible) to 1 (opaque). Default: 0.8.
        colors (color or list of colors, optional): One color for all masks or one per mask.
            Default: a generated palette.

    Returns:
        Tensor: ``(3, H, W)`` of the input's dtype: ``image * (1 - alpha) + colored * alpha``, where pixels
        covered by several masks are colored black.
    """
    if not isinstance(image, ferrotorch.Tensor):
        raise TypeError(f"The image must be a tensor, got {type(image)}")
    _check_rgb_image(image)
    if masks.ndim == 2:
        masks = masks[None, :, :]
    if masks.ndim != 3:
        raise ValueError("masks must be of shape (H, W) or (batch_size, H, W)")
    if masks.dtype != ferrotorch.bool:
        raise ValueError(f"The masks must be of dtype bool. Got {masks.dtype}")
    if tuple(masks.shape[-2:]) != tuple(image.shape[-2:]):
        raise ValueError("The image and the masks must have the same height and width")

    num_masks = masks.size(0)
    if num_masks == 0:
        warnings.warn("masks doesn't contain any mask. No mask was drawn")
        return image
    overlapping_masks = masks.sum(dim=0) > 1
    original_dtype = image.dtype
    colors = [
        ferrotorch.tensor(color, dtype=original_dtype)
        for color in _parse_colors(colors, num_objects=num_masks, dtype=original_dtype)
    ]
    img_to_draw = image.detach().clone()
    for i, color in enumerate(colors):
        img_to_draw[:, masks[i]] = color[:, None]
    img_to_draw[:, overlapping_masks] = 0
    out = image * (1 - alpha) + img_to_draw * alpha
    return out.to(original_dtype)


@ferrotorch.no_grad()
def draw_keypoints(
    image,
    keypoints,
    connectivity: Optional[list[tuple[int, int]]] = None,
    colors: Optional[Color] = None,
    radius: int = 2,
    width: int = 3,
    visibility=None,
):
    """Draw keypoints (filled circles) and the lines connecting them on an RGB image.

    Args:
        image (Tensor): ``(3, H, W)``, uint8 in [0, 255] or float in [0, 1].
        keypoints (Tensor): ``(num_instances, K, 2)`` keypoint ``(x, y)`` locations.
        connectivity (list of (int, int), optional): Pairs of keypoint indices to join with a line.
        colors (str or tuple, optional): Color of the keypoints (lines are drawn white).
        radius (int): Radius of the keypoint circles. Default: 2.
        width (int): Width of the connecting lines. Default: 3.
        visibility (Tensor, optional): ``(num_instances, K)``; invisible points and lines touching them are
            not drawn. Default: all visible.

    Returns:
        Tensor: ``(3, H, W)`` image of the input's dtype with the keypoints drawn.
    """
    if not isinstance(image, ferrotorch.Tensor):
        raise TypeError(f"The image must be a tensor, got {type(image)}")
    _check_rgb_image(image)
    if keypoints.ndim != 3:
        raise ValueError("keypoints must be of shape (num_instances, K, 2)")
    if visibility is None:
        visibility = ferrotorch.ones(tuple(keypoints.shape[:-1]), dtype=ferrotorch.bool)
    if visibility.ndim == 3:
        visibility = visibility.squeeze(-1)
    if visibility.ndim != 2:
        raise ValueError(f"visibility must be of shape (num_instances, K). Got ndim={visibility.ndim}")
    if tuple(visibility.shape) != tuple(keypoints.shape[:-1]):
        raise ValueError(
            "keypoints and visibility must have the same dimensionality for num_instances and K. "
            f"Got visibility.shape={tuple(visibility.shape)} and keypoints.shape={tuple(keypoints.shape)}"
        )

    original_dtype = image.dtype
    img_to_draw = F.to_pil_image(F.convert_image_dtype(image, ferrotorch.uint8))
    draw = ImageDraw.Draw(img_to_draw)
    for kpt_inst, vis_inst in zip(keypoints.to(ferrotorch.int64).tolist(), visibility.bool().tolist()):
        for (x, y), visible in zip(kpt_inst, vis_inst):
            if visible:
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colors, outline=None, width=0)
        for start, end in connectivity or ():
            if vis_inst[start] and vis_inst[end]:
                draw.line((tuple(kpt_inst[start]), tuple(kpt_inst[end])), width=width)
    return _from_uint8(F.pil_to_tensor(img_to_draw), original_dtype)


@ferrotorch.no_grad()
def flow_to_image(flow):
    """Color an optical flow by direction (hue) and magnitude (saturation), as in Baker et al. (ICCV 2007).

    Args:
        flow (Tensor): ``(N, 2, H, W)`` or ``(2, H, W)`` float32 flow.

    Returns:
        Tensor: ``(N, 3, H, W)`` or ``(3, H, W)`` uint8 image.
    """
    if flow.dtype != ferrotorch.float32:
        raise ValueError(f"Flow should be of dtype torch.float, got {flow.dtype}.")
    orig_shape = tuple(flow.shape)
    if flow.ndim == 3:
        flow = flow[None]
    if flow.ndim != 4 or flow.shape[1] != 2:
        raise ValueError(f"Input flow should have shape (2, H, W) or (N, 2, H, W), got {orig_shape}.")
    max_norm = ferrotorch.sum(flow.pow(2), dim=1).sqrt().max()
    normalized_flow = flow / (max_norm + float(np.finfo(np.float32).eps))
    img = _normalized_flow_to_image(normalized_flow)
    return img[0] if len(orig_shape) == 3 else img


def _normalized_flow_to_image(normalized_flow):
    """Color a flow whose magnitudes are at most 1: ``(N, 2, H, W)`` float -> ``(N, 3, H, W)`` uint8."""
    n, _, h, w = normalized_flow.shape
    flow_image = ferrotorch.zeros((n, 3, h, w), dtype=ferrotorch.uint8)
    colorwheel = _make_colorwheel()
    num_cols = colorwheel.shape[0]
    norm = ferrotorch.sum(normalized_flow.pow(2), dim=1).sqrt()
    a = ferrotorch.atan2(-normalized_flow[:, 1, :, :], -normalized_flow[:, 0, :, :]) / math.pi
    fk = (a + 1) / 2 * (num_cols - 1)
    k0 = ferrotorch.floor(fk).to(ferrotorch.long)
    k1 = k0 + 1
    k1[k1 == num_cols] = 0
    f = fk - k0
    for c in range(colorwheel.shape[1]):
        tmp = colorwheel[:, c]
        col0 = tmp[k0] / 255.0
        col1 = tmp[k1] / 255.0
        col = (1 - f) * col0 + f * col1
        col = 1 - norm * (1 - col)
        flow_image[:, c, :, :] = ferrotorch.floor(255 * col)
    return flow_image


def _make_colorwheel():
    """The 55-color wheel of Baker et al.: red-yellow-green-cyan-blue-magenta ramps, ``(55, 3)`` float."""
    ramps = (("RY", 15), ("YG", 6), ("GC", 4), ("CB", 11), ("BM", 13), ("MR", 6))
    wheel = np.zeros((sum(n for _, n in ramps), 3), dtype=np.float32)
    col = 0
    for name, n in ramps:
        up = np.floor(255 * np.arange(n, dtype=np.float32) / n)
        span = slice(col, col + n)
        # Each ramp holds one channel at 255 and moves another up or down.
        full, moving, rising = {
            "RY": (0, 1, True), "YG": (1, 0, False), "GC": (1, 2, True),
            "CB": (2, 1, False), "BM": (2, 0, True), "MR": (0, 2, False),
        }[name]  # fmt: skip
        wheel[span, full] = 255
        wheel[span, moving] = up if rising else 255 - up
        col += n
    return ferrotorch.from_numpy(wheel)


def _check_rgb_image(image) -> None:
    """The checks draw_segmentation_masks and draw_keypoints share: a single uint8/float RGB image."""
    if not (image.dtype == ferrotorch.uint8 or image.is_floating_point()):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    elif image.dim() != 3:
        raise ValueError("Pass individual images, not batches")
    elif image.size(0) != 3:
        raise ValueError("Pass an RGB image. Other Image formats are not supported")


def _from_uint8(image, dtype):
    """A uint8 image back to `dtype`, scaled to [0, 1] for float dtypes. Multiplies by 1/255 as
    torchvision's utils do (through transforms.v2's to_dtype), where v1's convert_image_dtype divides."""
    if dtype == ferrotorch.uint8:
        return image
    return image.to(dtype).mul_(1.0 / 255)


def _generate_color_palette(num_objects: int) -> list[tuple[int, int, int]]:
    """Distinct-looking RGB colors, the same as torchvision's default palette."""
    palette = (2**25 - 1, 2**15 - 1, 2**21 - 1)
    return [tuple((i * p) % 255 for p in palette) for i in range(num_objects)]


def _parse_colors(colors, *, num_objects: int, dtype=ferrotorch.uint8) -> list[tuple]:
    """One RGB tuple per object from None (the palette), one color, or a list of colors.

    Colors are PIL color strings or RGB tuples; for float dtypes they are scaled to [0, 1].
    """
    from_palette = colors is None
    if from_palette:
        colors = _generate_color_palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError(
                "Number of colors must be equal or larger than the number of objects, "
                f"but got {len(colors)} < {num_objects}."
            )
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f"colors must be a tuple or a string, or a list thereof, but got {colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got {colors}.")
    else:
        colors = [colors] * num_objects
    colors = [ImageColor.getrgb(color) if isinstance(color, str) else tuple(color) for color in colors]
    if dtype.is_floating_point:
        # torchvision's palette entries are integer tensors, so their [0, 1] values are float32.
        scale = (lambda v: float(np.float32(v) / np.float32(255))) if from_palette else (lambda v: v / 255)
        colors = [tuple(scale(v) for v in color) for color in colors]
    return colors


def _make_ntuple(x: Any, n: int) -> tuple[Any, ...]:
    """`x` as a tuple: an iterable converted, a scalar repeated `n` times."""
    if isinstance(x, collections.abc.Iterable):
        return tuple(x)
    return tuple(repeat(x, n))

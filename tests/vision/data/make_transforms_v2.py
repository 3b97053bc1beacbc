"""Write torchvision's transforms.v2 outputs on detection samples into transforms_v2_reference.npz/.json.

Run with an environment that has torch and torchvision (e.g. /work/torchenv):
    cd tests/vision/data && python make_transforms_v2.py
A sample is (image, {"boxes": BoundingBoxes, "masks": Mask, "labels": tensor}). The case table below is
shared: tests/vision/test_transforms_v2_reference.py runs the same cases with ferrovision (after
ferrotorch.manual_seed(SEED), which reproduces torch's generator, so random transforms draw the same
parameters) and compares with the stored arrays; tests/interop/test_torchvision_transforms_v2.py runs
them against torchvision itself.
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 7
HEIGHT, WIDTH = 24, 32


def make_arrays(seed: int = 0) -> dict:
    """A smooth-plus-noise uint8 image, boxes (some touching the borders) and a label mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.linspace(0, 1, HEIGHT), np.linspace(0, 1, WIDTH), indexing="ij")
    image = np.stack([xx, yy, 1 - xx * yy]) * 200 + rng.integers(0, 55, size=(3, HEIGHT, WIDTH))
    x1 = rng.uniform(0, WIDTH - 6, 5)
    y1 = rng.uniform(0, HEIGHT - 6, 5)
    w = rng.uniform(3, 14, 5)
    h = rng.uniform(3, 12, 5)
    boxes = np.stack([x1, y1, np.minimum(x1 + w, WIDTH), np.minimum(y1 + h, HEIGHT)], axis=1)
    boxes[0] = [0, 0, 10, 8]  # on the corner
    boxes[1] = [20, 14, WIDTH, HEIGHT]  # on the opposite corner
    masks = np.zeros((5, HEIGHT, WIDTH), dtype=np.uint8)
    for k, (a, b, c, d) in enumerate(np.round(boxes).astype(int)):
        masks[k, b:d, a:c] = 1
    return {
        "image": image.astype(np.uint8),
        "boxes": boxes.astype(np.float32),
        "masks": masks,
        "labels": np.arange(1, 6, dtype=np.int64),
    }


def _boxes_in(format, arrays):
    """The XYXY boxes of `arrays` in `format` (computed in NumPy float32, as the cases expect)."""
    b = arrays["boxes"]
    if format == "XYWH":
        return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)
    if format == "CXCYWH":
        return np.concatenate([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]], axis=1).astype(np.float32)
    return b


def make_sample(lib, tv_tensors, seed=0, format="XYXY", box_dtype=None, pil=False):
    """The sample as `lib` (torch or ferrotorch) tensors wrapped in `tv_tensors`."""
    from PIL import Image

    arrays = make_arrays(seed)
    if pil:
        image = Image.fromarray(np.ascontiguousarray(arrays["image"].transpose(1, 2, 0)))
    else:
        image = tv_tensors.Image(lib.from_numpy(arrays["image"]))
    boxes = lib.from_numpy(np.ascontiguousarray(_boxes_in(format, arrays)))
    if box_dtype is not None:
        boxes = boxes.to(getattr(lib, box_dtype))
    target = {
        "boxes": tv_tensors.BoundingBoxes(boxes, format=format, canvas_size=(HEIGHT, WIDTH)),
        "masks": tv_tensors.Mask(lib.from_numpy(arrays["masks"])),
        "labels": lib.from_numpy(arrays["labels"]),
    }
    return image, target


# name -> (sample options, build(T, lib) returning the transform). T is the library's transforms.v2.
def _cases() -> dict:
    cases = {}

    def add(name, build, **sample):
        cases[name] = (sample, build)

    add("RandomHorizontalFlip", lambda T, lib: T.RandomHorizontalFlip(p=1.0))
    add("RandomHorizontalFlip_xywh", lambda T, lib: T.RandomHorizontalFlip(p=1.0), format="XYWH")
    add("RandomHorizontalFlip_cxcywh", lambda T, lib: T.RandomHorizontalFlip(p=1.0), format="CXCYWH")
    add("RandomVerticalFlip", lambda T, lib: T.RandomVerticalFlip(p=1.0))
    add("RandomVerticalFlip_int", lambda T, lib: T.RandomVerticalFlip(p=1.0), box_dtype="int64")
    add("RandomHorizontalFlip_p", lambda T, lib: T.RandomHorizontalFlip(p=0.5))
    add("Resize", lambda T, lib: T.Resize((17, 40)))
    add("Resize_short_edge", lambda T, lib: T.Resize(16))
    add("Resize_max_size", lambda T, lib: T.Resize(None, max_size=20))
    add("Resize_nearest_int_boxes", lambda T, lib: T.Resize((30, 45), interpolation="nearest"), box_dtype="int64")
    add("Resize_pil", lambda T, lib: T.Resize((17, 40)), pil=True)
    add("CenterCrop", lambda T, lib: T.CenterCrop(15))
    add("CenterCrop_pads", lambda T, lib: T.CenterCrop((30, 40)))
    add("CenterCrop_xywh", lambda T, lib: T.CenterCrop((20, 10)), format="XYWH")
    add("RandomCrop_padding", lambda T, lib: T.RandomCrop(16, padding=4, fill=9))
    add("RandomCrop_pad_if_needed", lambda T, lib: T.RandomCrop((30, 36), pad_if_needed=True))
    add("RandomResizedCrop", lambda T, lib: T.RandomResizedCrop(16, antialias=True))
    add("RandomResizedCrop_cxcywh", lambda T, lib: T.RandomResizedCrop((12, 20), scale=(0.3, 0.9)), format="CXCYWH")
    add("Pad", lambda T, lib: T.Pad([1, 2, 3, 4], fill={tv_tensors_of(lib).Image: 7, "others": 0}))
    add("Pad_vector_fill", lambda T, lib: T.Pad(2, fill={tv_tensors_of(lib).Image: [10, 20, 30], "others": 0}))
    add("RandomRotation", lambda T, lib: T.RandomRotation(30))
    add("RandomRotation_expand", lambda T, lib: T.RandomRotation((40, 50), expand=True))
    add("RandomRotation_bilinear_center", lambda T, lib: T.RandomRotation(20, interpolation="bilinear", center=[5, 6]))
    add("RandomRotation_quarter_turn", lambda T, lib: T.RandomRotation((90, 90), expand=True))
    add("RandomAffine", lambda T, lib: T.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-5, 5, -5, 5)))
    add("RandomAffine_int_boxes", lambda T, lib: T.RandomAffine(15, scale=(0.9, 1.1)), box_dtype="int64")
    add("RandomAffine_xywh_fill", lambda T, lib: T.RandomAffine(10, shear=8, fill=3), format="XYWH")
    add("RandomPerspective", lambda T, lib: T.RandomPerspective(0.4, p=1.0))
    add("RandomPerspective_nearest", lambda T, lib: T.RandomPerspective(0.6, p=1.0, interpolation="nearest"))
    add("RandomZoomOut", lambda T, lib: T.RandomZoomOut(fill={tv_tensors_of(lib).Image: 5, "others": 0}, side_range=(1.0, 2.0), p=1.0))
    add("RandomIoUCrop", lambda T, lib: T.RandomIoUCrop())
    add("RandomIoUCrop_sanitize", lambda T, lib: T.Compose([T.RandomIoUCrop(), T.SanitizeBoundingBoxes()]))
    add("ColorJitter", lambda T, lib: T.ColorJitter(0.4, 0.4, 0.4, 0.1))
    add("RandomGrayscale", lambda T, lib: T.RandomGrayscale(p=1.0))
    add("Grayscale3", lambda T, lib: T.Grayscale(3))
    add("GaussianBlur", lambda T, lib: T.GaussianBlur(5, (0.5, 1.5)))
    add("ToDtype_scale", lambda T, lib: T.ToDtype(lib.float32, scale=True))
    add("ToDtype_dict", lambda T, lib: T.ToDtype({tv_tensors_of(lib).Image: lib.float64, tv_tensors_of(lib).Mask: lib.int64, "others": None}))
    add("Normalize", lambda T, lib: T.Compose([T.ToDtype(lib.float32, scale=True), T.Normalize([0.4, 0.5, 0.6], [0.2, 0.25, 0.3])]))
    add("RandomErasing", lambda T, lib: T.Compose([T.ToDtype(lib.float32, scale=True), T.RandomErasing(p=1.0, value=0.5)]))
    add("ConvertBoundingBoxFormat_xywh", lambda T, lib: T.ConvertBoundingBoxFormat("XYWH"))
    add("ConvertBoundingBoxFormat_cxcywh", lambda T, lib: T.ConvertBoundingBoxFormat("CXCYWH"), format="XYWH")
    add("ConvertBoundingBoxFormat_int", lambda T, lib: T.ConvertBoundingBoxFormat("CXCYWH"), box_dtype="int64")
    add("ClampBoundingBoxes", lambda T, lib: T.Compose([T.SetClampingMode(None), T.RandomAffine(30, translate=(0.3, 0.3)), T.ClampBoundingBoxes("soft")]))
    add("Unclamped_affine", lambda T, lib: T.Compose([T.SetClampingMode(None), T.RandomAffine(30, translate=(0.3, 0.3))]))
    add("SanitizeBoundingBoxes", lambda T, lib: T.Compose([T.RandomCrop(12), T.SanitizeBoundingBoxes(min_size=3)]))
    add(
        "detection_pipeline",
        lambda T, lib: T.Compose([
            T.RandomZoomOut(side_range=(1.0, 1.5), p=1.0), T.RandomIoUCrop(), T.RandomHorizontalFlip(),
            T.Resize((20, 20)), T.SanitizeBoundingBoxes(), T.ToDtype(lib.float32, scale=True),
        ]),
    )  # fmt: skip
    add(
        "RandomChoice_Order_Apply",
        lambda T, lib: T.Compose([
            T.RandomChoice([T.RandomVerticalFlip(1.0), T.CenterCrop(20), T.Pad(1)], p=[0.2, 0.3, 0.5]),
            T.RandomOrder([T.RandomHorizontalFlip(1.0), T.Resize((20, 30)), T.RandomRotation(10)]),
            T.RandomApply([T.RandomVerticalFlip(1.0)], p=0.5),
        ]),
    )  # fmt: skip
    return cases


def tv_tensors_of(lib):
    """torchvision.tv_tensors or ferrovision.tv_tensors, for the library `lib`."""
    if lib.__name__ == "torch":
        from torchvision import tv_tensors
    else:
        from ferrovision import tv_tensors
    return tv_tensors


CASES = _cases()


def run_case(name, T, lib, seed=SEED, sample_seed=0):
    """(image array, boxes array, masks array, labels array, canvas_size, box format) of one case."""
    options, build = CASES[name]
    tv_tensors = tv_tensors_of(lib)
    image, target = make_sample(lib, tv_tensors, sample_seed, **options)
    transform = build(T, lib)
    lib.manual_seed(seed)
    image, target = transform(image, target)
    if not hasattr(image, "shape"):  # PIL
        image = np.asarray(image).transpose(2, 0, 1)
    else:
        assert isinstance(image, tv_tensors.Image), type(image)
        image = image.numpy()
    boxes = target["boxes"]
    assert isinstance(boxes, tv_tensors.BoundingBoxes) and isinstance(target["masks"], tv_tensors.Mask)
    return {
        "image": np.asarray(image),
        "boxes": boxes.numpy(),
        "masks": target["masks"].numpy(),
        "labels": target["labels"].numpy(),
    }, {"canvas_size": list(boxes.canvas_size), "format": boxes.format.name}


def main() -> None:
    import torch
    import torchvision.transforms.v2 as T

    arrays, meta = {}, {}
    for name in CASES:
        out, info = run_case(name, T, torch)
        for key, value in out.items():
            arrays[f"{name}/{key}"] = value
        meta[name] = info
    np.savez_compressed(os.path.join(HERE, "transforms_v2_reference.npz"), **arrays)
    with open(os.path.join(HERE, "transforms_v2_reference.json"), "w") as f:
        json.dump({"cases": meta, "torchvision": __import__("torchvision").__version__}, f, indent=1, sort_keys=True)
    print(f"{len(meta)} cases written", file=sys.stderr)


if __name__ == "__main__":
    main()

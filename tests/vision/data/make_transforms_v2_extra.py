"""Write torchvision's outputs of the further transforms.v2 classes into transforms_v2_extra.npz/.json.

Run with an environment that has torch and torchvision (e.g. /work/torchenv):
    cd tests/vision/data && python make_transforms_v2_extra.py
The samples come from make_transforms_v2.py's arrays: a detection sample with keypoints added, a single
image (tensor or PIL), a batch of images with labels (MixUp, CutMix) and a video. Each case's output
leaves (in tree order) are stored as arrays, with their type names and canvas sizes; the case table is
shared by tests/vision/test_transforms_v2_extra.py (ferrovision after ferrotorch.manual_seed(SEED), whose
generator reproduces torch's) and tests/interop/test_torchvision_transforms_v2_extra.py (torchvision
itself, on other seeds).
"""

import importlib.util
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("make_transforms_v2", os.path.join(HERE, "make_transforms_v2.py"))
BASE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(BASE)
SEED = 11
ROTATED = np.array(
    [[3.0, 4.0, 9.0, 5.0, 30.0], [20.0, 3.0, 6.0, 12.0, -60.0], [2.0, 20.0, 14.0, 4.0, 135.0],
     [25.0, 12.0, 9.0, 9.0, 0.0]],
    dtype=np.float32,
)  # XYWHR boxes on the 24x32 canvas, some leaving it
KEYPOINTS = np.array([[0.0, 0.0], [3.5, 2.0], [31.0, 23.0], [16.0, 12.5], [30.2, 1.0]], dtype=np.float32)


def tv_tensors_of(lib):
    return BASE.tv_tensors_of(lib)


def make_sample(lib, kind, seed=0):
    """A sample of `kind`: detection, image, pil, float_image, batch, batch_probabilities, video."""
    from PIL import Image

    tv = tv_tensors_of(lib)
    arrays = BASE.make_arrays(seed)
    if kind == "detection":
        image, target = BASE.make_sample(lib, tv, seed)
        target["keypoints"] = tv.KeyPoints(lib.from_numpy(KEYPOINTS.copy()), canvas_size=(BASE.HEIGHT, BASE.WIDTH))
        return image, target
    if kind.startswith("rotated"):  # rotated_<format>_<clamping mode>
        _, format, clamping_mode = kind.split("_")
        fn = __import__(("torchvision" if lib.__name__ == "torch" else "ferrovision") + ".transforms.v2.functional",
                        fromlist=["convert_bounding_box_format"])  # fmt: skip
        boxes = fn.convert_bounding_box_format(lib.from_numpy(ROTATED.copy()), old_format="XYWHR", new_format=format)
        boxes = tv.BoundingBoxes(boxes, format=format, canvas_size=(BASE.HEIGHT, BASE.WIDTH),
                                 clamping_mode=None if clamping_mode == "none" else clamping_mode)  # fmt: skip
        return tv.Image(lib.from_numpy(arrays["image"])), boxes
    if kind == "image":
        return tv.Image(lib.from_numpy(arrays["image"]))
    if kind == "float_image":
        return tv.Image(lib.from_numpy(arrays["image"].astype(np.float32) / 255))
    if kind == "pil":
        return Image.fromarray(np.ascontiguousarray(arrays["image"].transpose(1, 2, 0)))
    rng = np.random.default_rng(seed + 100)
    if kind in ("batch", "batch_probabilities"):
        image = arrays["image"]
        images = np.stack([image, image[:, ::-1], image[:, :, ::-1], 255 - image])
        images = lib.from_numpy(np.ascontiguousarray(images).astype(np.float32) / 255)
        labels = rng.integers(0, 10, size=4).astype(np.int64)
        if kind == "batch_probabilities":
            labels = rng.dirichlet(np.ones(10), size=4).astype(np.float32)
        return images, lib.from_numpy(labels)
    if kind == "video":
        frames = np.stack([np.roll(arrays["image"], t, axis=2) for t in range(7)])
        return tv.Video(lib.from_numpy(frames))
    raise ValueError(kind)


class _FixedBeta:
    """A Beta distribution that always draws `value` and consumes no random numbers: ferrotorch's Gamma
    sampler draws other numbers than torch's (the values agree, the generator's state after them does
    not), so cases drawing after a Beta use this one."""

    def __init__(self, lib, value):
        self.lib, self.value = lib, value

    def sample(self, shape=()):
        return self.lib.tensor([self.value])


def _fixed_weights(transform):
    """AugMix with deterministic Dirichlet weights (the normalised parameters), for the same reason."""
    transform._sample_dirichlet = lambda params: params / params.sum(-1, keepdim=True)
    return transform


def _fixed_beta(transform, lib, value):
    transform._dist = _FixedBeta(lib, value)
    return transform


def _cases() -> dict:
    """name -> (sample kind, build(T, lib), atol, outliers): all but a fraction `outliers` of the output
    elements are within `atol` of torchvision's (atol None: compared loosely, see the tests)."""
    cases = {}

    def add(name, kind, build, atol=0, outliers=0.0):
        cases[name] = (kind, build, atol, outliers)

    tv = tv_tensors_of
    add("ScaleJitter", "detection", lambda T, lib: T.ScaleJitter((20, 28), scale_range=(0.5, 1.5)), atol=1)
    add("RandomShortestSize", "detection", lambda T, lib: T.RandomShortestSize([12, 16, 30], max_size=40), atol=1)
    add("RandomResize", "detection", lambda T, lib: T.RandomResize(10, 30), atol=1)
    add("ElasticTransform", "detection", lambda T, lib: T.ElasticTransform(alpha=20.0, sigma=3.0), atol=1)
    add("ElasticTransform_nearest_fill", "detection", lambda T, lib: T.ElasticTransform(
        alpha=(30.0, 10.0), sigma=(2.0, 4.0), interpolation="nearest", fill={tv(lib).Image: 9, "others": 0}))
    add("keypoints_geometry", "detection", lambda T, lib: T.Compose([
        T.RandomHorizontalFlip(1.0), T.RandomVerticalFlip(1.0), T.Pad([1, 2, 3, 4]), T.RandomCrop(20),
        T.RandomResizedCrop(16), T.CenterCrop(12), T.Resize((20, 24)),
    ]), atol=2)  # fmt: skip
    add("keypoints_affine", "detection", lambda T, lib: T.Compose([
        T.RandomAffine(25, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=5), T.RandomRotation(30),
        T.RandomPerspective(0.4, p=1.0),
    ]), atol=1, outliers=0.01)  # fmt: skip
    add("RandomPhotometricDistort", "detection", lambda T, lib: T.RandomPhotometricDistort(p=1.0), atol=1)
    add("RandomPhotometricDistort_half", "image", lambda T, lib: T.RandomPhotometricDistort(), atol=1)
    add("RandomChannelPermutation", "detection", lambda T, lib: T.RandomChannelPermutation())
    add("RGB", "detection", lambda T, lib: T.Compose([T.Grayscale(), T.RGB()]))
    add("random_colour_ops", "image", lambda T, lib: T.Compose([
        T.RandomInvert(0.7), T.RandomPosterize(3, 0.7), T.RandomSolarize(100, 0.7), T.RandomAutocontrast(0.7),
        T.RandomEqualize(0.7), T.RandomAdjustSharpness(2.0, 0.7),
    ]), atol=1)  # fmt: skip
    for policy in ("IMAGENET", "CIFAR10", "SVHN"):
        add(f"AutoAugment_{policy}", "image", lambda T, lib, p=policy: T.AutoAugment(T.AutoAugmentPolicy[p]),
            atol=1, outliers=0.01)  # fmt: skip
    add("AutoAugment_pil_fill", "pil", lambda T, lib: T.AutoAugment(T.AutoAugmentPolicy.SVHN, fill=[10, 20, 30]))
    add("RandAugment", "image", lambda T, lib: T.RandAugment(num_ops=4, magnitude=13), atol=1, outliers=0.01)
    add("RandAugment_float", "float_image", lambda T, lib: T.RandAugment(magnitude=20), atol=1e-5, outliers=0.01)
    add("TrivialAugmentWide", "image", lambda T, lib: T.Compose([T.TrivialAugmentWide() for _ in range(4)]),
        atol=1, outliers=0.01)  # fmt: skip
    add("TrivialAugmentWide_bilinear", "image", lambda T, lib: T.TrivialAugmentWide(interpolation="bilinear"), atol=1)
    add("AugMix", "image", lambda T, lib: _fixed_weights(T.AugMix()), atol=1, outliers=0.01)
    add("AugMix_pil_partial", "pil", lambda T, lib: _fixed_weights(T.AugMix(severity=5, chain_depth=2, all_ops=False)),
        atol=1, outliers=0.01)  # fmt: skip
    add("FiveCrop", "image", lambda T, lib: T.FiveCrop((10, 13)))
    add("TenCrop_vertical", "pil", lambda T, lib: T.TenCrop(11, vertical_flip=True))
    add("MixUp", "batch", lambda T, lib: T.MixUp(num_classes=10), atol=1e-6)
    add("CutMix", "batch", lambda T, lib: _fixed_beta(T.CutMix(alpha=0.7, num_classes=10), lib, 0.35), atol=1e-6)
    add("MixUp_probabilities", "batch_probabilities", lambda T, lib: T.MixUp(), atol=1e-6)
    add("GaussianNoise_uint8", "image", lambda T, lib: T.GaussianNoise(sigma=0.2))
    add("GaussianNoise_float", "float_image", lambda T, lib: T.GaussianNoise(mean=0.1, clip=False), atol=1e-6)
    add("UniformTemporalSubsample", "video", lambda T, lib: T.UniformTemporalSubsample(4))
    add("rotated_flips_xywhr", "rotated_XYWHR_soft", lambda T, lib: T.Compose([
        T.RandomHorizontalFlip(1.0), T.RandomVerticalFlip(1.0), T.Pad([1, 2, 3, 4]),
    ]))  # fmt: skip
    add("rotated_crops_cxcywhr", "rotated_CXCYWHR_hard", lambda T, lib: T.Compose([
        T.RandomCrop(20), T.RandomResizedCrop((18, 22), antialias=True), T.CenterCrop(16), T.Resize(20),
    ]), atol=2)  # fmt: skip
    add("rotated_affine_xyxyxyxy", "rotated_XYXYXYXY_soft", lambda T, lib: T.Compose([
        T.RandomAffine(25, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=5), T.RandomRotation(30),
        T.RandomPerspective(0.4, p=1.0),
    ]), atol=1, outliers=0.01)  # fmt: skip
    add("rotated_rotate_expand", "rotated_CXCYWHR_soft", lambda T, lib: T.RandomRotation((40, 50), expand=True))
    add("rotated_elastic_unclamped", "rotated_XYWHR_none", lambda T, lib: T.Compose([
        T.ElasticTransform(alpha=20.0, sigma=3.0), T.SanitizeBoundingBoxes(labels_getter=None),
    ]), atol=1)  # fmt: skip
    add("JPEG", "detection", lambda T, lib: T.JPEG((20, 90)), atol=None)  # codec: compared loosely
    return cases


CASES = _cases()


def _flatten(tree, lib):
    if lib.__name__ == "torch":
        from torch.utils._pytree import tree_flatten
    else:
        from ferrovision.transforms.v2._pytree import tree_flatten
    return tree_flatten(tree)[0]


def run_case(name, T, lib, seed=SEED, sample_seed=0):
    """({leaf index: array}, [(type name, canvas_size or None) per leaf]) of one case."""
    kind, build = CASES[name][:2]
    sample = make_sample(lib, kind, sample_seed)
    transform = build(T, lib)
    lib.manual_seed(seed)
    out = transform(sample)
    arrays, meta = {}, []
    for i, leaf in enumerate(_flatten(out, lib)):
        if hasattr(leaf, "numpy"):
            arrays[str(i)] = np.asarray(leaf.numpy())
        else:  # PIL
            arrays[str(i)] = np.asarray(leaf)
        canvas = getattr(leaf, "canvas_size", None)
        meta.append([type(leaf).__name__, list(canvas) if canvas is not None else None])
    return arrays, meta


def main() -> None:
    import torch
    import torchvision.transforms.v2 as T

    arrays, meta = {}, {}
    for name in CASES:
        out, info = run_case(name, T, torch)
        for key, value in out.items():
            arrays[f"{name}/{key}"] = value
        meta[name] = info
    np.savez_compressed(os.path.join(HERE, "transforms_v2_extra.npz"), **arrays)
    with open(os.path.join(HERE, "transforms_v2_extra.json"), "w") as f:
        json.dump({"cases": meta, "torchvision": __import__("torchvision").__version__}, f, indent=1, sort_keys=True)
    print(f"{len(meta)} cases written", file=sys.stderr)


if __name__ == "__main__":
    main()

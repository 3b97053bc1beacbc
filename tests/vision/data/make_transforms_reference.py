"""Write torchvision's outputs for the deterministic transforms into transforms_reference.npz/.json.

Run with an environment that has torch and torchvision (e.g. /work/torchenv):
    cd tests/vision/data && python make_transforms_reference.py
The case table below is shared: tests/vision/test_transforms_reference.py runs the same cases with
ferrovision and compares with the stored arrays; tests/interop/test_torchvision_transforms.py runs
them against torchvision itself.
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def make_arrays(seed: int = 0) -> dict:
    """Small deterministic test images as numpy arrays (CHW / BCHW)."""
    rng = np.random.default_rng(seed)
    u8 = rng.integers(0, 256, size=(3, 17, 23), dtype=np.uint8)
    # A smooth gradient plus noise, so that the blurs and hue shifts have structure to act on.
    yy, xx = np.meshgrid(np.linspace(0, 1, 17), np.linspace(0, 1, 23), indexing="ij")
    smooth = np.stack([xx, yy, 1 - xx * yy]) * 200 + rng.integers(0, 55, size=(3, 17, 23))
    return {
        "u8": u8,
        "smooth_u8": smooth.astype(np.uint8),
        "f32": rng.random((3, 9, 13), dtype=np.float32),  # small: float outputs compress badly
        "f64": rng.random((3, 13, 11)),
        "gray_u8": rng.integers(0, 256, size=(1, 17, 23), dtype=np.uint8),
        "batch_u8": rng.integers(0, 256, size=(2, 3, 11, 14), dtype=np.uint8),
        "batch_f32": rng.random((2, 3, 11, 14), dtype=np.float32),
    }


def make_inputs(lib, seed: int = 0) -> dict:
    """The test images as `lib` tensors (lib = torch or ferrotorch) and PIL images."""
    from PIL import Image

    arrays = make_arrays(seed)
    inputs = {name: lib.from_numpy(np.ascontiguousarray(a)) for name, a in arrays.items()}
    inputs["pil_rgb"] = Image.fromarray(np.ascontiguousarray(arrays["smooth_u8"].transpose(1, 2, 0)))
    inputs["pil_rgb_noise"] = Image.fromarray(np.ascontiguousarray(arrays["u8"].transpose(1, 2, 0)))
    inputs["pil_l"] = Image.fromarray(arrays["gray_u8"][0])
    return inputs


# name -> (input name, function(F, T, lib) returning a transform of one image). F is the library's
# transforms.functional, T its transforms module, lib torch or ferrotorch.
def _cases() -> dict:
    def on(*inputs):
        return inputs

    cases = {}

    def add(name, inputs, build):
        for inp in inputs:
            cases[f"{name}[{inp}]"] = (inp, build)

    tensors = on("u8", "f32", "batch_u8")
    pils = on("pil_rgb", "pil_l")
    everything = tensors + pils
    color = on("u8", "smooth_u8", "f32", "batch_u8", "pil_rgb", "pil_rgb_noise")
    I = lambda F, T: F.InterpolationMode  # noqa: E731

    add("to_tensor", pils, lambda F, T, lib: F.to_tensor)
    add("pil_to_tensor", pils, lambda F, T, lib: F.pil_to_tensor)
    add("ToTensor", pils, lambda F, T, lib: T.ToTensor())
    add("to_pil_image", on("u8", "f32", "gray_u8"), lambda F, T, lib: F.to_pil_image)
    add("ConvertImageDtype_float", on("u8", "batch_u8"), lambda F, T, lib: T.ConvertImageDtype(lib.float32))
    add("ConvertImageDtype_uint8", on("f32", "f64"), lambda F, T, lib: T.ConvertImageDtype(lib.uint8))
    add("convert_int16", on("u8",), lambda F, T, lib: lambda x: F.convert_image_dtype(x, lib.int16))
    add("Normalize", on("f32", "batch_f32", "f64"), lambda F, T, lib: T.Normalize([0.4, 0.5, 0.6], [0.2, 0.25, 0.3]))
    for mode in ("NEAREST", "NEAREST_EXACT", "BILINEAR", "BICUBIC"):
        for size in ((9, 31), 7, (17, 23)):
            add(f"Resize_{mode}_{size}", everything, lambda F, T, lib, m=mode, s=size: T.Resize(s, I(F, T)[m]))
    add("Resize_noaa_BILINEAR", tensors, lambda F, T, lib: T.Resize((8, 10), antialias=False))
    add("Resize_noaa_BICUBIC", tensors, lambda F, T, lib: T.Resize((30, 12), I(F, T).BICUBIC, antialias=False))
    add("Resize_max_size", everything, lambda F, T, lib: T.Resize(10, max_size=12))
    add("CenterCrop", everything, lambda F, T, lib: T.CenterCrop((9, 20)))
    add("CenterCrop_pad", everything, lambda F, T, lib: T.CenterCrop((20, 26)))
    add("FiveCrop", everything, lambda F, T, lib: T.FiveCrop((8, 9)))
    add("TenCrop", everything, lambda F, T, lib: T.TenCrop(7, vertical_flip=True))
    add("crop_outside", everything, lambda F, T, lib: lambda x: F.crop(x, -2, 5, 12, 25))
    add("resized_crop", everything, lambda F, T, lib: lambda x: F.resized_crop(x, 2, 3, 10, 12, [15, 7]))
    for mode in ("constant", "edge", "reflect", "symmetric"):
        add(f"Pad_{mode}", everything, lambda F, T, lib, m=mode: T.Pad((3, 1, 2, 4), fill=7, padding_mode=m))
    add("Pad_negative_symmetric", on("u8", "pil_rgb"), lambda F, T, lib: T.Pad([-1, 2], padding_mode="symmetric"))
    add("hflip", everything, lambda F, T, lib: F.hflip)
    add("vflip", everything, lambda F, T, lib: F.vflip)
    for angle in (30, -97.5):
        for mode in ("NEAREST", "BILINEAR"):
            add(
                f"rotate_{angle}_{mode}",
                everything,
                lambda F, T, lib, a=angle, m=mode: lambda x: F.rotate(x, a, I(F, T)[m], fill=[3.0]),
            )
    add("rotate_expand", everything, lambda F, T, lib: lambda x: F.rotate(x, 40.0, expand=True))
    add("rotate_center", everything, lambda F, T, lib: lambda x: F.rotate(x, 25.0, center=[3, 4]))
    for mode in ("NEAREST", "BILINEAR"):
        add(
            f"affine_{mode}",
            everything,
            lambda F, T, lib, m=mode: lambda x: F.affine(x, 15.0, [2, -3], 0.9, [10.0, -5.0], I(F, T)[m], fill=None),
        )
    add(
        "affine_center_fill",
        everything,
        lambda F, T, lib: lambda x: F.affine(x, -20.0, [1, 1], 1.2, [0.0, 12.0], fill=[9.0], center=[5, 6]),
    )
    for mode in ("NEAREST", "BILINEAR"):
        add(
            f"perspective_{mode}",
            everything,
            lambda F, T, lib, m=mode: lambda x: F.perspective(
                x, [[0, 0], [22, 0], [22, 16], [0, 16]], [[2, 1], [20, 3], [21, 15], [1, 14]], I(F, T)[m]
            ),
        )
    add("Grayscale1", color, lambda F, T, lib: T.Grayscale(1))
    add("Grayscale3", color, lambda F, T, lib: T.Grayscale(3))
    for factor in (0.4, 1.7):
        add(f"brightness_{factor}", everything, lambda F, T, lib, f=factor: lambda x: F.adjust_brightness(x, f))
        add(f"contrast_{factor}", everything, lambda F, T, lib, f=factor: lambda x: F.adjust_contrast(x, f))
        add(f"saturation_{factor}", everything, lambda F, T, lib, f=factor: lambda x: F.adjust_saturation(x, f))
        add(f"sharpness_{factor}", everything, lambda F, T, lib, f=factor: lambda x: F.adjust_sharpness(x, f))
    for hue in (-0.3, 0.1, 0.5):
        add(f"hue_{hue}", everything, lambda F, T, lib, h=hue: lambda x: F.adjust_hue(x, h))
    add("gamma", everything, lambda F, T, lib: lambda x: F.adjust_gamma(x, 0.7, 1.1))
    add("gaussian_blur", everything, lambda F, T, lib: lambda x: F.gaussian_blur(x, [5, 3], [1.2, 0.7]))
    add("gaussian_blur_default_sigma", everything, lambda F, T, lib: lambda x: F.gaussian_blur(x, 7))
    add("invert", everything, lambda F, T, lib: F.invert)
    u8s = on("u8", "smooth_u8", "batch_u8", "gray_u8", "pil_rgb", "pil_l")
    add("posterize", u8s, lambda F, T, lib: lambda x: F.posterize(x, 3))
    add("solarize", u8s, lambda F, T, lib: lambda x: F.solarize(x, 100))
    add("solarize_float", on("f32",), lambda F, T, lib: lambda x: F.solarize(x, 0.6))
    add("autocontrast", everything, lambda F, T, lib: F.autocontrast)
    add("equalize", u8s, lambda F, T, lib: F.equalize)
    add("erase", on("u8", "f32", "batch_f32"), lambda F, T, lib: lambda x: F.erase(x, 2, 3, 4, 5, lib.tensor(0.5)))
    add(
        "LinearTransformation",
        on("f64",),
        lambda F, T, lib: T.LinearTransformation(
            lib.from_numpy(np.eye(3 * 13 * 11)[::-1].copy() * 0.5), lib.from_numpy(np.linspace(0, 1, 3 * 13 * 11))
        ),
    )
    add(
        "elastic_transform",
        on("u8", "f32", "pil_rgb"),
        lambda F, T, lib: lambda x: F.elastic_transform(x, _displacement(lib, *F.get_dimensions(x)[1:])),
    )
    _add_seeded_cases(add, tensors, pils)
    return cases


def _seeded(lib, seed, transform):
    """Run `transform` right after `lib.manual_seed(seed)`: ferrotorch's default generator gives
    torch's stream, so the random parameters (and hence the outputs) must be torchvision's."""

    def run(img):
        lib.manual_seed(seed)
        return transform(img)

    return run


# Transforms whose parameters take several draws also run under a second seed.
_SECOND_SEED = ("RandomResizedCrop", "RandomPerspective", "RandomAffine", "ColorJitter", "AutoAugment", "RandAugment", "Trivial")


def _add_seeded_cases(add, tensors, pils):
    everything = ("u8", "f32", "pil_rgb")
    u8 = ("u8", "pil_rgb")
    I = lambda T: T.InterpolationMode  # noqa: E731
    A = lambda T: T  # the autoaugment classes are re-exported by both transforms modules  # noqa: E731
    for seed in (0, 7):
        def seeded(name, inputs, build, seed=seed):
            if seed != 0 and not name.startswith(_SECOND_SEED):
                return
            add(f"seed{seed}_{name}", inputs, lambda F, T, lib: _seeded(lib, seed, build(F, T, lib)))

        seeded("RandomCrop", everything, lambda F, T, lib: T.RandomCrop((9, 12), padding=2, padding_mode="reflect"))
        seeded("RandomCrop_pad_if_needed", everything, lambda F, T, lib: T.RandomCrop(20, pad_if_needed=True, fill=5))
        seeded("RandomResizedCrop", everything, lambda F, T, lib: T.RandomResizedCrop((8, 10)))
        seeded("RandomResizedCrop_nearest", everything, lambda F, T, lib: T.RandomResizedCrop(6, (0.3, 0.5), interpolation=I(T).NEAREST))
        seeded("RandomHorizontalFlip", everything, lambda F, T, lib: T.RandomHorizontalFlip())
        seeded("RandomVerticalFlip", everything, lambda F, T, lib: T.RandomVerticalFlip())
        seeded("RandomRotation", everything, lambda F, T, lib: T.RandomRotation(40, fill=3))
        seeded("RandomRotation_expand", everything, lambda F, T, lib: T.RandomRotation((10, 50), I(T).BILINEAR, expand=True))
        seeded("RandomAffine", everything, lambda F, T, lib: T.RandomAffine(20, (0.2, 0.1), (0.7, 1.3), (-5, 5, -8, 8), fill=[1, 2, 3][: 1]))
        seeded("RandomPerspective", everything, lambda F, T, lib: T.RandomPerspective(0.6, p=1.0, fill=4))
        seeded("ColorJitter", ("u8", "f32", "pil_rgb"), lambda F, T, lib: T.ColorJitter(0.5, 0.5, 0.5, 0.2))
        seeded("RandomGrayscale", ("u8", "pil_rgb"), lambda F, T, lib: T.RandomGrayscale(0.5))
        seeded("GaussianBlur", everything, lambda F, T, lib: T.GaussianBlur(5, (0.5, 2.0)))
        seeded("RandomErasing", ("u8", "batch_f32"), lambda F, T, lib: T.RandomErasing(1.0, value=(1, 2, 3)))
        seeded("RandomErasing_random", ("f32",), lambda F, T, lib: T.RandomErasing(1.0, value="random"))
        seeded("RandomInvert", everything, lambda F, T, lib: T.RandomInvert())
        seeded("RandomPosterize", u8, lambda F, T, lib: T.RandomPosterize(2))
        seeded("RandomSolarize", u8, lambda F, T, lib: T.RandomSolarize(90))
        seeded("RandomAdjustSharpness", everything, lambda F, T, lib: T.RandomAdjustSharpness(3.0))
        seeded("RandomAutocontrast", everything, lambda F, T, lib: T.RandomAutocontrast())
        seeded("RandomEqualize", u8, lambda F, T, lib: T.RandomEqualize())
        seeded("RandomApply", everything, lambda F, T, lib: T.RandomApply([T.RandomInvert(1.0), T.CenterCrop(5)], p=0.5))
        seeded("ElasticTransform", ("u8", "f32", "pil_rgb"), lambda F, T, lib: T.ElasticTransform(30.0, 1.0))
        for policy in ("IMAGENET", "CIFAR10", "SVHN"):
            seeded(f"AutoAugment_{policy}", u8, lambda F, T, lib, p=policy: A(T).AutoAugment(A(T).AutoAugmentPolicy[p]))
        seeded("RandAugment", u8, lambda F, T, lib: A(T).RandAugment(num_ops=3, fill=[10, 20, 30][:1]))
        seeded("TrivialAugmentWide", u8, lambda F, T, lib: A(T).TrivialAugmentWide())


def _displacement(lib, h: int, w: int):
    """A fixed smooth-ish (1, h, w, 2) displacement field for elastic_transform."""
    return lib.from_numpy(np.sin(np.arange(h * w * 2, dtype=np.float32) * 0.37).reshape(1, h, w, 2) * 0.1)


CASES = _cases()

# Two kinds of tensor case are not bit-identical, for float-rounding reasons only:
# - bilinear/bicubic resizes of integer images go through float32; the antialiased ones accumulate
#   in a different order than ATen's vectorised kernel and ferrotorch's interpolate rounds slightly
#   differently from ATen's (values agree to ~1e-7 relative), so a pixel whose exact value sits on
#   a .5 can round the other way;
# - perspective solves its 8x8 system with NumPy's least squares, not LAPACK's gels as torch does,
#   so a coefficient can differ in its last float32 bit.
_ANTIALIASED = ("Resize_BILINEAR", "Resize_BICUBIC", "Resize_noaa", "Resize_max_size", "resized_crop", "RandomResizedCrop")


def tolerance(name: str, dtype) -> tuple[float, float]:
    """(absolute tolerance, largest fraction of differing elements) for case `name`."""
    base = name.split("[")[0].split("_", 1)[-1] if name.startswith("seed") else name
    tensor = not CASES[name][0].startswith("pil")
    perspective = "erspective" in base
    blur = base.lower().startswith("gaussian")  # conv2d sums in another order than ATen's
    if np.dtype(dtype).kind in "iu":
        if tensor and (base.startswith(_ANTIALIASED) or perspective or blur):
            return 1.0, 0.01
        return 0.0, 0.0
    return (1e-4 if perspective else 1e-5), 1.0


def _to_array(out):
    """A numpy array (stacked for tuples) and a description of the output's type."""
    from PIL import Image

    if isinstance(out, (tuple, list)):
        parts = [_to_array(o) for o in out]
        return np.stack([p[0] for p in parts]), "tuple:" + parts[0][1]
    if isinstance(out, Image.Image):
        return np.asarray(out).copy(), f"PIL:{out.mode}"
    return out.numpy().copy(), f"tensor:{str(out.dtype).replace('torch.', '')}"


def run_case(name: str, F, T, lib, inputs):
    """Output of case `name` as (array, kind)."""
    inp, build = CASES[name]
    return _to_array(build(F, T, lib)(inputs[inp]))


def repr_cases(T, A, lib) -> dict:
    """repr() of every transform class under a few constructions (T = transforms, A = autoaugment)."""
    I = T.InterpolationMode  # noqa: E741
    objs = {
        "Compose": T.Compose([T.CenterCrop(10), T.PILToTensor(), T.ConvertImageDtype(lib.float32)]),
        "ToTensor": T.ToTensor(),
        "PILToTensor": T.PILToTensor(),
        "ToPILImage": T.ToPILImage(),
        "ToPILImage_mode": T.ToPILImage(mode="RGB"),
        "ConvertImageDtype": T.ConvertImageDtype(lib.float32),
        "Normalize": T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225), inplace=True),
        "Resize": T.Resize(256),
        "Resize_full": T.Resize([32, 48], I.BICUBIC, max_size=None, antialias=False),
        "CenterCrop": T.CenterCrop(224),
        "Pad": T.Pad([1, 2], fill=(1, 2, 3), padding_mode="reflect"),
        "Lambda": T.Lambda(lambda x: x),
        "RandomApply": T.RandomApply([T.RandomHorizontalFlip(), T.RandomVerticalFlip(0.3)], p=0.7),
        "RandomChoice": T.RandomChoice([T.RandomInvert(), T.RandomEqualize()], p=[0.2, 0.8]),
        "RandomOrder": T.RandomOrder([T.RandomInvert(), T.RandomEqualize()]),
        "RandomCrop": T.RandomCrop(32, padding=4),
        "RandomHorizontalFlip": T.RandomHorizontalFlip(),
        "RandomVerticalFlip": T.RandomVerticalFlip(0.25),
        "RandomResizedCrop": T.RandomResizedCrop(224),
        "RandomResizedCrop_full": T.RandomResizedCrop((20, 30), (0.5, 0.9), (0.5, 2.0), I.NEAREST, False),
        "FiveCrop": T.FiveCrop(10),
        "TenCrop": T.TenCrop((10, 12), vertical_flip=True),
        "ColorJitter": T.ColorJitter(0.4, 0.4, 0.4, 0.1),
        "ColorJitter_default": T.ColorJitter(),
        "ColorJitter_ranges": T.ColorJitter((0.5, 1.5), [0.8, 1.0], 0.0, (-0.2, 0.3)),
        "RandomRotation": T.RandomRotation(30),
        "RandomRotation_full": T.RandomRotation((-10, 20), I.BILINEAR, True, [3, 4], fill=[1, 2, 3]),
        "RandomAffine": T.RandomAffine(15),
        "RandomAffine_full": T.RandomAffine(
            (-5, 10), (0.1, 0.2), (0.8, 1.2), (1, 2, 3, 4), I.BILINEAR, fill=7, center=(2, 3)
        ),
        "Grayscale": T.Grayscale(3),
        "RandomGrayscale": T.RandomGrayscale(),
        "RandomPerspective": T.RandomPerspective(0.3, 0.6),
        "RandomErasing": T.RandomErasing(value="random"),
        "RandomErasing_full": T.RandomErasing(0.7, (0.1, 0.2), (0.5, 2.0), (1, 2, 3), True),
        "GaussianBlur": T.GaussianBlur(5),
        "GaussianBlur_full": T.GaussianBlur((3, 7), 1.5),
        "RandomInvert": T.RandomInvert(),
        "RandomPosterize": T.RandomPosterize(4, p=0.2),
        "RandomSolarize": T.RandomSolarize(128),
        "RandomAdjustSharpness": T.RandomAdjustSharpness(2.0),
        "RandomAutocontrast": T.RandomAutocontrast(),
        "RandomEqualize": T.RandomEqualize(0.9),
        "ElasticTransform": T.ElasticTransform(),
        "ElasticTransform_full": T.ElasticTransform((10.0, 20.0), 3.0, I.NEAREST, fill=[1, 2]),
        "AutoAugment": A.AutoAugment(),
        "AutoAugment_svhn": A.AutoAugment(A.AutoAugmentPolicy.SVHN, fill=[1, 2, 3]),
        "RandAugment": A.RandAugment(),
        "TrivialAugmentWide": A.TrivialAugmentWide(interpolation=I.BILINEAR),
        "AugMix": A.AugMix(),
        "LinearTransformation": T.LinearTransformation(lib.eye(2, dtype=lib.float64), lib.zeros(2, dtype=lib.float64)),
    }
    return {name: repr(obj) for name, obj in objs.items()}


def main() -> None:
    import torch
    import torchvision.transforms as T
    import torchvision.transforms.autoaugment as A
    import torchvision.transforms.functional as F

    inputs = make_inputs(torch)
    arrays, kinds = {}, {}
    for name in CASES:
        arr, kind = run_case(name, F, T, torch, inputs)
        arrays[name] = arr
        kinds[name] = kind
    np.savez_compressed(os.path.join(HERE, "transforms_reference.npz"), **arrays)
    meta = {"kinds": kinds, "reprs": repr_cases(T, A, torch), "torchvision": __import__("torchvision").__version__}
    with open(os.path.join(HERE, "transforms_reference.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    print(f"{len(arrays)} cases written", file=sys.stderr)


if __name__ == "__main__":
    main()
